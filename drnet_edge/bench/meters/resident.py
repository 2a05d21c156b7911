"""Memory and start-up with every stage of a policy resident: what a user pays at app start.

A dynamic policy keeps several models loaded (the predictor and every backbone it may run; a cascade
runs two back to back), so its memory and its load time are those of all its stages together, not of
one model. Three ways to know them, each said in the report's ``resident.method``:

* locally, **measured**: the process's resident memory (``VmRSS``) before and after loading every
  model of the artifacts, and the time that took (the runtime itself initialised first, untimed);
* on the phone with the demo app (``--app``), **measured by the app**: the time to load every model and
  its PSS before and after (``startup`` in the app's JSON);
* on the phone with the per-model tools, **computed**: the sum over a policy's stages of each model's
  load time and memory delta as ``benchmark_model`` reports them, each model having run alone (the
  tool's own memory counted once per model is left out, as the deltas leave it out).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...runtime.manifest import TargetEntry


def policy_stages(row: dict, entry: TargetEntry) -> list[str]:
    """The models a policy keeps loaded: the predictor when it uses one, and every backbone it ran."""
    by_res = {str(m.input_size): m.name for m in entry.backbones()}
    share = row.get("pass_share") or row.get("resolution_share") or {}
    stages = [entry.predictor.name] if row.get("uses_predictor") and entry.predictor is not None else []
    return stages + [by_res[str(r)] for r, s in share.items() if s and str(r) in by_res]


def _sum(values: list[float | None]) -> float | None:
    return None if not values or None in values else sum(v for v in values if v is not None)


def computed_resident(models: dict[str, dict], policies: dict[str, dict]) -> dict:
    """The per-model tools' path: each policy's stages (``stages`` of its row) summed."""
    rows = {}
    for name, p in policies.items():
        stages = p.get("stages") or []
        have = [models[m] for m in stages if m in models]
        complete = len(have) == len(stages) and bool(stages)
        rows[name] = {
            "stages": stages,
            "load_ms": _sum([m.get("load_ms") for m in have]) if complete else None,
            "memory_mb": _sum([m.get("memory_delta_mb") for m in have]) if complete else None,
        }
    every = list(models)
    return {
        "method": "computed: the sum over the stages of each model's load time (benchmark_model's Init) and memory "
        "delta from the tool's start, each model run alone (the demo app, --app, measures them with all loaded)",
        "all_models": {
            "stages": every,
            "load_ms": _sum([models[m].get("load_ms") for m in every]),
            "memory_mb": _sum([models[m].get("memory_delta_mb") for m in every]),
        },
        "policies": rows,
    }


def local_resident(load_ms: float, rss_delta_mb: float | None, per_model_ms: dict[str, float],
                   policies: dict[str, dict], entry: TargetEntry) -> dict:  # fmt: skip
    """This machine: every model loaded at once, measured; a policy's load time from its stages' own."""
    rows = {}
    for name, p in policies.items():
        stages = policy_stages(p, entry)
        rows[name] = {"stages": stages, "load_ms": _sum([per_model_ms.get(m) for m in stages]), "memory_mb": None}
    return {
        "method": "measured: every model of the artifacts loaded in this process (the runtime initialised first, "
        "untimed): wall time and the change of VmRSS; per policy, its stages' own load times summed (memory is "
        "measured for all models together only)",
        "all_models": {"stages": list(per_model_ms), "load_ms": load_ms, "memory_mb": rss_delta_mb},
        "policies": rows,
    }


def app_resident(startup: dict | None) -> dict:
    """The demo app's own measurement (its JSON's ``startup``), or why there is none."""
    if not startup:
        return {"method": "not measured: this build of the demo app writes no 'startup' (rebuild it)",
                "all_models": None, "policies": {}}  # fmt: skip
    return {
        "method": "measured by the demo app: every model loaded at app start (its interpreters created with the "
        "chosen delegate), wall time and the process's PSS before and after (Debug.getPss)",
        "all_models": {
            "stages": startup.get("models", []),
            "load_ms": startup.get("load_all_ms"),
            "memory_mb": startup.get("pss_delta_mb"),
            "pss_after_mb": startup.get("pss_after_mb"),
        },
        "policies": {},
    }


def current_rss_mb(status: Path = Path("/proc/self/status")) -> float | None:
    """This process's resident memory now (``VmRSS``), MB; ``None`` where /proc is absent."""
    try:
        for line in status.read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
