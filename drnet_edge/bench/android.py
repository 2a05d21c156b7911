"""Benchmark converted models on an Android phone over adb.

Models are pushed to ``/data/local/tmp/drnet-edge/`` and timed with the runtime's own benchmark
tool (LiteRT's ``benchmark_model``, ExecuTorch's ``executor_runner``), pinned to the profile's big
cores with ``taskset``. Models run in interleaved rounds (round k runs every model once, in an order
rotated by k) so no model gets a cooler or hotter phone than another. Energy comes from the
On-Device Power Monitor (Pixel 6 and later) read before and after each run, idle power subtracted.
"""

from __future__ import annotations

import math
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..checkpoint import sha256_file
from ..errors import ConfigError
from .adb import Adb, AdbDevice, AdbError, DeviceGone
from .energy import EnergyMeter, EnergyReading, EnergyUnavailable, IdleBaseline, measure_idle, net_energy_mj
from .parsers import ModelTiming, parse_benchmark_model, parse_executor_runner
from .profiles import GENERIC, DeviceProfile, profile_for_model
from .stats import pool_stats

REMOTE_DIR = "/data/local/tmp/drnet-edge"


# -- choosing the device --------------------------------------------------------------------------


def select_device(adb: Adb, spec: str, profiles: dict[str, DeviceProfile]) -> tuple[AdbDevice, DeviceProfile]:
    """``spec`` is a profile name (``pixel7``), a serial, or ``android`` (the one connected device)."""
    devices = adb.devices()
    listing = ", ".join(d.describe() for d in devices) or "none"
    if spec in profiles:
        prof = profiles[spec]
        found = [d for d in devices if prof.matches(d.model)]
        if not devices:
            raise AdbError(
                f"no Android device connected (looking for {prof.description or spec}); adb devices -l lists none"
            )
        if not found:
            raise AdbError(
                f"no {', '.join(prof.models)} connected (profile {spec!r}); connected: {listing}. "
                "Unauthorized or offline phones do not show their model: accept the USB debugging prompt first."
            )
        if len(found) > 1:
            raise AdbError(
                f"several devices match profile {spec!r}: {', '.join(d.describe() for d in found)}; pass --device SERIAL"
            )
        dev = found[0]
    elif spec == "android":
        if not devices:
            raise AdbError("no Android device connected: adb devices -l lists none")
        if len(devices) > 1:
            raise AdbError(f"several Android devices connected ({listing}); pass --device SERIAL or a profile name")
        dev = devices[0]
    else:
        match = [d for d in devices if d.serial == spec]
        if not match:
            names = ", ".join(sorted(profiles))
            raise AdbError(
                f"--device {spec!r} is neither 'local', a device profile ({names}) nor a connected serial; connected: {listing}"
            )
        dev = match[0]
    if dev.state == "unauthorized":
        raise AdbError(f"device {dev.serial} is unauthorized: unlock it and accept the 'Allow USB debugging' prompt")
    if dev.state != "device":
        raise AdbError(f"device {dev.serial} is {dev.state}: reconnect the cable or run `adb reconnect`")
    prof = profiles[spec] if spec in profiles else profile_for_model(profiles, dev.model)
    return dev, prof


# -- energy on the phone --------------------------------------------------------------------------

_IIO_LINE = re.compile(r"CH\d+\(T=(\d+)\)\[([^\]]+)\],\s*(\d+)")


def parse_energy_value(text: str) -> tuple[float, dict[str, float]]:
    """``/sys/bus/iio/devices/iio:deviceN/energy_value`` (one or several concatenated):
    (time in seconds, {rail: cumulative µJ}). The counters are micro-watt-seconds since boot."""
    rails, times = {}, []
    for m in _IIO_LINE.finditer(text):
        times.append(int(m.group(1)))
        rails[m.group(2)] = float(m.group(3))
    if not rails:
        raise EnergyUnavailable("the ODPM energy_value files hold no 'CHn(T=..)[RAIL], value' lines")
    return max(times) / 1e3, rails


def odpm_meter(adb: Adb) -> EnergyMeter:
    """The On-Device Power Monitor's cumulative rail counters (Pixel 6 and later)."""
    listing = adb.shell(
        'for d in /sys/bus/iio/devices/iio:device*; do echo "$d $(cat $d/name 2>/dev/null)"; done', check=False
    )
    devs = [ln.split()[0] for ln in listing.splitlines() if len(ln.split()) > 1 and "odpm" in ln.split()[1]]
    if not devs:
        raise EnergyUnavailable(
            "no On-Device Power Monitor on this phone (no iio device named *odpm*; Pixel 6 and later have one)"
        )
    cmd = "cat " + " ".join(f"{d}/energy_value" for d in devs)
    first = adb.shell(cmd, check=False)
    if "Permission denied" in first or not _IIO_LINE.search(first):
        raise EnergyUnavailable(
            f"cannot read {devs[0]}/energy_value as the shell user (it needs root on user builds: `adb root` on a "
            "userdebug build)"
        )

    def read() -> EnergyReading:
        t, rails = parse_energy_value(adb.shell(cmd))
        return EnergyReading(t, rails)

    return EnergyMeter("odpm", read, f"On-Device Power Monitor rails ({', '.join(devs)}), idle power subtracted")


def battery_meter(adb: Adb) -> EnergyMeter:
    """Fallback: battery charge counter (µAh) times voltage: coarse, and meaningless while charging."""
    base = "/sys/class/power_supply/battery"
    cmd = f"cat /proc/uptime {base}/charge_counter {base}/voltage_now"

    def read() -> EnergyReading:
        parts = adb.shell(cmd).split()
        try:
            uptime, charge_uah, volt_uv = float(parts[0]), float(parts[2]), float(parts[3])
        except (IndexError, ValueError):
            raise EnergyUnavailable(f"cannot read {base}/charge_counter and voltage_now") from None
        return EnergyReading(uptime, {"battery": -charge_uah * volt_uv * 1e-6 * 3600.0})

    read()
    usb = "USB powered: true" in adb.shell("dumpsys battery", check=False)
    note = "battery charge counter x voltage: coarse steps, UNRELIABLE" + (
        " (the phone is charging over USB now, which makes it meaningless)" if usb else ""
    )
    return EnergyMeter("battery", read, note, reliable=False)


ENERGY_METERS: dict[str, Callable[[Adb], EnergyMeter]] = {"odpm": odpm_meter, "battery": battery_meter}


def open_android_meter(adb: Adb, profile: DeviceProfile) -> tuple[EnergyMeter | None, str | None]:
    """The profile's meter, else the next one that works; ``(None, reason)`` if none does."""
    order = [profile.energy] if profile.energy else []
    order += [m for m in ENERGY_METERS if m not in order]
    reasons = []
    for name in order:
        try:
            return ENERGY_METERS[name](adb), None
        except EnergyUnavailable as exc:
            reasons.append(f"{name}: {exc}")
    return None, "not measured: " + "; ".join(reasons)


# -- the benchmark tools --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceTool:
    """An on-device benchmark executable for one target."""

    name: str
    target: str
    option: str  # the bench flag that supplies a local copy
    hint: str
    logcat_tag: str | None = None  # where the tool logs on Android, when not stdout

    def command(self, exe: str, model: str, entry: str | None, threads: int, runs: int, warmup: int) -> str:
        raise NotImplementedError

    def parse(self, output: str, runs: int) -> ModelTiming:
        raise NotImplementedError


class BenchmarkModel(DeviceTool):
    def command(self, exe: str, model: str, entry: str | None, threads: int, runs: int, warmup: int) -> str:
        args = [exe, f"--graph={model}", "--use_xnnpack=true", f"--num_threads={threads}"]
        args += [f"--num_runs={runs}", f"--warmup_runs={warmup}", "--min_secs=0", "--warmup_min_secs=0"]
        args += ["--report_peak_memory_footprint=true"]
        if entry:
            args.append(f"--signature_to_run_for_benchmark={entry}")
        return shlex.join(args)

    def parse(self, output: str, runs: int) -> ModelTiming:
        return parse_benchmark_model(output)


class ExecutorRunner(DeviceTool):
    def command(self, exe: str, model: str, entry: str | None, threads: int, runs: int, warmup: int) -> str:
        if entry not in (None, "forward"):
            raise ConfigError(
                f"executor_runner runs a .pte's 'forward' method; this artifact keeps backbones as methods of one file "
                f"({entry!r}). Convert with --int8 (one file per model) or bench the tflite target."
            )
        run = shlex.join([exe, f"--model_path={model}", f"--cpu_threads={threads}"])
        # no warm-up flag: a first process runs `warmup` times untimed (file cache, CPU clocks), then the timed one
        pre = f"{run} --num_executions={warmup} >/dev/null 2>&1; " if warmup else ""
        return f"{pre}{run} --num_executions={runs}"

    def parse(self, output: str, runs: int) -> ModelTiming:
        return parse_executor_runner(output, expected_runs=runs)


TOOLS: dict[str, DeviceTool] = {
    "tflite": BenchmarkModel(
        "benchmark_model",
        "tflite",
        "--benchmark-binary",
        "download LiteRT's prebuilt android_aarch64_benchmark_model (https://ai.google.dev/edge/litert/models/measurement) "
        "or build it with bazel (//tflite/tools/benchmark:benchmark_model, --config=android_arm64)",
    ),
    "executorch": ExecutorRunner(
        "executor_runner",
        "executorch",
        "--benchmark-binary",
        "build ExecuTorch's executor_runner for Android with XNNPACK and logging on "
        "(cmake -DANDROID_ABI=arm64-v8a -DEXECUTORCH_BUILD_XNNPACK=ON -DEXECUTORCH_ENABLE_LOGGING=ON; see "
        "https://pytorch.org/executorch/stable/using-executorch-building-from-source)",
        logcat_tag="ExecuTorch",
    ),
}


def get_tool(target: str) -> DeviceTool:
    if target not in TOOLS:
        raise ConfigError(f"runtime {target!r} cannot be benchmarked on Android; use one of {', '.join(TOOLS)}")
    return TOOLS[target]


def push_if_changed(adb: Adb, local: Path, remote: str, sha256: str | None = None) -> bool:
    """Push ``local`` unless the device already holds identical bytes; returns whether it pushed."""
    sha256 = sha256 or sha256_file(local)
    have = adb.shell(f"sha256sum {shlex.quote(remote)} 2>/dev/null", check=False).split()
    if have and have[0] == sha256:
        return False
    adb.shell(f"mkdir -p {shlex.quote(str(Path(remote).parent))}")
    adb.push(local, remote)
    return True


def find_binary(adb: Adb, tool: DeviceTool, local: Path | None) -> str:
    """Push the user's binary, or find one already on the device."""
    remote = f"{REMOTE_DIR}/bin/{tool.name}"
    if local is not None:
        if not local.is_file():
            raise ConfigError(f"{tool.option} {local}: no such file")
        push_if_changed(adb, local, remote)
        adb.shell(f"chmod 755 {remote}")
        return remote
    for cand in (remote, f"/data/local/tmp/{tool.name}"):
        if adb.shell(f"test -x {cand} && echo yes", check=False).strip() == "yes":
            return cand
    found = adb.shell(f"command -v {tool.name}", check=False).strip()
    if found:
        return found
    raise ConfigError(
        f"no {tool.name} on the device and no {tool.option} given: {tool.hint}; then pass {tool.option} PATH"
    )


# -- the run --------------------------------------------------------------------------------------


def bench_android(
    adb: Adb,
    device: AdbDevice,
    profile: DeviceProfile,
    artifacts: Path,
    manifest: dict,
    target: str,
    *,
    threads: int | None = None,
    runs: int = 50,
    warmup: int = 5,
    rounds: int = 3,
    cooldown_s: float = 0.0,
    energy: bool = False,
    idle_s: float = 5.0,
    binary: Path | None = None,
    done: dict[str, dict] | None = None,
    log: Callable[[str], None] = lambda m: None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Time every model of ``target`` on the phone; returns the report's ``models`` part, energy
    details, and ``incomplete`` (with the reason) when the phone went away mid-run."""
    tool = get_tool(target)
    models = manifest["targets"][target]["models"]
    threads = threads or profile.threads
    exe = find_binary(adb, tool, binary)
    remote = {}
    for name, info in models.items():
        remote[name] = f"{REMOTE_DIR}/{target}/{Path(info['file']).name}"
        if push_if_changed(adb, artifacts / info["file"], remote[name], info["sha256"]):
            log(f"pushed {info['file']} -> {remote[name]}")
    meter, energy_note = open_android_meter(adb, profile) if energy else (None, "not measured: pass --energy")
    idle: IdleBaseline | None = None
    if meter:
        log(f"measuring idle power for {idle_s:.0f} s")
        idle = measure_idle(meter, idle_s, sleep=sleep)
    pin = f"taskset {profile.big_cores} " if profile.big_cores else ""
    per_round = max(1, math.ceil(runs / rounds))
    names = list(models)
    parts: dict[str, list[ModelTiming]] = {n: [] for n in names}
    energy_parts: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    done = done or {}
    incomplete = None
    try:
        for rnd in range(rounds):
            for name in names[rnd % len(names) :] + names[: rnd % len(names)]:
                if name in done:
                    continue
                cmd = pin + tool.command(exe, remote[name], models[name].get("entry"), threads, per_round, warmup)
                if tool.logcat_tag:
                    adb.shell("logcat -c", check=False)
                a = meter.read() if meter else None
                out = adb.shell(cmd)
                b = meter.read() if meter else None
                if tool.logcat_tag:
                    out += adb.shell(f"logcat -d -s {tool.logcat_tag}:I", check=False)
                timing = tool.parse(out, per_round)
                parts[name].append(timing)
                if meter and a and b:
                    energy_parts[name].append(net_energy_mj(meter, a, b, idle, count=max(timing.inferences, 1)))
                log(f"round {rnd + 1}/{rounds} {name}: {timing.latency.mean_ms:.2f} ms")
                if cooldown_s:
                    sleep(cooldown_s)
    except DeviceGone as exc:
        incomplete = str(exc)
    results = dict(done)
    for name in names:
        if name in done or not parts[name]:
            continue
        if incomplete and len(parts[name]) < rounds:
            continue  # only models with every round count
        lat = pool_stats([p.latency for p in parts[name]])
        inits = [p.init_ms for p in parts[name] if p.init_ms is not None]
        mems = [p.peak_memory_mb for p in parts[name] if p.peak_memory_mb is not None]
        e = energy_parts[name]
        rails = {k: sum(d[k] for d in e) / len(e) for k in e[0]} if e else None
        info = models[name]
        results[name] = {
            "file": info["file"],
            "precision": info["precision"],
            "macs_m": info["macs"] / 1e6,
            "input_size": info["input_size"],
            "latency": lat.to_json(),
            "load_ms": sum(inits) / len(inits) if inits else None,
            "peak_memory_mb": max(mems) if mems else None,
            "memory_note": None if mems else f"{tool.name} did not report memory",
            "energy_mj": rails["total"] if rails else None,
            "energy_rails_mj": rails,
            "rounds": len(parts[name]),
        }
    return {
        "models": results,
        "schedule": f"{rounds} interleaved rounds of {per_round} runs (model order rotated each round)"
        + (f", {cooldown_s:.0f} s cool-down after each run" if cooldown_s else ""),
        "tool": {"name": tool.name, "path": exe, "pinning": pin.strip() or "none", "threads": threads},
        "energy": {
            "meter": meter.name if meter else None,
            "note": meter.note if meter else energy_note,
            "reliable": meter.reliable if meter else None,
            "idle": idle.to_json() if idle else None,
            "method": "per run: (counter after - counter before - idle power x duration) / inferences the tool ran "
            "(its model load and warm-up included)",
        },
        "incomplete": incomplete,
    }


def android_device_info(adb: Adb, device: AdbDevice, profile: DeviceProfile) -> dict:
    props = {}
    for key in ("ro.product.model", "ro.product.manufacturer", "ro.build.version.release", "ro.soc.model"):
        props[key] = adb.shell(f"getprop {key}", check=False).strip()
    return {
        "name": profile.name if profile is not GENERIC else (device.model or device.serial),
        "kind": "android",
        "serial": device.serial,
        "model": props["ro.product.model"] or (device.model or "").replace("_", " "),
        "manufacturer": props["ro.product.manufacturer"],
        "android": props["ro.build.version.release"],
        "soc": props["ro.soc.model"],
        "profile": profile.to_json(),
    }


# -- the demo app's own measurement (android_demo/, BenchActivity) -------------------------------

APP_PACKAGE = "dev.drnetedge.demo"
APP_FILES = f"/sdcard/Android/data/{APP_PACKAGE}/files"
APP_FORMAT = "drnet-edge/app-bench"


def bench_app(
    adb: Adb,
    images: list[tuple[Path, str | None]],
    *,
    threads: int,
    runs: int,
    warmup: int,
    timeout_s: float = 1800.0,
    poll_s: float = 2.0,
    log: Callable[[str], None] = lambda m: None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Push ``images`` (path, class id or None) into the demo app's files, start its BenchActivity,
    wait for its result and return the parsed ``drnet-edge/app-bench`` JSON."""
    import json
    import tempfile

    if not adb.shell(f"pm path {APP_PACKAGE}", check=False).strip():
        raise ConfigError(
            f"the demo app ({APP_PACKAGE}) is not installed on {adb.serial}: build and install it as "
            "android_demo/README.md says, with the artifacts copied into its assets"
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = f"bench-{stamp}.json"
    remote_images = f"{APP_FILES}/drnet-edge-images"
    with tempfile.TemporaryDirectory(prefix="drnet-edge-app-") as tmp:
        stage = Path(tmp) / "drnet-edge-images"
        for i, (path, cls) in enumerate(images):
            dst = stage / cls if cls else stage
            dst.mkdir(parents=True, exist_ok=True)
            (dst / f"{i:05d}{path.suffix.lower()}").write_bytes(path.read_bytes())
        adb.shell(f"rm -rf {remote_images} && mkdir -p {APP_FILES}")
        log(f"pushing {len(images)} images to {remote_images}")
        adb.push(stage, remote_images)
        adb.shell(f"rm -f {APP_FILES}/{out} {APP_FILES}/{out}.done {APP_FILES}/{out}.failed", check=False)
        adb.shell(
            f"am start -W -n {APP_PACKAGE}/.BenchActivity --es images drnet-edge-images --es out {out} "
            f"--ei threads {threads} --ei runs {runs} --ei warmup {warmup}"
        )
        waited = 0.0
        while True:
            listing = adb.shell(f"ls {APP_FILES}/{out}.done {APP_FILES}/{out}.failed 2>/dev/null", check=False)
            if f"{out}.failed" in listing:
                why = adb.shell(f"cat {APP_FILES}/{out}.failed", check=False).strip()
                raise ConfigError(f"the demo app's benchmark failed on the device: {why}")
            if f"{out}.done" in listing:
                break
            if waited >= timeout_s:
                raise ConfigError(
                    f"the demo app wrote no result within {timeout_s:.0f} s (see `adb logcat -s DrnetBench`)"
                )
            sleep(poll_s)
            waited += poll_s
        local = Path(tmp) / out
        adb.pull(f"{APP_FILES}/{out}", local)
        try:
            result = json.loads(local.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"the demo app's {out} is not valid JSON ({exc})") from None
    if result.get("format") != APP_FORMAT:
        raise ConfigError(f"the demo app's {out} is not {APP_FORMAT} JSON (format: {result.get('format')!r})")
    return result


def app_policies(app: dict) -> dict:
    """The app's per-policy figures in the bench report's shape (all measured on the device)."""
    out = {}
    for name, p in app["policies"].items():
        out[name] = {
            "top1": p.get("top1"),
            "latency_ms": p["latency_ms"],
            "latency_p50_ms": p.get("latency_p50_ms"),
            "latency_p90_ms": p.get("latency_p90_ms"),
            "latency_p99_ms": p.get("latency_p99_ms"),
            "latency_std_ms": p.get("latency_std_ms"),
            "n": p.get("n"),
            "macs_m": p["macs"] / 1e6 if p.get("macs") is not None else None,
            "resolution_share": p["resolution_share"],
            "energy_mj": None,
            "energy_note": "not measured in --app mode (the app runs every policy on each image in turn)",
            "method": "measured end to end on the device by the demo app (crop, resize, normalise, "
            + ("predictor, " if name == "drnet" else "")
            + "backbone; decode excluded)",
        }
    return out
