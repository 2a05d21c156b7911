"""``drnet-edge verify``: every converted model of one or more artifact folders run on aarch64 kernels
(inside an emulated userland) and on this host, on the same preprocessed photos, then compared.

The data path: the host decodes and preprocesses each photo once (the project's own rule, float32
NCHW normalised, as :class:`~drnet_edge.runtime.artifacts.ArtifactDRNet` feeds its runners), runs the host
runtimes, and writes the arrays with the model files into a job folder inside the userland; the
worker (:mod:`drnet_edge.verify.worker`) runs there under ``QEMU_CPU`` once per emulated CPU and hands
the outputs back as ``.npz``; the host scores both (:mod:`drnet_edge.verify.score`). Numerics only:
nothing is timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._io import link_or_copy
from ..errors import ConfigError, EmulationError
from ..runtime.manifest import Manifest, TargetEntry, read_manifest, verify_artifacts
from .score import AGREEMENT_FLOOR, compare_outputs, compare_policies
from .userland import Userland, default_root, ensure_userland, exclusive, install_project, show_cpu, userland_command

WORKER = "drnet_edge.verify.worker"  # run as a module of the installed package, on both sides
DEFAULT_LIMIT = 32  # ~0.5 s per image per model emulated: a few minutes for one model's artifacts
ARM_TARGETS = ("tflite", "executorch")  # the phone runtimes the worker runs
# Measured here: executorch 1.5.1 installs in the aarch64 userland (~13 min emulated) but does not depend on
# torch, which its Python runtime imports; PyPI's torch 2.14.1 for aarch64 pulls the CUDA libraries.
EXECUTORCH_SKIPPED = (
    "not run on aarch64: ExecuTorch's Python runtime imports torch, and PyPI's torch 2.14.1 for aarch64 pulls "
    "the CUDA libraries (nvidia-* wheels, several GB) into an emulated install: not practical here. A userland "
    "whose venv has executorch and a CPU torch runs .pte files"
)
NOTE = (
    "numerics only: aarch64 runs under qemu-user emulation, so no latency or energy is measured or reported; "
    "agreement is ARM kernels against this host's kernels on the same inputs, not accuracy"
)


@dataclass(frozen=True)
class CpuModel:
    """An emulated CPU: the name ``--cpu`` takes, qemu's ``-cpu`` model, why it stands in, and the MIDR
    fields (implementer 0x41 = Arm) its ``/proc/cpuinfo`` shows, as qemu's model of that core has them."""

    name: str
    qemu: str
    description: str
    midr: tuple[int, int, int] = (0, 0, 0)  # variant, part, revision

    def cpuinfo(self) -> str:
        variant, part, revision = self.midr
        return (
            f"processor\t: 0\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: {variant:#x}\n"
            f"CPU part\t: {part:#05x}\nCPU revision\t: {revision}\n\n"
        )


CPU_MODELS = {
    c.name: c
    for c in (
        CpuModel(
            "pixel7", "cortex-a76", "Pixel 7 stand-in (Tensor G2: Cortex-X1/A78/A55, ARMv8.2, dotprod, no i8mm)",
            (4, 0xD0B, 1),
        ),
        CpuModel("nodotprod", "cortex-a53", "ARMv8.0 without dotprod (older and small cores)", (0, 0xD03, 4)),
        CpuModel("i8mm", "max,sme=off", "ARMv9-like: dotprod, i8mm, SVE2, no SME (i8mm as in Pixel 8's Tensor G3)", (1, 0xD07, 0)),
        CpuModel("max", "max", "every feature qemu emulates, SME included (wrong int8 outputs under qemu 7.2: see README)", (1, 0xD07, 0)),
    )
}  # fmt: skip
DEFAULT_CPUS = ("pixel7", "nodotprod")


@dataclass
class VerifyOptions:
    """What ``verify`` runs; checked by :meth:`validate` before any work."""

    artifacts: list[Path]
    arch: str = "aarch64"  # or "host": the worker natively, to test the protocol without emulation
    data: Path | None = None
    subset: str | None = None
    limit: int | None = DEFAULT_LIMIT
    cpus: list[str] = field(default_factory=lambda: list(DEFAULT_CPUS))
    setup: bool = False
    root: Path | None = None  # the userland (default: userland.default_root())
    wheel: Path | None = None  # the project's wheel to install there (default: built from the source tree)
    threads: int = 1
    progress: bool = True
    log: Callable[[str], None] = print
    python: str = sys.executable  # arch "host": the Python that runs the worker

    def validate(self) -> None:
        if self.arch not in ("aarch64", "host"):
            raise ConfigError(f"--arch {self.arch}: choose aarch64 (emulated) or host (the worker natively, a test)")
        unknown = [c for c in self.cpus if c not in CPU_MODELS]
        if unknown:
            raise ConfigError(f"--cpu {unknown[0]}: unknown CPU model; choose from {', '.join(CPU_MODELS)}")
        if not self.cpus:
            raise ConfigError("give at least one --cpu")
        if not self.artifacts:
            raise ConfigError("give at least one --artifacts DIR (written by drnet-edge convert)")
        if self.limit is not None and self.limit < 1:
            raise ConfigError("--limit must be at least 1")
        if self.wheel is not None:
            from ..wheelhouse import check_wheel

            check_wheel(self.wheel)


@dataclass
class _Target:
    """One runnable target of one artifact folder."""

    root: Path
    manifest: Manifest
    entry: TargetEntry

    @property
    def label(self) -> str:
        route = f" ({self.entry.route})" if self.entry.route != "default" else ""
        return f"{self.root.name}: {self.entry.name}{route} {self.entry.precision}"

    def model_id(self, name: str) -> str:
        return f"{self.root}/{self.entry.name}/{name}"


def _collect(opts: VerifyOptions) -> tuple[list[_Target], list[dict]]:
    """Every target of every artifact folder, checked against its manifest; skips, with their reason."""
    from drnet_edge.converters import get_target

    found, skipped = [], []
    for root in opts.artifacts:
        manifest = read_manifest(root)
        for name in manifest.targets:
            if name not in ARM_TARGETS:
                skipped.append(
                    {"artifacts": str(root), "target": name, "reason": f"{name} is not a phone runtime here"}
                )
                continue
            verify_artifacts(root, name)
            get_target(name).check_runtime()
            found.append(_Target(Path(root), manifest, manifest.targets[name]))
    return found, skipped


def _inputs(targets: list[_Target], opts: VerifyOptions) -> tuple[dict[str, np.ndarray], np.ndarray | None, list[str]]:
    """Each photo decoded once; float32 NCHW arrays per (preprocessing, size), keyed ``p<i>_<size>``."""
    from ..data.folders import sample_dir, scan_folder
    from ..data.preprocess import crop_and_resize, load_image, to_array
    from ..progress import progress_bar

    first = targets[0].manifest
    folder = scan_folder(opts.data or sample_dir(), classes=first.classes, limit=opts.limit, subset=opts.subset)
    pres = list(dict.fromkeys(t.manifest.preprocess for t in targets))
    sizes = {
        p: sorted({s for t in targets if t.manifest.preprocess == p for s in _sizes(t)}, reverse=True) for p in pres
    }
    crops: dict[str, list[np.ndarray]] = {}
    with progress_bar(len(folder), "preprocessing", enabled=opts.progress) as advance:
        for path in folder.paths:
            img = load_image(path)
            for i, p in enumerate(pres):
                for s, crop in crop_and_resize(img, sizes[p], p).items():
                    crops.setdefault(f"p{i}_{s}", []).append(to_array(crop, p)[0])
            advance(1)
    labels = np.asarray(folder.labels, dtype=np.int64) if folder.labelled else None
    opts.data = folder.root
    return {k: np.stack(v) for k, v in crops.items()}, labels, [str(p) for p in folder.paths]


def _sizes(t: _Target) -> list[int]:
    return [m.input_size for m in t.entry.models.values()]


def _input_key(t: _Target, targets: list[_Target], size: int) -> str:
    pres = list(dict.fromkeys(x.manifest.preprocess for x in targets))
    return f"p{pres.index(t.manifest.preprocess)}_{size}"


def _run_host(
    targets: list[_Target], inputs: dict[str, np.ndarray], opts: VerifyOptions, kinds: set[str]
) -> dict[str, np.ndarray]:
    """Every model that also runs on ARM, on this host's runtimes (the reference side)."""
    from drnet_edge.converters import get_target

    from ..progress import progress_bar

    out = {}
    total = sum(len(t.entry.models) for t in targets if t.entry.name in kinds)
    with progress_bar(total, "host runtimes", enabled=opts.progress) as advance:
        for t in targets:
            if t.entry.name not in kinds:
                continue
            target = get_target(t.entry.name)
            for m in t.entry.models.values():
                run = target.load(t.root / m.file, opts.threads, entry=m.entry)
                out[t.model_id(m.name)] = run(inputs[_input_key(t, targets, m.input_size)])
                advance(1)
    return out


def write_job(
    folder: Path, targets: list[_Target], inputs: dict[str, np.ndarray], kinds: set[str], threads: int
) -> list[dict]:
    """The worker's request folder: the models (linked when possible), inputs, request.json."""
    (folder / "models").mkdir(parents=True)
    (folder / "inputs").mkdir()
    for key, arr in inputs.items():
        np.save(folder / "inputs" / f"{key}.npy", arr)
    models = []
    for i, t in enumerate(targets):
        if t.entry.name not in kinds:
            continue
        for m in t.entry.models.values():
            dst = Path("models") / str(i) / m.file
            (folder / dst).parent.mkdir(parents=True, exist_ok=True)
            if not (folder / dst).exists():
                link_or_copy(t.root / m.file, folder / dst)
            spec = {"file": str(dst), "entry": m.entry, "input": f"inputs/{_input_key(t, targets, m.input_size)}.npy"}
            models.append({"id": t.model_id(m.name), "kind": t.entry.name, **spec})
    (folder / "request.json").write_text(json.dumps({"threads": threads, "models": models}, indent=2) + "\n")
    return models


def run_worker(
    cmd: list[str], env: dict[str, str], folder: Path, n_models: int, desc: str, progress: bool
) -> tuple[dict, dict[str, np.ndarray]]:
    """Run the worker (stderr inherited: the CLI sends it to its log), advancing a bar per model it
    reports on stdout; then read its result and outputs."""
    from ..progress import progress_bar

    with progress_bar(n_models, desc, enabled=progress) as advance:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        for _line in proc.stdout:
            advance(1)
        rc = proc.wait()
    if rc != 0 or not (folder / "result.json").is_file():
        raise EmulationError(f"the worker ({desc}) exited with status {rc} and no result; its messages are in the log")
    result = json.loads((folder / "result.json").read_text())
    with np.load(folder / "outputs.npz") as z:
        outputs = {k: z[k] for k in z.files}
    return result, outputs


def _versions(packages: tuple[str, ...]) -> dict[str, str | None]:
    from drnet_edge.converters.base import installed_version

    return {p: installed_version(p) for p in packages}


def _prepare(opts: VerifyOptions) -> Userland | None:
    """The emulated userland (``None`` for arch host): checked, or with ``setup`` set up and built; then
    this project's deploy side installed there from its wheel (when that wheel is not there yet)."""
    if opts.arch == "host":
        return None
    from ..wheelhouse import project_wheel

    root = opts.root or default_root()
    log_file = root.parent / f"{root.name}.build.log"
    land = ensure_userland(root, setup=opts.setup, log=opts.log, log_file=log_file)
    wheel = project_wheel(root.parent / "dist", opts.wheel)
    return install_project(land, wheel, wheels=root.parent / "wheels", log=opts.log, log_file=log_file)


def _job_parent(land: Userland | None) -> Path:
    if land is None:
        return Path(tempfile.gettempdir())
    (land.root / "tmp").mkdir(exist_ok=True)
    return land.root / "tmp"


def run_verify(opts: VerifyOptions) -> dict[str, Any]:
    """Run the check and return the report (see :mod:`drnet_edge.verify.findings` for its tables)."""
    import platform

    opts.validate()
    targets, skipped = _collect(opts)
    if not targets:
        raise ConfigError("the artifacts hold no TFLite or ExecuTorch models to verify")
    land = _prepare(opts)
    kinds = set(ARM_TARGETS)
    if land is not None and not (land.package("executorch") and land.package("torch")):
        kinds.discard("executorch")
        for t in targets:
            if t.entry.name == "executorch":
                reason = EXECUTORCH_SKIPPED
                skipped.append({"artifacts": str(t.root), "target": "executorch", "reason": reason})
    inputs, labels, paths = _inputs(targets, opts)
    host = _run_host(targets, inputs, opts, kinds)
    cpus = [CPU_MODELS[c] for c in opts.cpus] if land is not None else [CpuModel("host", "", "the worker natively")]
    job = Path(tempfile.mkdtemp(prefix="drnet-edge-verify-", dir=_job_parent(land)))
    arm: dict[str, dict[str, Any]] = {}
    with contextlib.ExitStack() as stack:
        if land is not None:
            stack.enter_context(exclusive(land, opts.log))
        stack.callback(shutil.rmtree, job, ignore_errors=True)
        models = write_job(job, targets, inputs, kinds, opts.threads)
        inside = f"/tmp/{job.name}" if land is not None else str(job)
        for cpu in cpus:
            for stale in ("result.json", "outputs.npz"):
                (job / stale).unlink(missing_ok=True)
            if land is not None:
                show_cpu(land, cpu.cpuinfo())
                cmd, env = userland_command(land, [land.python, "-m", WORKER, inside], {"QEMU_CPU": cpu.qemu})
            else:
                cmd, env = [opts.python, "-m", WORKER, str(job)], dict(os.environ)
            desc = f"aarch64 {cpu.name} ({cpu.qemu}, emulated)" if land is not None else "worker (host)"
            arm[cpu.name] = {
                "cpu": cpu,
                **dict(
                    zip(("result", "outputs"), run_worker(cmd, env, job, len(models), desc, opts.progress), strict=True)
                ),
            }
    report = _report(opts, land, targets, host, arm, labels, paths, skipped)
    report["host"] = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "versions": _versions(("numpy", "ai-edge-litert", "executorch")),
    }
    return report


def _report(opts, land, targets, host, arm, labels, paths, skipped) -> dict[str, Any]:
    models, policies = [], []
    ran = {mid for run in arm.values() for mid in run["result"]["models"]}
    for t in targets:
        if not any(t.model_id(m) in ran for m in t.entry.models):
            continue  # skipped on ARM (said in "skipped"): no rows of host-only figures
        base = {
            "artifacts": str(t.root),
            "target": t.entry.name,
            "route": t.entry.route,
            "precision": t.entry.precision,
        }
        per_cpu_outputs: dict[str, dict[str, np.ndarray]] = {}
        for m in t.entry.models.values():
            mid = t.model_id(m.name)
            row = {**base, "model": m.name, "input_size": m.input_size, "quantization": _quant(m.raw), "cpus": {}}
            for name, run in arm.items():
                status = run["result"]["models"].get(mid)
                if status is None:
                    row["cpus"][name] = {"ok": False, "error": "not run on aarch64 (see skipped)"}
                elif not status["ok"]:
                    row["cpus"][name] = {"ok": False, "error": status["error"]}
                else:
                    out = run["outputs"][status["key"]]
                    per_cpu_outputs.setdefault(name, {})[m.name] = out
                    row["cpus"][name] = compare_outputs(host[mid], out, None if m.is_predictor else labels, paths)
                    if "delegate" in status:
                        row["cpus"][name]["delegate"] = status["delegate"]
            models.append(row)
        host_out = {m.name: host[t.model_id(m.name)] for m in t.entry.models.values()}
        rows: dict[str, dict] = {}
        for name, outs in per_cpu_outputs.items():
            if len(outs) != len(t.entry.models):
                continue  # a model failed on this CPU: no policy figures from partial outputs
            for pol, r in compare_policies(t.manifest, t.entry, host_out, outs, labels).items():
                rows.setdefault(
                    pol,
                    {
                        **base,
                        "policy": pol,
                        "description": r.pop("description"),
                        "default": r.pop("default"),
                        "cpus": {},
                    },
                )
                rows[pol]["cpus"][name] = r
        policies.extend(rows.values())
    cpus = {
        name: {"qemu_cpu": run["cpu"].qemu or None, "description": run["cpu"].description, "seen": run["result"]["cpu"], "versions": run["result"]["versions"], "python": run["result"]["python"]}
        for name, run in arm.items()
    }  # fmt: skip
    return {
        "command": "verify",
        "arch": opts.arch,
        "emulated": land is not None,
        "note": NOTE if land is not None else "arch host: the worker run natively (a protocol test, not an ARM check)",
        "n": len(paths),
        "data": str(opts.data),
        "subset": opts.subset,
        "labelled": labels is not None,
        "agreement_floor": AGREEMENT_FLOOR,
        "userland": None if land is None else {"root": str(land.root), "built": land.stamp.get("built"), "suite": land.stamp.get("suite"), "project": land.stamp.get("project"), "executorch": _et_line(land)},
        "cpus": cpus,
        "models": models,
        "policies": policies,
        "skipped": skipped,
    }  # fmt: skip


def _et_line(land: Userland) -> str:
    if land.package("executorch") and land.package("torch"):
        return f"executorch {land.package('executorch')}, torch {land.package('torch')}"
    what = f"executorch {land.package('executorch')} without torch" if land.package("executorch") else "not installed"
    return f"{what}: .pte files not run"


def _quant(raw: dict) -> dict[str, Any]:
    """The input and output scale / zero point the manifest records (int8 edges), for the report."""
    return {
        side: {
            "dtype": raw[side].get("dtype"),
            "scale": raw[side].get("scale"),
            "zero_point": raw[side].get("zero_point"),
        }
        for side in ("input", "output")
        if isinstance(raw.get(side), dict)
    }
