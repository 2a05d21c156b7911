"""``--app``: the installed demo app (android_demo/, its BenchActivity) measures the whole pipeline
on the phone: crop, resize, normalise, predictor and backbone, every policy on each image in turn."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import ConfigError
from ..delegates import DELEGATES, Delegation, delegation_header
from ..meters.resident import app_resident
from ..options import BenchOptions
from ..transport.adb import Adb
from .android import AndroidPath
from .base import Measurement, register_path

if TYPE_CHECKING:
    from ...runtime.manifest import Manifest

APP_PACKAGE = "dev.drnetedge.demo"
APP_FILES = f"/sdcard/Android/data/{APP_PACKAGE}/files"
APP_FORMAT = "drnet-edge/app-bench"


@register_path
class AppPath(AndroidPath):
    """The demo app's own end-to-end measurement of ``opts.data``'s images on the phone."""

    name = "app"
    words = "--app (the demo app)"

    @classmethod
    def matches(cls, opts: BenchOptions) -> bool:
        return opts.app

    def measure(
        self, root: Path, manifest: Manifest, target: str, opts: BenchOptions, previous: dict | None
    ) -> Measurement:
        from ...data.classes import own_classes
        from ...data.folders import scan_folder

        adb, _, profile, info = self.connect(opts)
        if target != "tflite":
            raise ConfigError("--app runs the demo app, which uses the tflite models: pass --runtime tflite")
        assert opts.data is not None  # run_bench fills in the bundled sample before a path measures
        folder = scan_folder(opts.data, classes=own_classes(manifest.classes), limit=opts.limit, subset=opts.subset)
        images = [
            (p, folder.classes.ids[y] if folder.classes and y >= 0 else None)
            for p, y in zip(folder.paths, folder.labels, strict=True)
        ]
        threads = opts.threads or profile.threads
        result = bench_app(adb, images, opts, threads=threads)
        asked = opts.delegate or "cpu"
        return Measurement(
            device=info,
            n=result.get("n_images", len(images)),
            skipped_bad=[],
            threads=threads,
            models={},
            policies=app_policies(result),
            energy={"meter": None, "note": "not measured in --app mode", "reliable": None, "idle": None},
            schedule="the demo app's: every image runs every policy in turn (android_demo/README.md)",
            default_policy=result.get("default_policy"),
            sections={
                "stages_ms": result.get("stages_ms", {}),
                "tool": {"name": "demo app BenchActivity", "threads": threads},
                "app": {
                    k: result.get(k) for k in ("device", "n_images", "runs", "warmup", "precision", "source_model")
                },
                "delegation": app_delegation(result.get("delegate"), asked),
                "resident": app_resident(result.get("startup")),
            },
        )


def bench_app(
    adb: Adb,
    images: list[tuple[Path, str | None]],
    opts: BenchOptions,
    *,
    threads: int,
    poll_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Push ``images`` (path, class id or None) into the demo app's files, start its BenchActivity
    with ``threads`` and ``opts``' runs and warmup, wait up to ``opts.app_timeout_s`` for its result
    and return the parsed ``drnet-edge/app-bench`` JSON."""
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
        opts.log(f"pushing {len(images)} images to {remote_images}")
        adb.push(stage, remote_images)
        adb.shell(f"rm -f {APP_FILES}/{out} {APP_FILES}/{out}.done {APP_FILES}/{out}.failed", check=False)
        adb.shell(
            f"am start -W -n {APP_PACKAGE}/.BenchActivity --es images drnet-edge-images --es out {out} "
            f"--ei threads {threads} --ei runs {opts.runs} --ei warmup {opts.warmup}"
            + (f" --es delegate {opts.delegate}" if opts.delegate else "")
        )
        _wait_for(adb, out, opts.app_timeout_s, poll_s, sleep)
        local = Path(tmp) / out
        adb.pull(f"{APP_FILES}/{out}", local)
        try:
            result = json.loads(local.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"the demo app's {out} is not valid JSON ({exc})") from None
    if result.get("format") != APP_FORMAT:
        raise ConfigError(f"the demo app's {out} is not {APP_FORMAT} JSON (format: {result.get('format')!r})")
    return result


def _wait_for(adb: Adb, out: str, timeout_s: float, poll_s: float, sleep: Callable[[float], None]) -> None:
    """Until the app marks ``out`` done; its failure or no result within ``timeout_s`` raise."""
    waited = 0.0
    while True:
        listing = adb.shell(f"ls {APP_FILES}/{out}.done {APP_FILES}/{out}.failed 2>/dev/null", check=False)
        if f"{out}.failed" in listing:
            why = adb.shell(f"cat {APP_FILES}/{out}.failed", check=False).strip()
            raise ConfigError(f"the demo app's benchmark failed on the device: {why}")
        if f"{out}.done" in listing:
            return
        if waited >= timeout_s:
            raise ConfigError(f"the demo app wrote no result within {timeout_s:.0f} s (see `adb logcat -s DrnetBench`)")
        sleep(poll_s)
        waited += poll_s


def app_delegation(app: dict | None, asked: str) -> dict:
    """The app's "delegate" (per model file: asked, used, refused with the reason) in the report's shape."""
    head = delegation_header(asked, "tflite")
    if not app:
        return head | {"note": "this build of the demo app reports no delegate (rebuild it)"}
    spec = DELEGATES[asked]
    rows = {}
    for name, m in app.get("models", {}).items():
        status = "refused" if m.get("status") == "refused" else "full" if m.get("used") == asked else "unknown"
        d = Delegation(asked, status, evidence=[m["reason"]] if m.get("reason") else [])
        rows[name] = d.to_json() | {"used": m.get("used")}
    return head | {"flags": [spec.app_option], "models": rows, "fell_back": app.get("fell_back", [])}


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
            "pass_share": p.get("pass_share", p["resolution_share"]),
            "escalation_rate": p.get("escalation_rate", 0.0),
            "energy_mj": None,
            "energy_note": "not measured in --app mode (the app runs every policy on each image in turn)",
            "method": "measured end to end on the device by the demo app (crop, resize, normalise, "
            + ("predictor, " if p.get("uses_predictor", name == "drnet") else "")
            + "backbone; decode excluded)",
        }
    return out
