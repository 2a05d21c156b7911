"""The deployed loop: a decoded photo -> an answer under one policy, over converted models. The one
loop every deploy-side path runs (``predict``, the local bench, a board's bench, and the Android core
held to it by its golden cases).

Preprocessing costs what the policy runs: one centre crop (a view, no copy) per photo, then one resize
and one table lookup (normalise, and for an int8 input quantise too: a single OpenCV call) per
resolution actually run; the thumbnail only for a policy that runs the predictor. Preprocessing time is
measured inside the loop so a report can show where time goes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.preprocess import center_crop_square, resize_square, to_model_input
from ..policy.deploy import default_spec, deployable_policies
from ..policy.spec import run_spec, softmax_signals
from .artifacts import ArtifactDRNet


@dataclass
class Outcome:
    """One photo under one policy."""

    top1: int
    final: int  # resolution index answered at
    ran: list[int]  # resolution indices run, in order
    preprocess_ms: float  # crop + resizes + normalisation (thumbnail included)
    used_predictor: bool = False
    pass_ms: list[float] = field(default_factory=list)  # each backbone pass's model time, in the order of ``ran``
    predictor_ms: float = 0.0  # the predictor's model time (0 when it did not run)
    logits: np.ndarray | None = None  # the answering pass's logits


@dataclass
class Pipeline:
    """A policy's deployed loop over converted models."""

    name: str
    spec: dict[str, Any]
    art: ArtifactDRNet
    description: str = ""

    def __call__(self, img: np.ndarray) -> Outcome:
        art, pre = self.art, self.art.preprocess
        spent = 0.0  # seconds of preprocessing (crop, resizes, normalisation)
        used_predictor, predictor_ms = False, 0.0
        pass_ms: list[float] = []
        logits_at: dict[int, np.ndarray] = {}
        t0 = time.perf_counter()
        square = center_crop_square(img, pre.crop_pct)
        spent += time.perf_counter() - t0

        def prepared(size: int, spec: dict | None) -> np.ndarray:
            nonlocal spent
            t = time.perf_counter()
            x = to_model_input(resize_square(square, size, pre.interpolation), pre, spec)
            spent += time.perf_counter() - t
            return x

        def run_at(k: int) -> tuple[int, float, float]:
            x = prepared(art.resolutions[k], art.backbone_inputs[k])
            t = time.perf_counter()
            logits = logits_at[k] = art.backbone(k)(x)[0]
            pass_ms.append(1e3 * (time.perf_counter() - t))
            return int(np.argmax(logits)), *softmax_signals(logits)

        def choose() -> int:
            nonlocal used_predictor, predictor_ms
            assert art.predictor is not None
            used_predictor = True
            x = prepared(art.thumb_size, art.predictor_input)
            t = time.perf_counter()
            choice = int(np.argmax(art.predictor(x)[0]))
            predictor_ms = 1e3 * (time.perf_counter() - t)
            return choice

        top, final, ran = run_spec(self.spec, art.resolutions, run_at, choose if art.has_predictor else None)
        return Outcome(top, final, ran, 1e3 * spent, used_predictor, pass_ms, predictor_ms, logits_at[final])


def pipelines(art: ArtifactDRNet, extra: tuple[str, ...] = ()) -> dict[str, Pipeline]:
    """``fixed-R`` for every resolution, the default policy, ``drnet`` when there is a predictor, and
    the deployable policies named in ``extra`` (see :func:`deployable_policies`)."""
    out = {
        f"fixed-{r}": Pipeline(f"fixed-{r}", {"kind": "fixed", "resolution_index": k}, art, f"every image at {r}px")
        for k, r in enumerate(art.resolutions)
    }
    found = default_spec(art)
    if found is not None:
        out[found[0]] = Pipeline(found[0], found[1], art, "the default policy")
    if art.has_predictor and "drnet" not in out:
        out["drnet"] = Pipeline("drnet", {"kind": "drnet"}, art, "the resolution predictor's argmax")
    default = found[0] if found else None
    for pol in deployable_policies(extra, list(art.resolutions), default, art.has_predictor):
        out.setdefault(pol.name, Pipeline(pol.name, pol.spec or {}, art, "asked for with --policies"))
    return out
