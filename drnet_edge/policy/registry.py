"""Resolution policies: rules that decide, per image, which resolutions run and whose answer counts.

A policy sees the per-image outcomes at every candidate resolution (:class:`Predictions`) and returns
a :class:`Decision`: the resolution index whose answer is returned (``final``) and every resolution
that had to run to get there (``ran``). Single-pass policies (``fixed-R``, ``drnet``) run one
resolution per image; a ``cascade`` runs a chain of resolutions and stops at the first confident one,
so an escalated image pays for every pass.

Names (``expand_policies``): the family is the text before the first ``-``, the rest its argument:

* ``fixed`` (every resolution), ``fixed-160``
* ``oracle``, ``oracle-agree`` (bounds, not results)
* ``drnet`` (the predictor's argmax), ``drnet-escalate:0.7`` (predictor, then the largest resolution
  when the chosen one's max softmax is below 0.7)
* ``cascade-160:0.7-224``: run 160; accept when its max softmax >= 0.7, else run 224. Stages are
  ``R:T`` (resolution and threshold), the last one a bare ``R``; e.g. ``cascade-128:0.8-160:0.7-224``.
  ``cascade-margin-160:0.2-224`` compares the top-1 minus top-2 softmax probability instead.
* ``random`` (the control of ``drnet``), ``random-<policy>``: the control of any dynamic policy, the
  same per-image decisions (resolutions run, resolution answered) dealt to the images at random.
* ``default``: the model's default policy (chosen by ``drnet-edge calibrate``), with its control;
  ``random-default``: the control alone.

Register a new family with ``@register_policy``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from .spec import Chain, cascade_arrays, parse_chain, parse_threshold


@dataclass
class Predictions:
    """Per-image outcomes at each candidate resolution (resolutions sorted largest first)."""

    resolutions: list[int]
    labels: np.ndarray  # (N,) int, -1 where unknown
    top1: np.ndarray  # (N, K) predicted class at each resolution (-2 where not run)
    confidence: np.ndarray  # (N, K) max softmax probability
    paths: list[str] = field(default_factory=list)
    predictor_choice: np.ndarray | None = None  # (N,) index chosen by a DRNet predictor
    margin: np.ndarray | None = None  # (N, K) top-1 minus top-2 softmax probability

    @property
    def n(self) -> int:
        return int(self.labels.shape[0])

    @property
    def labelled(self) -> bool:
        return bool(self.n) and bool((self.labels >= 0).all())

    def correct(self) -> np.ndarray:
        """(N, K) bool: prediction at each resolution equals the label."""
        return self.top1 == self.labels[:, None]

    def agree(self) -> np.ndarray:
        """(N, K) bool: prediction at each resolution equals the one at the largest."""
        return self.top1 == self.top1[:, :1]

    def subset(self, rows: np.ndarray) -> Predictions:
        """The predictions of the images ``rows`` (indices or a boolean mask)."""
        pick = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        opt = lambda a: None if a is None else a[pick]  # noqa: E731
        return Predictions(
            list(self.resolutions),
            self.labels[pick],
            self.top1[pick],
            self.confidence[pick],
            [self.paths[i] for i in pick] if self.paths else [],
            opt(self.predictor_choice),
            opt(self.margin),
        )


@dataclass
class Decision:
    """What a policy did per image: the resolution answered from and every resolution that ran."""

    final: np.ndarray  # (N,) resolution index whose prediction is the answer
    ran: np.ndarray  # (N, K) bool: resolutions run for the image (final included)
    uses_predictor: bool = False  # the predictor ran on every image's thumbnail

    @classmethod
    def single(cls, final: np.ndarray, k: int, uses_predictor: bool = False) -> Decision:
        """One pass per image, at ``final``."""
        final = np.array(final, dtype=np.int64)  # a copy: callers may edit it
        ran = np.zeros((len(final), k), dtype=bool)
        ran[np.arange(len(final)), final] = True
        return cls(final, ran, uses_predictor)

    def permuted(self, seed: int = 0) -> Decision:
        """The same decisions dealt to the images at random: the chance-level control."""
        perm = np.random.default_rng(seed).permutation(len(self.final))
        return Decision(self.final[perm], self.ran[perm], self.uses_predictor)


@dataclass(frozen=True)
class Policy:
    """A named rule ``Predictions -> Decision``."""

    name: str
    decide: Callable[[Predictions], Decision]
    description: str
    upper_bound: bool = False  # uses the labels or all resolutions' outputs: a bound, not a result
    needs_labels: bool = False
    needs_predictor: bool = False
    control_of: str | None = None  # the dynamic policy this row is the chance-level twin of
    dynamic: bool = False  # decides per image (has, or is, a control)
    spec: dict | None = None  # what a runtime needs to run it (see drnet_edge.policy.spec.run_spec)


def smallest_true(mask: np.ndarray) -> np.ndarray:
    """Per row, the index of the smallest resolution (last column) where ``mask`` holds.

    Columns run largest -> smallest; rows with no True fall back to the smallest resolution.
    """
    k = mask.shape[1]
    rev = mask[:, ::-1]
    first = np.where(rev.any(axis=1), rev.argmax(axis=1), 0)
    return (k - 1 - first).astype(np.int64)


PolicyFactory = Callable[[list[int], str | None], list[Policy]]
_FAMILIES: dict[str, PolicyFactory] = {}
# per family, its written forms, each with one example (what the unknown-policy error lists)
_FORMS: dict[str, tuple[str, ...]] = {
    "default": ("default (the model's calibrated policy)",),
    "baseline": ("baseline (--baseline CKPT at its own resolution)",),
}


def register_policy(name: str, *forms: str) -> Callable[[PolicyFactory], PolicyFactory]:
    """Decorator for a factory ``(resolutions, argument) -> [Policy, ...]`` named ``name``; ``forms``
    are its written forms with an example each (e.g. ``"fixed-R (fixed-160)"``), shown when a name is
    not understood."""

    def deco(fn: PolicyFactory) -> PolicyFactory:
        _FAMILIES[name] = fn
        _FORMS[name] = forms or (name,)
        return fn

    return deco


def policy_forms() -> str:
    """Every family's forms with an example each, on one line: what the unknown-policy error shows."""
    return "; ".join(", ".join(_FORMS[f]) for f in list_policies())


def list_policies() -> list[str]:
    """Policy family names, plus the pseudo-names ``default`` and ``baseline``."""
    return sorted([*_FAMILIES, "default", "baseline"])


@register_policy("fixed", "fixed (every resolution)", "fixed-R (fixed-160)")
def _fixed(resolutions: list[int], arg: str | None) -> list[Policy]:
    if arg is None:
        picks = list(resolutions)
    else:
        try:
            picks = [int(arg)]
        except ValueError:
            raise ConfigError(f"policy 'fixed-{arg}': {arg!r} is not a resolution") from None
        if picks[0] not in resolutions:
            raise ConfigError(f"policy 'fixed-{arg}': {arg} is not among the resolutions {resolutions}")

    def make(r: int) -> Policy:
        k = resolutions.index(r)

        def decide(p: Predictions) -> Decision:
            return Decision.single(np.full(p.n, k), len(p.resolutions))

        return Policy(
            f"fixed-{r}",
            decide,
            f"every image at {r}px",
            spec={"kind": "fixed", "resolution_index": k},
        )

    return [make(r) for r in picks]


@register_policy("oracle", "oracle (uses labels: a bound)", "oracle-agree")
def _oracle(resolutions: list[int], arg: str | None) -> list[Policy]:
    def bound(name: str, mask: Callable[[Predictions], np.ndarray], text: str, labels: bool) -> Policy:
        return Policy(
            name,
            lambda p: Decision.single(smallest_true(mask(p)), len(p.resolutions)),
            text,
            upper_bound=True,
            needs_labels=labels,
        )

    if arg == "agree":
        text = "smallest resolution whose top-1 equals the top-1 at the largest (label-free bound)"
        return [bound("oracle-agree", Predictions.agree, text, False)]
    if arg is not None:
        raise ConfigError(f"unknown policy 'oracle-{arg}'; did you mean 'oracle-agree'?")
    text = "smallest resolution whose prediction is correct (upper bound, uses labels)"
    return [bound("oracle", Predictions.correct, text, True)]


def predictor_choice(p: Predictions) -> np.ndarray:
    if p.predictor_choice is None:
        raise ConfigError("this policy needs a DRNet model with a resolution predictor (--model)")
    return p.predictor_choice


@register_policy("drnet", "drnet (the predictor's choice)", "drnet-escalate:T (drnet-escalate:0.7)")
def _drnet(resolutions: list[int], arg: str | None) -> list[Policy]:
    if arg is None:
        return [
            Policy(
                "drnet",
                lambda p: Decision.single(predictor_choice(p), len(p.resolutions), uses_predictor=True),
                "the resolution predictor's argmax (one backbone pass per image)",
                needs_predictor=True,
                dynamic=True,
                spec={"kind": "drnet"},
            )
        ]
    return [_escalate_policy(resolutions, arg)]


@register_policy("random", "random (drnet's control)", "random-POLICY (random-cascade-160:0.7-224)")
def _random(resolutions: list[int], arg: str | None) -> list[Policy]:
    of = expand_policies([arg or "drnet"], resolutions, with_controls=False)[0]
    if not of.dynamic:
        raise ConfigError(f"policy 'random-{arg}': {of.name} is not a dynamic policy (no control needed)")
    return [control_of(of)]


def control_of(policy: Policy) -> Policy:
    """The chance-level twin of ``policy``: its decisions, dealt to the images at random (same MACs)."""
    name = "random" if policy.name == "drnet" else f"random-{policy.name}"
    return Policy(
        name,
        lambda p: policy.decide(p).permuted(),
        f"control: {policy.name}'s per-image decisions (same resolutions run) assigned at random",
        needs_predictor=policy.needs_predictor,
        control_of=policy.name,
    )


def expand_policies(
    names: list[str], resolutions: list[int], *, default: str | None = None, with_controls: bool = True
) -> list[Policy]:
    """Turn user policy names into concrete policies, rejecting unknown ones before any work.

    ``default`` is the model's default policy name (``default`` expands to it). With
    ``with_controls`` every multi-pass dynamic policy brings its chance-level control along.
    """
    out: list[Policy] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name in ("default", "random-default"):
            if default is None:
                raise ConfigError(
                    f"policy {name!r}: this model records no default policy (none was calibrated); choose one with "
                    "drnet-edge calibrate --model MODEL --data PHOTOS --out NEW.pt, or name the policies to score "
                    "(e.g. fixed,drnet)"
                )
            name = default if name == "default" else f"random-{default}"
        family, _, arg = name.partition("-")
        if family not in _FAMILIES:
            raise ConfigError(f"unknown policy {name!r}; the policies are written: {policy_forms()}")
        found = _FAMILIES[family](resolutions, arg or None)
        if with_controls:
            found += [control_of(p) for p in found if p.dynamic and p.name != "drnet"]
        for pol in found:
            if pol.name not in {p.name for p in out}:
                out.append(pol)
    if not out:
        raise ConfigError("no policy given")
    return out


_DECIMAL_COMMA = re.compile(r"([^,]*:(-?\d*),(\d+)[^,]*)")  # 'cascade-160:0,8-224': a comma inside a threshold


def policy_names(text: str | list[str] | tuple[str, ...], flag: str = "--policies") -> list[str]:
    """``"fixed, cascade-160:0.7-224"`` (or a list) -> the names, blanks dropped. Text that names no policy
    (``''``) and a decimal comma in a threshold (``cascade-160:0,8-224``, which the commas between
    policies would cut in two) are refused, naming ``flag``."""
    if isinstance(text, str):
        comma = _DECIMAL_COMMA.search(text)
        if comma:
            spec, number = comma.group(1).strip(), f"{comma.group(2)},{comma.group(3)}"
            raise ConfigError(
                f"{flag}: policy {spec!r}: threshold {number!r} is not a number; write decimals with a dot "
                f"({number.replace(',', '.')}): commas separate policies"
            )
        items = text.split(",")
    else:
        items = list(text)
    names = [name.strip() for name in items if name.strip()]
    if not names:
        raise ConfigError(
            f"{flag} {text!r} names no policy; give some (e.g. fixed,default or fixed,drnet), or leave {flag} out "
            "for the model's default set"
        )
    return names


def check_policy_syntax(names: list[str]) -> None:
    """Each policy name's syntax, before any model loads (a typo costs no model load). Every whole number
    in the names stands in for a resolution and ``default`` for a dynamic policy, so only the names
    themselves can fail here; :func:`expand_policies` checks them against the model later."""
    names = [n for n in names if n != "baseline"]
    if not names:
        return
    numbers = {int(t) for n in names for t in re.findall(r"\d+", n)}
    expand_policies(names, sorted(numbers | {1}, reverse=True), default="drnet", with_controls=False)


# ---------------------------------------------------------------------------------------------
# Multi-pass policies: a cascade over resolutions, and the predictor with escalation
# ---------------------------------------------------------------------------------------------


def cascade_decision(confidence: np.ndarray, chain: Chain, resolutions: list[int]) -> Decision:
    """Replay ``chain`` on per-image confidences at every resolution."""
    return Decision(*cascade_arrays(confidence, chain, resolutions))


def signal_of(p: Predictions, signal: str) -> np.ndarray:
    """The (N, K) values a cascade stage compares with its threshold."""
    if signal == "max_softmax":
        return p.confidence
    if p.margin is None:
        raise ConfigError("a margin cascade needs the top-2 margin of every output; these predictions lack it")
    return p.margin


@register_policy("cascade", "cascade-R:T-R (cascade-160:0.7-224)", "cascade-margin-R:T-R (cascade-margin-160:0.2-224)")
def _cascade(resolutions: list[int], arg: str | None) -> list[Policy]:
    if arg is None:
        raise ConfigError("policy 'cascade' needs its stages, e.g. cascade-160:0.7-224 (or use 'default')")
    chain = parse_chain(arg, resolutions)
    what = "max softmax" if chain.signal == "max_softmax" else "top-1 minus top-2 softmax"
    text = " -> ".join(
        f"{r} (accept if {what} >= {t:g})" for r, t in zip(chain.resolutions, chain.thresholds, strict=False)
    )
    return [
        Policy(
            chain.name,
            lambda p: cascade_decision(signal_of(p, chain.signal), chain, p.resolutions),
            f"cascade: {text} -> {chain.resolutions[-1]}; an escalated image pays for every pass",
            dynamic=True,
            spec=chain.to_json(),
        )
    ]


def _escalate_policy(resolutions: list[int], arg: str) -> Policy:
    """``drnet-escalate:T``: the predictor's choice, then the largest resolution when unsure."""
    kind, _, t_text = arg.partition(":")
    if kind != "escalate" or not t_text:
        raise ConfigError(f"unknown policy 'drnet-{arg}'; did you mean drnet-escalate:0.7?")
    t = parse_threshold(t_text, f"policy 'drnet-{arg}'")

    def decide(p: Predictions) -> Decision:
        choice = predictor_choice(p)
        d = Decision.single(choice, len(p.resolutions), uses_predictor=True)
        unsure = (choice != 0) & (p.confidence[np.arange(p.n), choice] < t)
        d.final[unsure] = 0
        d.ran[unsure, 0] = True
        return d

    return Policy(
        f"drnet-escalate:{t:g}",
        decide,
        f"the predictor's choice; rerun at {resolutions[0]}px when its max softmax < {t:g}",
        needs_predictor=True,
        dynamic=True,
        spec={"kind": "drnet-escalate", "threshold": t},
    )
