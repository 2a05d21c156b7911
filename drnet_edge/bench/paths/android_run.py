"""An Android bench run with the runtime's own tools (``benchmark_model``, ``executor_runner``).

Every model is timed on the phone, pinned to the profile's big cores with ``taskset``, in
interleaved rounds (round k runs every model once, in an order rotated by k) so no model gets a
cooler or hotter phone than another. Energy comes from the On-Device Power Monitor (Pixel 6 and
later) read before and after each run, idle power subtracted. The policies' figures are then
computed from those per-model times and the resolution mix and top-1 that the same artifacts give
on the host.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..._io import sha256_file

if TYPE_CHECKING:
    from ...runtime.manifest import Manifest, TargetEntry

from ..delegates import DELEGATES, DelegateFailed, Delegation, delegation_header, parse_delegation
from ..meters.energy import EnergyMeter, IdleBaseline, measure_idle, net_energy_mj, open_android_meter
from ..meters.op_profile import device_op_profiles
from ..meters.resident import computed_resident
from ..meters.thermal import ThermalLog
from ..options import BenchOptions
from ..profiles import DeviceProfile
from ..timing import pool_stats
from ..transport.adb import Adb, AdbDevice, DeviceGone
from .android import REMOTE_DIR, AndroidPath, DeviceTool, find_binary, get_tool, push_if_changed
from .base import Measurement, register_path
from .parsers import ModelTiming, ToolOutputError


@register_path
class ToolsPath(AndroidPath):
    """Per-model times on the phone with the runtime's own tool, then policies computed with the resolution
    mix and top-1 that the same artifacts give on the host for ``opts.data``. ``previous``, an interrupted
    run's report of the same artifacts and phone, supplies the models it measured."""

    name = "tools"
    words = "the phone's benchmark tools (--device PHONE without --app)"

    @classmethod
    def matches(cls, opts: BenchOptions) -> bool:
        return not opts.app

    def measure(
        self, root: Path, manifest: Manifest, target: str, opts: BenchOptions, previous: dict | None
    ) -> Measurement:
        from ...evaluate import evaluate

        adb, dev, profile, info = self.connect(opts)
        done = {}
        if previous and previous.get("device", {}).get("serial") == dev.serial and previous.get("runtime") == target:
            if previous.get("artifacts_manifest_sha256") == sha256_file(root / "manifest.json"):
                done = previous.get("models", {})
        body = bench_android(adb, dev, profile, root, manifest, target, opts, done=done)
        threads = body["tool"]["threads"]
        data_dir = opts.data
        assert data_dir is not None  # run_bench fills in the bundled sample before a path measures
        host = evaluate(
            data_dir, runtime=target, artifacts=root, policies="fixed,default" if manifest.policy_for(target) else "fixed,drnet",
            limit=opts.limit, subset=opts.subset, skip_bad=opts.skip_bad, progress=opts.progress,
        ).to_json()  # fmt: skip
        body["policies"] = computed_policies(host, body["models"], manifest.target(target))
        body["resident"] = computed_resident(body["models"], body["policies"])
        body["default_policy"] = host.get("default_policy")
        body["accuracy_source"] = (
            f"top-1 and the predictor's resolution mix from the same {target} files run on the host "
            f"({platform.machine()}) over {host['n']} images of {data_dir}"
        )
        return Measurement.from_body(
            body, device=info, n=host["n"], skipped_bad=host["skipped_bad"]["files"], threads=threads
        )


@dataclass
class _Rounds:
    """What the interleaved rounds measured, per model; ``incomplete`` says why they stopped early."""

    timings: dict[str, list[ModelTiming]] = field(default_factory=dict)
    energy: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    delegation: dict[str, Delegation] = field(default_factory=dict)  # from each model's last run
    incomplete: str | None = None


def bench_android(
    adb: Adb,
    device: AdbDevice,
    profile: DeviceProfile,
    artifacts: Path,
    manifest: Manifest,
    target: str,
    opts: BenchOptions,
    *,
    done: dict[str, dict] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Time every model of ``target`` on the phone; returns the report's ``models`` part, energy
    details, and ``incomplete`` (with the reason) when the phone went away mid-run. ``done`` holds
    models measured already (kept as they are). From ``opts``: threads, runs, warmup, rounds,
    cooldown_s, energy, idle_s, benchmark_binary, delegate, op_profile, max_temp_c, temp_timeout_s, log."""
    tool = get_tool(target)
    models = {name: m.raw for name, m in manifest.target(target).models.items()}
    threads = opts.threads or profile.threads
    exe = find_binary(adb, tool, opts.benchmark_binary)
    remote = _push_models(adb, artifacts, target, models, opts.log)
    meter, energy_note = open_android_meter(adb, profile) if opts.energy else (None, "not measured: pass --energy")
    idle: IdleBaseline | None = None
    if meter:
        opts.log(f"measuring idle power for {opts.idle_s:.0f} s")
        idle = measure_idle(meter, opts.idle_s, sleep=sleep)
    pin = f"taskset {profile.big_cores} " if profile.big_cores else ""
    per_round = max(1, math.ceil(opts.runs / opts.rounds))

    flags = DELEGATES[opts.delegate or "cpu"].flags if tool.target == "tflite" else ()

    def command(name: str, extra: tuple[str, ...] = ()) -> str:
        entry = models[name].get("entry")
        return pin + tool.command(exe, remote[name], entry, threads, per_round, opts.warmup, flags + extra)

    done = done or {}
    thermal = ThermalLog(adb, opts.max_temp_c, opts.temp_timeout_s, sleep)
    measured = _run_rounds(adb, tool, list(models), set(done), command, per_round, meter, idle, opts, sleep, thermal)
    results = dict(done)
    for name, parts in measured.timings.items():
        if name in done or not parts:
            continue
        if measured.incomplete and len(parts) < opts.rounds:
            continue  # only models with every round count
        results[name] = _model_result(models[name], parts, measured.energy[name], tool)
    backend = next((m.get("extra", {}).get("delegate") for m in models.values()), None)
    delegation = delegation_header(opts.delegate, tool.target, backend)
    delegation["models"] = {n: d.to_json() for n, d in measured.delegation.items()}
    extra = {"delegation": delegation, "thermal": thermal.to_json()}
    if opts.op_profile:
        extra["op_profile"] = device_op_profiles(tool.name, [n for n in results if n not in done],
                                                 lambda n: adb.shell(command(n, ("--enable_op_profiling=true",))))  # fmt: skip
    return extra | {
        "models": results,
        "schedule": f"{opts.rounds} interleaved rounds of {per_round} runs (model order rotated each round)"
        + (f", {opts.cooldown_s:.0f} s cool-down after each run" if opts.cooldown_s and not thermal.gated else "")
        + (f", each round started at or below {opts.max_temp_c:g} C battery temperature" if thermal.gated else ""),
        "tool": {"name": tool.name, "path": exe, "pinning": pin.strip() or "none", "threads": threads},
        "energy": {
            "meter": meter.name if meter else None,
            "note": meter.note if meter else energy_note,
            "reliable": meter.reliable if meter else None,
            "idle": idle.to_json() if idle else None,
            "method": "per run: (counter after - counter before - idle power x duration) / inferences the tool ran "
            "(its model load and warm-up included)",
        },
        "incomplete": measured.incomplete,
    }


def _push_models(adb: Adb, artifacts: Path, target: str, models: dict, log: Callable[[str], None]) -> dict[str, str]:
    """Each model's path on the phone, pushed there unless already identical."""
    remote = {}
    for name, info in models.items():
        remote[name] = f"{REMOTE_DIR}/{target}/{Path(info['file']).name}"
        if push_if_changed(adb, artifacts / info["file"], remote[name], info["sha256"]):
            log(f"pushed {info['file']} -> {remote[name]}")
    return remote


def _run_rounds(
    adb: Adb,
    tool: DeviceTool,
    names: list[str],
    done: set[str],
    command: Callable[[str], str],
    per_round: int,
    meter: EnergyMeter | None,
    idle: IdleBaseline | None,
    opts: BenchOptions,
    sleep: Callable[[float], None],
    thermal: ThermalLog,
) -> _Rounds:
    """``opts.rounds`` rounds over the models not ``done``, in an order rotated each round; stops
    (marked incomplete) when the phone goes away. Each round starts with ``thermal`` (a wait for the
    battery to cool when gated, then a record); a model whose delegate failed is not run again."""
    out = _Rounds({n: [] for n in names}, {n: [] for n in names})
    asked = opts.delegate if tool.target == "tflite" else None
    try:
        for rnd in range(opts.rounds):
            thermal.start_round(rnd)
            for name in names[rnd % len(names) :] + names[: rnd % len(names)]:
                if name in done or out.delegation.get(name, Delegation("cpu")).status == "failed":
                    continue
                try:
                    timing, energy, out.delegation[name] = _run_once(
                        adb, tool, command(name), per_round, meter, idle, asked
                    )
                except DelegateFailed as exc:
                    out.delegation[name] = exc.delegation
                    opts.log(f"round {rnd + 1}/{opts.rounds} {name}: {exc}")
                    continue
                out.timings[name].append(timing)
                if energy is not None:
                    out.energy[name].append(energy)
                opts.log(f"round {rnd + 1}/{opts.rounds} {name}: {timing.latency.mean_ms:.2f} ms")
                thermal.during_round()
                if opts.cooldown_s and not thermal.gated:
                    sleep(opts.cooldown_s)
    except DeviceGone as exc:
        out.incomplete = str(exc)
    return out


def _run_once(
    adb: Adb,
    tool: DeviceTool,
    cmd: str,
    runs: int,
    meter: EnergyMeter | None,
    idle: IdleBaseline | None,
    asked: str | None = None,
) -> tuple[ModelTiming, dict[str, float] | None, Delegation]:
    """One tool run: its timing, its energy per inference when a meter is open, and what its log says of
    the delegate (``asked``: gpu or nnapi; then a run that stopped for the delegate raises DelegateFailed)."""
    if tool.logcat_tag:
        adb.shell("logcat -c", check=False)
    a = meter.read() if meter else None
    out = adb.shell(cmd, check=asked in (None, "cpu"))
    b = meter.read() if meter else None
    if tool.logcat_tag:
        out += adb.shell(f"logcat -d -s {tool.logcat_tag}:I", check=False)
    delegation = parse_delegation(out, asked or "cpu") if tool.target == "tflite" else Delegation("cpu")
    try:
        timing = tool.parse(out, runs)
    except ToolOutputError:
        if asked in (None, "cpu"):
            raise
        delegation.status = "failed"
        raise DelegateFailed(delegation) from None
    if delegation.status == "failed":
        raise DelegateFailed(delegation)
    energy = net_energy_mj(meter, a, b, idle, count=max(timing.inferences, 1)) if meter and a and b else None
    return timing, energy, delegation


def _model_result(info: dict, parts: list[ModelTiming], energy: list[dict[str, float]], tool: DeviceTool) -> dict:
    """One model's entry of the report, its rounds pooled."""
    lat = pool_stats([p.latency for p in parts])
    inits = [p.init_ms for p in parts if p.init_ms is not None]
    firsts = [p.first_ms for p in parts if p.first_ms is not None]
    mems = [p.peak_memory_mb for p in parts if p.peak_memory_mb is not None]
    deltas = [p.memory_delta_mb for p in parts if p.memory_delta_mb is not None]
    rails = {k: sum(d[k] for d in energy) / len(energy) for k in energy[0]} if energy else None
    return {
        "file": info["file"],
        "precision": info["precision"],
        "macs_m": info["macs"] / 1e6,
        "input_size": info["input_size"],
        "latency": lat.to_json(),
        "load_ms": sum(inits) / len(inits) if inits else None,
        "first_inference_ms": sum(firsts) / len(firsts) if firsts else None,  # cold run, where the tool says
        "peak_memory_mb": max(mems) if mems else None,
        "memory_delta_mb": max(deltas) if deltas else None,
        "memory_note": None if mems else f"{tool.name} did not report memory",
        "energy_mj": rails["total"] if rails else None,
        "energy_rails_mj": rails,
        "rounds": len(parts),
        "rounds_ms": [p.latency.mean_ms for p in parts],  # each round's mean, in the order run
    }


def computed_policies(host: dict, models: dict, entry: TargetEntry) -> dict:
    """On-device per-image figures from per-model measurements: a policy's mean time is the predictor's
    (when it runs) plus each backbone's weighted by the share of images that **ran** it (an escalated
    image pays for every pass); ``fixed-R`` is backbone R's own time. Controls are left out (they only
    differ in which images ran what)."""
    out = {}
    by_res = {str(m.input_size): m.name for m in entry.backbones()}
    predictor = entry.predictor.name if entry.predictor is not None else None
    for name, hp in host["policies"].items():
        if hp.get("control_of"):
            continue
        share = hp.get("pass_share") or hp["resolution_share"]
        parts = ([(predictor, 1.0)] if hp.get("uses_predictor") and predictor else []) + [
            (by_res[r], s) for r, s in share.items() if s
        ]
        complete = all(m in models for m, _ in parts)
        lat = sum(w * models[m]["latency"]["mean_ms"] for m, w in parts) if complete else None
        energies = [models[m].get("energy_mj") for m, _ in parts] if complete else [None]
        energy = sum(w * models[m]["energy_mj"] for m, w in parts) if complete and None not in energies else None
        single = len(parts) == 1 and complete
        lat_stats = models[parts[0][0]]["latency"] if single else {}
        out[name] = {
            "top1": hp["top1"],
            "latency_ms": lat,
            "latency_p50_ms": lat_stats.get("p50_ms"),
            "latency_p90_ms": lat_stats.get("p90_ms"),
            "latency_p99_ms": lat_stats.get("p99_ms"),
            "latency_std_ms": lat_stats.get("std_ms"),
            "macs_m": hp["macs_m"],
            "resolution_share": hp["resolution_share"],
            "pass_share": share,
            "escalation_rate": hp.get("escalation_rate", 0.0),
            "stages": [m for m, _ in parts],
            "energy_mj": energy,
            "energy_note": None if energy is not None else "not measured (see energy.note)",
            "method": "computed: "
            + (
                "the backbone's time measured on the device"
                if single
                else ("predictor time + " if hp.get("uses_predictor") else "")
                + "sum over resolutions of (share of images that ran it x backbone time), per-model times measured "
                "on the device"
            )
            + "; image resize not included (the demo app measures the whole pipeline)",
        }
        if not complete:
            out[name]["latency_note"] = (
                "a model of this policy was not measured (run incomplete, or its delegate failed: see delegation)"
            )
    return out
