"""The phone side of an Android bench: which device, what it is, and its benchmark tools.

Models are pushed to ``/data/local/tmp/drnet-edge/`` and timed with the runtime's own benchmark
tool (LiteRT's ``benchmark_model``, ExecuTorch's ``executor_runner``); the run itself (interleaved
rounds, energy) is :mod:`drnet_edge.bench.paths.android_run`, the demo app's measurement
:mod:`drnet_edge.bench.paths.app`; both are an :class:`AndroidPath`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from ..._io import sha256_file
from ...errors import ConfigError
from ..options import BenchOptions
from ..profiles import GENERIC, DeviceProfile, load_profiles, profile_for_model
from ..transport.adb import Adb, AdbDevice, AdbError
from .base import BenchPath
from .parsers import ModelTiming, parse_benchmark_model, parse_executor_runner

REMOTE_DIR = "/data/local/tmp/drnet-edge"
ANDROID_HINT = "--device PROFILE, SERIAL or android"


# -- the two phone paths ---------------------------------------------------------------------------


class AndroidPath(BenchPath):
    """What the phone's tools and the demo app share: any device name that no other path takes (a profile,
    a serial or ``android``), the phone found over adb, and what it is."""

    kind = "android"
    kind_words = f"Android devices ({ANDROID_HINT})"
    catch_all = True

    @classmethod
    def check(cls, opts: BenchOptions) -> None:
        if opts.policies:
            raise ConfigError(
                "--policies is measured by the local bench only (--device local or a board over ssh://); on a "
                "phone the bench measures the fixed resolutions and the artifacts' default policy"
            )

    def before_reading(self, opts: BenchOptions) -> None:
        refuse_board_profile(opts.device, load_profiles(opts.profiles))  # a board profile named as a phone

    @staticmethod
    def connect(opts: BenchOptions) -> tuple[Adb, AdbDevice, DeviceProfile, dict]:
        """adb bound to the phone ``opts.device`` names, the phone, its profile and its facts for the report."""
        adb = Adb.find()
        dev, profile = select_device(adb, opts.device, load_profiles(opts.profiles))
        adb = adb.bound(dev.serial)
        return adb, dev, profile, android_device_info(adb, dev, profile)


# -- choosing the device --------------------------------------------------------------------------


def refuse_board_profile(spec: str, profiles: dict[str, DeviceProfile]) -> None:
    """``--device rpi5``: a board is reached over SSH, not adb; said before adb is looked for."""
    if spec in profiles and profiles[spec].extra.get("kind") == "board":
        raise ConfigError(
            f"--device {spec} is a board profile: bench a board with --device ssh://[user@]HOST --board {spec}"
        )


def select_device(adb: Adb, spec: str, profiles: dict[str, DeviceProfile]) -> tuple[AdbDevice, DeviceProfile]:
    """``spec`` is a profile name (``pixel7``), a serial, or ``android`` (the one connected device)."""
    refuse_board_profile(spec, profiles)
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


def android_device_info(adb: Adb, device: AdbDevice, profile: DeviceProfile) -> dict:
    """What the phone is, for the report."""
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


# -- the benchmark tools --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceTool:
    """An on-device benchmark executable for one target."""

    name: str
    target: str
    option: str  # the bench flag that supplies a local copy
    hint: str
    logcat_tag: str | None = None  # where the tool logs on Android, when not stdout

    def command(
        self, exe: str, model: str, entry: str | None, threads: int, runs: int, warmup: int, flags: tuple[str, ...] = ()
    ) -> str:
        """The shell command timing ``model``; ``flags`` are the tool's own extra flags (delegate, profiling)."""
        raise NotImplementedError

    def parse(self, output: str, runs: int) -> ModelTiming:
        raise NotImplementedError


class BenchmarkModel(DeviceTool):
    def command(
        self, exe: str, model: str, entry: str | None, threads: int, runs: int, warmup: int, flags: tuple[str, ...] = ()
    ) -> str:
        delegate = [f for f in flags if f.startswith("--use_")] or ["--use_xnnpack=true"]
        args = [exe, f"--graph={model}", *delegate, f"--num_threads={threads}"]
        args += [f"--num_runs={runs}", f"--warmup_runs={warmup}", "--min_secs=0", "--warmup_min_secs=0"]
        args += ["--report_peak_memory_footprint=true"]
        if entry:
            args.append(f"--signature_to_run_for_benchmark={entry}")
        return shlex.join(args + [f for f in flags if not f.startswith("--use_")])

    def parse(self, output: str, runs: int) -> ModelTiming:
        return parse_benchmark_model(output)


class ExecutorRunner(DeviceTool):
    def command(
        self, exe: str, model: str, entry: str | None, threads: int, runs: int, warmup: int, flags: tuple[str, ...] = ()
    ) -> str:
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
