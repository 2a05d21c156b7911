"""``run_bench``: one report shape for every device, whichever path measures::

    report = run_bench("out/artifacts", BenchOptions(device="local", runtime="tflite"))
    report["policies"]["drnet"]["latency_ms"], report["policies"]["drnet"]["latency_vs_ref"]

Whichever path measures (:mod:`drnet_edge.bench.paths`: this machine, the phone's tools, the demo app, a
board over SSH), it takes the same :class:`BenchOptions` and returns a
:class:`~drnet_edge.bench.paths.base.Measurement`, which this module wraps in the report.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import replace
from pathlib import Path

from .._io import sha256_file
from ..errors import ConfigError
from ..runtime.manifest import choose_runtime
from .delegates import check_delegate
from .options import BenchOptions
from .paths.base import path_for

FORMAT = "drnet-edge/bench"
VERSION = 1


def run_bench(artifacts: str | Path, opts: BenchOptions | None = None) -> dict:
    """Benchmark the artifacts on ``opts.device`` (``local``, a profile name, a serial or ``android``, or a
    board at ``ssh://[user@]host[:port]``, which runs the deploy side's local bench itself).

    The registered path that takes ``opts`` measures (:func:`~.paths.base.path_for`): with ``opts.app``
    (Android only) the installed demo app measures the whole pipeline on the phone instead of the per-model
    tools. ``opts.resume`` (an earlier report of the same artifacts and device, marked incomplete) lets an
    interrupted phone run resume (models measured there are kept) and a board's run re-attach.
    """
    from ..data.folders import sample_dir
    from ..runtime.manifest import read_manifest

    opts = opts or BenchOptions()
    path = path_for(opts)
    path.before_reading(opts)  # e.g. a board profile named as a phone: said before anything is read
    previous = read_previous(opts.resume) if opts.resume else None
    root = Path(artifacts)
    manifest = read_manifest(root)
    target = choose_runtime(manifest, opts.runtime, opts.device)
    check_delegate(opts.delegate, target)
    if opts.policies:  # against the manifest, before any model loads
        from ..policy.deploy import default_policy, deployable_policies

        has_predictor = manifest.target(target).predictor is not None
        found = default_policy(manifest.policy_for(target), has_predictor)
        deployable_policies(opts.policies, manifest.resolutions, found[0] if found else None, has_predictor)
    opts = replace(opts, data=opts.data or sample_dir())
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    measured = path.measure(root, manifest, target, opts, previous)
    report = {
        "format": FORMAT,
        "version": VERSION,
        "device": measured.device,
        "runtime": target,
        "precision": manifest.target(target).precision,
        "threads": measured.threads,
        "backbone": manifest.backbone,
        "resolutions": manifest.resolutions,
        "source_model": manifest.source_model,
        **({"passes": manifest.passes} if manifest.passes else {}),  # convert --pass-from
        "artifacts": str(root),
        "artifacts_manifest_sha256": sha256_file(root / "manifest.json"),
        "data": str(opts.data),
        "subset": opts.subset,
        "n": measured.n,
        "skipped_bad": measured.skipped_bad,
        "runs": opts.runs,
        "warmup": opts.warmup,
        "started": started,
        "host": {"machine": platform.machine(), "python": platform.python_version()},
        **measured.body(),
    }
    return with_ratios(report)


def with_ratios(report: dict) -> dict:
    """Add ``*_vs_ref`` ratios against ``fixed-<largest>`` (measured in the same run)."""
    ref_name = f"fixed-{max(report['resolutions'])}"
    ref = report["policies"].get(ref_name)
    report["reference"] = ref_name if ref else None
    for p in report["policies"].values():
        for key in ("latency_ms", "energy_mj", "macs_m"):
            base = ref.get(key) if ref else None
            p[key.rsplit("_", 1)[0] + "_vs_ref"] = p[key] / base if base and p.get(key) is not None else None
    return report


def read_previous(path: Path) -> dict:
    """The report of an interrupted run (``--resume`` with its ``--json FILE``)."""
    if not path.is_file():
        raise ConfigError(f"--resume needs --json FILE from the interrupted run ({path}: no such file)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--json {path}: not valid JSON ({exc}); drop --resume to start over") from None
