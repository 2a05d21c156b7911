"""The deployed rules of multi-pass policies, shared by the offline replay (``policies``), the runtimes
(``bench``) and the Android core: a cascade over resolutions, and the predictor with escalation.

A policy travels as a small JSON ``spec`` (in checkpoints and ``manifest.json``):

* ``{"kind": "fixed", "resolution_index": k}``
* ``{"kind": "drnet"}``: the predictor's argmax
* ``{"kind": "drnet-escalate", "threshold": t}``: the predictor's choice, rerun at the largest
  resolution when its max softmax is below ``t``
* ``{"kind": "cascade", "resolutions": [160, 224], "thresholds": [0.7]}``: run the smallest first,
  accept at stage ``i`` when the max softmax is at least ``thresholds[i]``; the last stage answers.
  With ``"signal": "margin"`` a stage is accepted when the top-1 minus the top-2 softmax probability
  is at least its threshold (named ``cascade-margin-160:0.2-224``); ``"max_softmax"`` is the default.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

SIGNALS = ("max_softmax", "margin")  # what a cascade stage compares with its threshold
_STAGES = re.compile(r"(?<!:)-")  # stages are split at '-', but not at a threshold's minus sign ('160:-0.1')


@dataclass(frozen=True)
class Chain:
    """A cascade: resolutions run smallest first; stage ``i`` is accepted when its ``signal`` (the max
    softmax, or the top-1 minus top-2 softmax margin) is at least ``thresholds[i]``; the last stage
    always answers."""

    resolutions: tuple[int, ...]  # run order (increasing)
    thresholds: tuple[float, ...]  # one per stage but the last
    signal: str = "max_softmax"

    @property
    def name(self) -> str:
        stages = [f"{r}:{t:g}" for r, t in zip(self.resolutions, self.thresholds, strict=False)]
        head = "cascade-" if self.signal == "max_softmax" else f"cascade-{self.signal}-"
        return head + "-".join([*stages, str(self.resolutions[-1])])

    def indices(self, resolutions: list[int]) -> list[int]:
        return [resolutions.index(r) for r in self.resolutions]

    def to_json(self) -> dict:
        out = {"kind": "cascade", "resolutions": list(self.resolutions), "thresholds": list(self.thresholds)}
        return out if self.signal == "max_softmax" else {**out, "signal": self.signal}

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> Chain:
        signal = spec.get("signal", "max_softmax")
        if signal not in SIGNALS:
            raise ConfigError(f"cascade signal {signal!r} unknown (known: {', '.join(SIGNALS)}); upgrade drnet-edge")
        return cls(tuple(spec["resolutions"]), tuple(spec["thresholds"]), signal)


def parse_threshold(text: str, where: str) -> float:
    try:
        t = float(text)
    except ValueError:
        hint = f"; write decimals with a dot ({text.replace(',', '.')})" if "," in text else ""
        raise ConfigError(f"{where}: threshold {text!r} is not a number{hint}") from None
    if not 0.0 < t <= 1.0:
        what = "negative, " if t < 0 else ""
        raise ConfigError(f"{where}: threshold {t:g} is {what}outside (0, 1]")
    return t


def parse_chain(arg: str, resolutions: list[int]) -> Chain:
    """``"128:0.8-160:0.7-224"`` (or ``"margin-160:0.2-224"``) -> :class:`Chain`, checked against the
    model's resolutions."""
    where = f"policy 'cascade-{arg}'"
    parts = _STAGES.split(arg)
    signal = "max_softmax"
    if parts and parts[0] in SIGNALS:
        signal = parts.pop(0)
    if len(parts) < 2:
        raise ConfigError(f"{where}: a cascade needs at least two stages, e.g. cascade-160:0.7-224")
    res, thr = [], []
    for i, part in enumerate(parts):
        r_text, sep, t_text = part.partition(":")
        last = i == len(parts) - 1
        if sep and last:
            raise ConfigError(f"{where}: the last stage always answers; drop its threshold (':{t_text}')")
        if not sep and not last:
            raise ConfigError(
                f"{where}: stage {part!r} needs a threshold, e.g. {part}:0.7 (or run drnet-edge calibrate)"
            )
        if not r_text.isdigit():
            raise ConfigError(f"{where}: stage resolution {r_text!r} is not a whole number of pixels")
        if int(r_text) not in resolutions:
            raise ConfigError(f"{where}: {r_text} is not one of the model's resolutions {resolutions}")
        res.append(int(r_text))
        if not last:
            thr.append(parse_threshold(t_text, where))
    if res != sorted(set(res)):
        raise ConfigError(f"{where}: stages must run from the smallest resolution to larger ones, each once")
    return Chain(tuple(res), tuple(thr), signal)


def cascade_arrays(confidence: np.ndarray, chain: Chain, resolutions: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Replay ``chain`` on per-image values of its signal (N, K) at every resolution (vectorised): the
    index answered at (N,) and the resolutions run (N, K) bool."""
    n, k = confidence.shape
    idx = chain.indices(resolutions)
    final = np.full(n, idx[-1], dtype=np.int64)
    ran = np.zeros((n, k), dtype=bool)
    open_ = np.ones(n, dtype=bool)  # still escalating
    for j, t in zip(idx[:-1], chain.thresholds, strict=True):
        ran[open_, j] = True
        accept = open_ & (confidence[:, j] >= t)
        final[accept] = j
        open_ &= ~accept
    ran[open_, idx[-1]] = True
    return final, ran


def run_cascade(chain: Chain, run: Callable[[int], tuple[int, float, float]]) -> tuple[int, int, list[int]]:
    """Run ``chain`` on one image: ``run(resolution)`` -> (top-1, max softmax, margin). Returns (top-1,
    resolution answered at, resolutions run) - the deployed loop, the same rule as the replay."""
    ran = []
    for r, t in zip(chain.resolutions, (*chain.thresholds, None), strict=True):
        top, conf, margin = run(r)
        ran.append(r)
        if t is None or (margin if chain.signal == "margin" else conf) >= t:
            return top, r, ran
    raise AssertionError("unreachable")


RunAt = Callable[[int], tuple[int, float, float]]  # resolution index -> (top-1, max softmax, margin)


Choose = Callable[[], int]  # runs the predictor on the image's thumbnail -> resolution index
DeployedRule = Callable[[dict[str, Any], list[int], RunAt, Choose | None], tuple[int, int, list[int]]]
DEPLOYED_RULES: dict[str, DeployedRule] = {}  # spec kind -> the per-image rule the deployed loop runs


def deployed_rule(kind: str) -> Callable[[DeployedRule], DeployedRule]:
    """Register the per-image rule of policy spec ``kind`` (what :func:`run_spec` runs). Every kind is held
    to its vectorised replay and to the Android core's golden cases by one test over this registry."""

    def deco(fn: DeployedRule) -> DeployedRule:
        DEPLOYED_RULES[kind] = fn
        return fn

    return deco


@deployed_rule("fixed")
def _run_fixed(spec: dict[str, Any], resolutions: list[int], run_at: RunAt, choose: Choose | None) -> tuple:
    k = int(spec["resolution_index"])
    return run_at(k)[0], k, [k]


@deployed_rule("cascade")
def _run_cascade(spec: dict[str, Any], resolutions: list[int], run_at: RunAt, choose: Choose | None) -> tuple:
    chain = Chain.from_json(spec)
    top, r, ran = run_cascade(chain, lambda r: run_at(resolutions.index(r)))
    return top, resolutions.index(r), [resolutions.index(q) for q in ran]


def _predictor(kind: str, choose: Choose | None) -> Choose:
    if choose is None:
        raise ConfigError(f"policy {kind} needs the resolution predictor, and these models have none")
    return choose


@deployed_rule("drnet")
def _run_drnet(spec: dict[str, Any], resolutions: list[int], run_at: RunAt, choose: Choose | None) -> tuple:
    k = _predictor("drnet", choose)()
    return run_at(k)[0], k, [k]


@deployed_rule("drnet-escalate")
def _run_escalate(spec: dict[str, Any], resolutions: list[int], run_at: RunAt, choose: Choose | None) -> tuple:
    k = _predictor("drnet-escalate", choose)()
    top, conf, _ = run_at(k)
    if k != 0 and conf < float(spec["threshold"]):
        return run_at(0)[0], 0, [k, 0]
    return top, k, [k]


def run_spec(
    spec: dict[str, Any], resolutions: list[int], run_at: RunAt, choose: Choose | None = None
) -> tuple[int, int, list[int]]:
    """Run one image under policy ``spec``: ``run_at(k)`` runs the backbone at ``resolutions[k]``;
    ``choose()`` runs the predictor. Returns (top-1, index answered at, indices run in order)."""
    kind = spec.get("kind")
    rule = DEPLOYED_RULES.get(str(kind))
    if rule is None:
        raise ConfigError(f"unknown policy kind {kind!r} in the policy spec; upgrade drnet-edge or recalibrate")
    return rule(spec, resolutions, run_at, choose)


def max_softmax(logits: np.ndarray) -> float:
    """The largest softmax probability of one logit vector (numerically stable)."""
    z = np.asarray(logits, dtype=np.float64).ravel()
    return float(1.0 / np.exp(z - z.max()).sum())


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in float64 (numerically stable): the one the deployed loop, offline
    outputs and ``predict`` all use."""
    z = np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def softmax_signals(logits: np.ndarray) -> tuple[float, float]:
    """(max softmax, top-1 minus top-2 softmax probability) of one logit vector."""
    p = softmax(np.asarray(logits).ravel())
    top2 = np.sort(p)[-2:] if p.size > 1 else np.array([0.0, p[0]])
    return float(top2[-1]), float(top2[-1] - top2[0])
