"""Resolution policies: rules that pick one candidate resolution per image.

A policy sees the per-image predictions at every candidate resolution (:class:`Predictions`)
and returns, per image, an index into ``Predictions.resolutions``. Register a new family with
``@register_policy``; ``expand_policies`` turns user names (``fixed``, ``fixed-160``,
``oracle`` ...) into concrete policies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import ConfigError


@dataclass
class Predictions:
    """Per-image outcomes at each candidate resolution (resolutions sorted largest first)."""

    resolutions: list[int]
    labels: np.ndarray  # (N,) int, -1 where unknown
    top1: np.ndarray  # (N, K) predicted class at each resolution
    confidence: np.ndarray  # (N, K) max softmax probability
    paths: list[str] = field(default_factory=list)
    predictor_choice: np.ndarray | None = None  # (N,) index chosen by a DRNet predictor

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


@dataclass(frozen=True)
class Policy:
    """A named rule ``Predictions -> chosen resolution index per image``."""

    name: str
    choose: Callable[[Predictions], np.ndarray]
    description: str
    upper_bound: bool = False  # uses the labels or all resolutions' outputs: a bound, not a result
    needs_labels: bool = False
    needs_predictor: bool = False


def smallest_true(mask: np.ndarray) -> np.ndarray:
    """Per row, the index of the smallest resolution (last column) where ``mask`` holds.

    Columns run largest -> smallest; rows with no True fall back to the smallest resolution.
    """
    k = mask.shape[1]
    rev = mask[:, ::-1]
    first = np.where(rev.any(axis=1), rev.argmax(axis=1), 0)
    return (k - 1 - first).astype(np.int64)


_FAMILIES: dict[str, Callable[[list[int], str | None], list[Policy]]] = {}


def register_policy(name: str) -> Callable:
    """Decorator for a factory ``(resolutions, argument) -> [Policy, ...]`` named ``name``."""

    def deco(fn: Callable[[list[int], str | None], list[Policy]]) -> Callable:
        _FAMILIES[name] = fn
        return fn

    return deco


def list_policies() -> list[str]:
    return sorted(_FAMILIES)


@register_policy("fixed")
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
        return Policy(f"fixed-{r}", lambda p, k=k: np.full(p.n, k, dtype=np.int64), f"every image at {r}px")

    return [make(r) for r in picks]


@register_policy("oracle")
def _oracle(resolutions: list[int], arg: str | None) -> list[Policy]:
    if arg == "agree":
        return [
            Policy(
                "oracle-agree",
                lambda p: smallest_true(p.agree()),
                "smallest resolution whose top-1 equals the top-1 at the largest (label-free bound)",
                upper_bound=True,
            )
        ]
    if arg is not None:
        raise ConfigError(f"unknown policy 'oracle-{arg}'; did you mean 'oracle-agree'?")
    return [
        Policy(
            "oracle",
            lambda p: smallest_true(p.correct()),
            "smallest resolution whose prediction is correct (upper bound, uses labels)",
            upper_bound=True,
            needs_labels=True,
        )
    ]


@register_policy("drnet")
def _drnet(resolutions: list[int], arg: str | None) -> list[Policy]:
    def choose(p: Predictions) -> np.ndarray:
        if p.predictor_choice is None:
            raise ConfigError("policy 'drnet' needs a DRNet model (--model) with a resolution predictor")
        return p.predictor_choice

    return [
        Policy("drnet", choose, "the resolution predictor's argmax (one backbone pass per image)", needs_predictor=True)
    ]


@register_policy("random")
def _random(resolutions: list[int], arg: str | None) -> list[Policy]:
    def choose(p: Predictions) -> np.ndarray:
        if p.predictor_choice is None:
            raise ConfigError("policy 'random' needs a DRNet model (--model): it reuses the predictor's resolution mix")
        return np.random.default_rng(0).permutation(p.predictor_choice)

    return [
        Policy("random", choose, "the same resolution mix as drnet, assigned at random (control)", needs_predictor=True)
    ]


def expand_policies(names: list[str], resolutions: list[int]) -> list[Policy]:
    """Turn user policy names into concrete policies, rejecting unknown ones before any work."""
    out: list[Policy] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        family, _, arg = name.partition("-")
        if family not in _FAMILIES:
            raise ConfigError(
                f"unknown policy {name!r}; choose from {', '.join(list_policies())} (e.g. fixed-160, oracle-agree)"
            )
        for pol in _FAMILIES[family](resolutions, arg or None):
            if pol.name not in {p.name for p in out}:
                out.append(pol)
    if not out:
        raise ConfigError("no policy given")
    return out


@dataclass
class PolicyResult:
    """How one policy did: the JSON fields ``top1``, ``macs_m``, ``resolution_share``."""

    top1: float | None
    macs_m: float
    resolution_share: dict[str, float]
    upper_bound: bool = False
    description: str = ""

    def to_json(self) -> dict:
        return {
            "top1": self.top1,
            "macs_m": self.macs_m,
            "resolution_share": self.resolution_share,
            "upper_bound": self.upper_bound,
            "description": self.description,
        }


def score(policy: Policy, preds: Predictions, macs: dict[int, int], extra_macs: int = 0) -> PolicyResult:
    """Apply ``policy`` and measure top-1, mean MACs (plus ``extra_macs`` per image) and resolution mix."""
    choice = policy.choose(preds)
    rows = np.arange(preds.n)
    top1 = float((preds.top1[rows, choice] == preds.labels).mean()) if preds.labelled else None
    cost = np.array([macs[r] for r in preds.resolutions], dtype=np.float64)[choice]
    share = {str(r): float((choice == k).mean()) for k, r in enumerate(preds.resolutions)}
    return PolicyResult(
        top1=top1,
        macs_m=float((cost.mean() + extra_macs) / 1e6) if preds.n else 0.0,
        resolution_share=share,
        upper_bound=policy.upper_bound,
        description=policy.description,
    )
