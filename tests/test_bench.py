"""The bench harness: parsers on real captured tool output, statistics, device profiles, the local
bench with the real runtimes, and the adb layer against a scripted stand-in `adb` (tests/data/adb)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from drnet_edge.bench import BenchOptions, run_bench
from drnet_edge.bench.meters.energy import parse_energy_value
from drnet_edge.bench.paths.parsers import ToolOutputError, parse_benchmark_model, parse_executor_runner
from drnet_edge.bench.profiles import load_profiles, profile_for_model
from drnet_edge.bench.report.markdown import markdown
from drnet_edge.bench.timing import latency_stats, pool_stats
from drnet_edge.bench.transport.adb import parse_devices
from drnet_edge.cli import app
from drnet_edge.errors import ConfigError

from .conftest import modules_after_importing

ADB_DATA = Path(__file__).parent / "data" / "adb"
SOURCES = ADB_DATA / "sources"
REQUIRED = {"top1", "latency_ms", "latency_p90_ms", "energy_mj"}


def capture(name: str) -> str:
    """A verbatim capture without its provenance header and the shell prompt line."""
    lines = (SOURCES / name).read_text().splitlines()
    return "\n".join(ln for ln in lines if not ln.startswith(("# source:", "# notes:", "$ "))) + "\n"


def _cli(args: list[str], env: dict | None = None):
    return CliRunner().invoke(app, args, env=env)


# -- parsers, on verbatim captures ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, runs, mean_ms, warm, mem",
    [
        ("tflite_benchmark_old_android_tf2x_issue42507.txt", 50, 33.2094, 15, 12.8672),
        ("tflite_benchmark_old_android_2022_kws_issue802.txt", 1000, 1.03966, 478, None),
        ("tflite_benchmark_old_riscv_sci_notation_meta_tflite.txt", 50, 2950.34, 1, 46.0859),
        ("tflite_benchmark_new_linux_min_warmup_arm_learning_path.txt", 337, 2.94227, 153, 40.8281),
        ("tflite_benchmark_new_use_xnnpack_false_ti_docs.txt", 50, 971.535, 1, 109.848),
    ],
)
def test_benchmark_model_captures(name: str, runs: int, mean_ms: float, warm: int, mem: float | None) -> None:
    t = parse_benchmark_model(capture(name))
    assert t.latency.runs == runs and t.latency.mean_ms == pytest.approx(mean_ms)
    assert t.warmup_runs == warm and t.peak_memory_mb == mem and t.inferences == runs + warm
    assert t.latency.p90_ms is None  # the tool prints no single runs


def test_benchmark_model_new_format_percentiles() -> None:
    # the capture holds two runs (CPU, then GPU); the first run's block is the CPU one
    text = capture("tflite_benchmark_new_android_adb_shell_percentiles.txt")
    cpu = text[: text.index("if used gpu")]
    t = parse_benchmark_model(cpu)
    assert t.latency.runs == 50 and t.latency.mean_ms == pytest.approx(699.438)
    assert t.latency.p50_ms == pytest.approx(576.856) and t.warmup_runs == 1 and t.init_ms == pytest.approx(102.32)


def test_executor_runner_captures() -> None:
    t = parse_executor_runner(capture("executorch_executor_runner_newer_iteration_lines.txt"))
    assert (
        t.latency.runs == 1
        and t.latency.mean_ms == pytest.approx(241.944288)
        and t.init_ms == pytest.approx(4463.268273)
    )
    t = parse_executor_runner(capture("executorch_executor_runner_linux_console.txt"))
    assert t.latency.runs == 1 and t.latency.mean_ms == pytest.approx(0.691078)
    with pytest.raises(ToolOutputError, match="EXECUTORCH_ENABLE_LOGGING"):
        parse_executor_runner(capture("executorch_xnn_executor_runner_android_no_logs_issue4005.txt"))


def test_tool_failure_is_quoted() -> None:
    with pytest.raises(ToolOutputError, match="Could not open"):
        parse_benchmark_model("STARTING!\nGraph: [/x.tflite]\nERROR: Could not open '/x.tflite'.\n")


def test_energy_value_capture() -> None:
    t, rails = parse_energy_value(capture("odpm_energy_value_pixel6_aosp_script.txt"))
    assert rails["S2M_VDD_CPUCL2"] == 30203502 and rails["VSYS_PWR_DISPLAY"] == 81221665 and len(rails) == 16
    assert t == pytest.approx(359.458)


def test_devices_listing_captures() -> None:
    devs = parse_devices(capture("adb_devices_l_single_pixel7_perfetto_docs.txt"))
    assert [(d.serial, d.state, d.model) for d in devs] == [("24121FDH20006S", "device", "Pixel_7")]
    devs = parse_devices(capture("adb_devices_l_multi_unauthorized_expo_issue.txt"))
    assert [d.state for d in devs] == ["unauthorized", "device"] and devs[0].model is None


# -- statistics and profiles ----------------------------------------------------------------------


def test_latency_stats_and_exact_pooling() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.gamma(4, 2, 37), rng.gamma(5, 2, 23)
    s = latency_stats(np.concatenate([a, b]))
    assert s.p90_ms == pytest.approx(np.percentile(np.concatenate([a, b]), 90))
    pooled = pool_stats([latency_stats(a), latency_stats(b)])
    assert pooled.runs == 60 and pooled.mean_ms == pytest.approx(s.mean_ms) and pooled.std_ms == pytest.approx(s.std_ms)
    assert pooled.min_ms == s.min_ms and pooled.max_ms == s.max_ms and pooled.p90_ms is None


def test_profiles_bundled_and_user_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    p = load_profiles()
    assert p["pixel7"].big_cores == "f0" and p["pixel7"].matches("Pixel_7") and not p["pixel7"].matches("Pixel 7 Pro")
    assert profile_for_model(p, "Pixel 8").name == "pixel8"
    extra = tmp_path / "mine.json"
    extra.write_text(json.dumps({"profiles": {"a54": {"models": ["SM-A546B"], "big_cores": "c0", "threads": 2}}}))
    p = load_profiles(extra)
    assert p["a54"].threads == 2 and p["a54"].source == str(extra) and "pixel7" in p
    extra.write_text(json.dumps({"profiles": {"bad": {"models": ["X"], "big_cores": "zz"}}}))
    with pytest.raises(ConfigError, match="hex CPU mask"):
        load_profiles(extra)
    with pytest.raises(ConfigError, match="does not exist"):
        load_profiles(tmp_path / "missing.json")


# -- converted tiny artifacts ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_artifacts(tiny_converted) -> Path:
    """The tiny DRNet converted for every target, int8 (shared with test_convert; read-only)."""
    return tiny_converted("all", int8=True)[0]


@pytest.mark.parametrize("runtime", ["tflite", "executorch", "onnx"])
def test_local_bench_real_runtimes(tiny_artifacts: Path, tiny, runtime: str) -> None:
    opts = BenchOptions(runtime=runtime, data=tiny[1], runs=5, warmup=1, threads=1, progress=False)
    rep = run_bench(tiny_artifacts, opts)
    assert rep["runtime"] == runtime and rep["precision"] == "int8" and rep["threads"] == 1
    assert rep["device"]["kind"] == "local" and rep["n"] == 12 and rep["reference"] == "fixed-64"
    assert set(rep["policies"]) == {"fixed-64", "fixed-48", "drnet"}
    for name, p in rep["policies"].items():
        assert REQUIRED <= set(p), name
        assert p["latency_ms"] > 0 and p["latency_p90_ms"] >= p["latency_p50_ms"] and p["n"] == 12
        assert 0 <= p["top1"] <= 1
        assert p["energy_mj"] is None and "pass --energy" in p["energy_note"]
    assert rep["policies"]["fixed-64"]["latency_vs_ref"] == 1.0
    assert sum(rep["policies"]["drnet"]["resolution_share"].values()) == pytest.approx(1.0)
    for m in rep["models"].values():
        assert m["latency"]["runs"] == 5 and m["load_ms"] > 0
    # the runtime's first import and set-up came before the timed loads, and is reported apart
    assert rep["runtime_init_ms"] > 0 and isinstance(rep["warnings"], list)


def test_local_bench_measures_extra_policies(tiny_artifacts: Path, tiny) -> None:
    """--policies adds deployable policies (their deployed loop, every pass timed); a replay-only policy,
    or --policies on a phone, is refused."""
    extra = ("cascade-48:0.5-64", "drnet-escalate:0.5", "fixed-48")
    opts = BenchOptions(data=tiny[1], runs=2, warmup=1, threads=1, progress=False, policies=extra)
    rep = run_bench(tiny_artifacts, opts)
    assert set(rep["policies"]) == {"fixed-64", "fixed-48", "drnet", "cascade-48:0.5-64", "drnet-escalate:0.5"}
    cascade = rep["policies"]["cascade-48:0.5-64"]
    assert cascade["mean_passes"] == pytest.approx(1 + cascade["escalation_rate"])
    for bad, message in (("oracle", "not a deployable policy"), ("random", "not a deployable policy")):
        with pytest.raises(ConfigError, match=f"--policies {bad}: {message}"):
            run_bench(tiny_artifacts, BenchOptions(data=tiny[1], runs=1, progress=False, policies=(bad,)))
    with pytest.raises(ConfigError, match="--policies is measured by the local bench only"):
        BenchOptions(device="pixel7", policies=("drnet",))


def test_local_bench_cli_writes_json_report_plot(tiny_artifacts: Path, tiny, tmp_path: Path) -> None:
    out = tmp_path / "o"
    r = _cli(
        ["bench", "--artifacts", str(tiny_artifacts), "--data", str(tiny[1]), "--runs", "3", "--warmup", "1",
         "--energy", "--quiet", "--json", str(out / "b.json"), "--report", str(out / "b.md"), "--plot", str(out / "b.png")]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rep = json.loads((out / "b.json").read_text())
    assert rep["format"] == "drnet-edge/bench" and rep["runtime"] == "tflite"
    assert "fixed-64" in r.output and "drnet" in r.output
    if rep["energy"]["meter"] is None:  # no readable RAPL here: null with the reason, never an estimate
        assert (
            rep["policies"]["drnet"]["energy_mj"] is None and "not measured" in rep["policies"]["drnet"]["energy_note"]
        )
    assert (out / "b.png").stat().st_size > 1000 and "## How this was measured" in (out / "b.md").read_text()


def test_bench_bad_input(tiny_artifacts: Path, tmp_path: Path) -> None:
    r = _cli(["bench", "--artifacts", str(tmp_path)])
    assert r.exit_code == 2 and "manifest.json" in r.output
    r = _cli(["bench", "--artifacts", str(tiny_artifacts), "--runtime", "coreml"])
    assert r.exit_code == 2 and "--runtime coreml" in r.output


# -- the options: one set, one set of defaults, refused where they do not apply -------------------

# flag -> extra arguments (a value, and what the flag needs to be reached)
ANDROID_ONLY = {
    "--rounds": ["2"],
    "--cooldown": ["1.5"],
    "--profiles": ["PROFILES"],
    "--benchmark-binary": ["BINARY"],
    "--resume": ["--json", "PREVIOUS"],
    "--app": [],
    "--app-timeout": ["60"],
}


@pytest.mark.parametrize("flag", list(ANDROID_ONLY))
def test_local_refuses_android_only_flags(flag: str, tmp_path: Path) -> None:
    files = {"PROFILES": tmp_path / "p.json", "BINARY": tmp_path / "benchmark_model", "PREVIOUS": tmp_path / "r.json"}
    files["PROFILES"].write_text(json.dumps({"profiles": {}}))
    files["BINARY"].write_bytes(b"\x7fELF")
    files["PREVIOUS"].write_text(json.dumps({"format": "drnet-edge/bench", "incomplete": "cut"}))
    extra = [str(files.get(a, a)) for a in ANDROID_ONLY[flag]]
    # no manifest in tmp_path: the refusal comes before the artifacts are read
    r = _cli(["bench", "--artifacts", str(tmp_path), "--device", "local", "--quiet", flag, *extra])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert f"{flag} applies only to Android devices" in text and "--device local" in text
    assert "Traceback" not in r.output and "manifest.json" not in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_local_refusal_names_every_flag_and_resume_without_json(tmp_path: Path) -> None:
    r = _cli(["bench", "--artifacts", str(tmp_path), "--rounds", "2", "--cooldown", "1", "--quiet"])
    assert r.exit_code == 2 and "--rounds, --cooldown apply only to Android devices" in " ".join(r.output.split())
    r = _cli(["bench", "--artifacts", str(tmp_path), "--resume", "--quiet"])
    assert r.exit_code == 2 and "--resume applies only to Android devices" in " ".join(r.output.split())
    r = _cli(["bench", "--artifacts", str(tmp_path), "--device", "pixel7", "--resume", "--quiet"])
    assert r.exit_code == 2 and "--resume needs --json FILE" in " ".join(r.output.split())


def test_bench_options_api_refuses_and_coerces() -> None:
    with pytest.raises(ConfigError, match="--benchmark-binary applies only to Android devices"):
        BenchOptions(benchmark_binary="bm")
    with pytest.raises(ConfigError, match="--runs and --rounds"):
        BenchOptions(device="pixel7", rounds=0)
    o = BenchOptions(device="pixel7", benchmark_binary="bm", profiles="p.json", data="imgs", rounds=5)
    assert o.benchmark_binary == Path("bm") and o.profiles == Path("p.json") and o.data == Path("imgs")
    assert o.kind == "android" and BenchOptions().kind == "local"


def test_bench_options_defaults_are_the_clis() -> None:
    """One set of defaults: every CLI option's default is the dataclass's (names mapped)."""
    import typer.main

    params = {p.name: p.default for p in typer.main.get_command(app).commands["bench"].params}
    renamed = {"idle": "idle_s", "cooldown": "cooldown_s", "app_timeout": "app_timeout_s", "max_temp": "max_temp_c",
               "temp_timeout": "temp_timeout_s"}  # fmt: skip
    cli_only = {"artifacts", "json_out", "report", "plot", "quiet", "resume", "policies", "ssh_option"}
    defaults = {f.name: f.default for f in fields(BenchOptions)}
    for name, default in params.items():
        if name not in cli_only:
            assert defaults[renamed.get(name, name)] == default, name
    assert params["quiet"] is False and defaults["progress"] is True
    assert params["resume"] is False and defaults["resume"] is None
    assert params["policies"] is None and defaults["policies"] == ()  # a comma-separated string on the CLI
    assert params["ssh_option"] is None and defaults["ssh_options"] == ()  # repeatable on the CLI
    assert set(defaults) - {renamed.get(n, n) for n in params} == {"progress", "log", "ssh_options"}


def test_importing_bench_pulls_in_no_trainer_or_exporter() -> None:
    heavy = ("torch", "converters", "executorch", "ai_edge_torch", "litert_torch", "onnx2tf", "tensorflow")
    loaded = modules_after_importing(
        "drnet_edge.bench", "drnet_edge.bench.paths.app", "drnet_edge.bench.paths.android_run"
    )
    found = [
        n
        for n in loaded
        if n.split(".")[0] in heavy or n in ("drnet_edge.train", "drnet_edge.convert", "drnet_edge.evaluate")
    ]
    assert found == [], found


# -- Android over the scripted stand-in adb -------------------------------------------------------


@pytest.fixture
def fake_adb(tmp_path: Path, monkeypatch):
    """Put the stand-in first on PATH; returns a function that sets the scenario."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "adb").symlink_to(ADB_DATA / "fake_adb")
    state = tmp_path / "phone"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("ADB", raising=False)
    monkeypatch.setenv("FAKE_ADB_STATE", str(state))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))

    def scenario(**kw) -> Path:
        base = {
            "devices": "devices_pixel7.txt",
            "props": {"ro.product.model": "Pixel 7", "ro.product.manufacturer": "Google", "ro.soc.model": "GS201",
                      "ro.build.version.release": "14"},
            "latency_us": {"predictor.tflite": 900, "backbone_64.tflite": 8000, "backbone_48.tflite": 4500,
                           "predictor.pte": 1000, "backbone_64.pte": 9000, "backbone_48.pte": 5000},
            "active_mw": {"S2M_VDD_CPUCL2": 1500.0, "S3M_VDD_CPUCL1": 400.0, "S1M_VDD_MIF": 100.0},
            "device_binaries": ["/data/local/tmp/benchmark_model"],
        }  # fmt: skip
        base.update(kw)
        p = tmp_path / "scenario.json"
        p.write_text(json.dumps(base))
        monkeypatch.setenv("FAKE_ADB_SCENARIO", str(p))
        return state

    return scenario


def _calls(state: Path) -> list[list[str]]:
    return [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]


def _android(art: Path, data: Path, out: Path, *extra: str):
    return _cli(
        ["bench", "--artifacts", str(art), "--device", "pixel7", "--data", str(data), "--runs", "30", "--rounds", "3",
         "--warmup", "2", "--quiet", "--json", str(out), *extra]
    )  # fmt: skip


@pytest.mark.parametrize("template", ["benchmark_model_new.tmpl", "benchmark_model_old.tmpl"])
def test_android_tflite_bench(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path, template: str) -> None:
    state = fake_adb(benchmark_template=template)
    out = tmp_path / "pixel7.json"
    r = _android(tiny_artifacts, tiny[1], out, "--energy", "--idle", "0.5")
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    assert rep["device"]["kind"] == "android" and rep["device"]["serial"] == "24121FDH20006S"
    assert rep["device"]["model"] == "Pixel 7" and rep["threads"] == 4 and rep["runtime"] == "tflite"
    models = rep["models"]
    assert models["backbone_64"]["latency"]["mean_ms"] == pytest.approx(8.0) and models["backbone_64"]["rounds"] == 3
    assert models["backbone_64"]["latency"]["runs"] == 30
    pol = rep["policies"]
    share = {int(k): v for k, v in pol["drnet"]["resolution_share"].items()}
    assert pol["drnet"]["latency_ms"] == pytest.approx(0.9 + 8.0 * share[64] + 4.5 * share[48])
    assert pol["fixed-48"]["latency_vs_ref"] == pytest.approx(4.5 / 8.0)
    assert "computed" in pol["drnet"]["method"]
    # energy: the stand-in adds 2 W while a tool runs; per inference ~ 2 W x time per inference
    assert rep["energy"]["meter"] == "odpm"
    e = models["backbone_64"]["energy_mj"]
    assert 2.0 * 8.0 * 0.9 < e < 2.0 * 8.0 * 1.3, e
    assert pol["drnet"]["energy_mj"] == pytest.approx(
        models["predictor"]["energy_mj"] + sum(s * models[f"backbone_{r}"]["energy_mj"] for r, s in share.items())
    )
    cmds = [c[-1] for c in _calls(state) if c[2:3] == ["shell"] and "--graph=" in c[-1]]
    assert len(cmds) == 9 and all(c.startswith("taskset f0 /data/local/tmp/benchmark_model ") for c in cmds)
    assert all("--num_threads=4" in c and "--num_runs=10" in c and "--use_xnnpack=true" in c for c in cmds)
    pushes = [c for c in _calls(state) if "push" in c]
    assert len(pushes) == 3
    r = _android(tiny_artifacts, tiny[1], out)  # same files already on the phone: nothing pushed again
    assert r.exit_code == 0, r.output
    assert len([c for c in _calls(state) if "push" in c]) == 3
    assert "Per model" in markdown(json.loads(out.read_text()))


def test_android_executorch_bench_reads_logcat(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path) -> None:
    state = fake_adb(device_binaries=["/data/local/tmp/executor_runner"])
    out = tmp_path / "et.json"
    r = _android(tiny_artifacts, tiny[1], out, "--runtime", "executorch")
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    lat = rep["models"]["backbone_64"]["latency"]
    assert lat["runs"] == 30 and lat["mean_ms"] == pytest.approx(9.0 * 1.01, rel=0.01) and lat["std_ms"] > 0
    runs = [c[-1] for c in _calls(state) if "--model_path=" in c[-1]]
    assert all("--cpu_threads=4" in c and "--num_executions=10" in c for c in runs)


def test_android_disconnect_keeps_results_and_resumes(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path) -> None:
    state = fake_adb(disconnect_after_benchmarks=2)
    out = tmp_path / "cut.json"
    r = _android(tiny_artifacts, tiny[1], out, "--rounds", "1")
    assert r.exit_code == 3 and "incomplete" in r.output and "Traceback" not in r.output
    rep = json.loads(out.read_text())
    assert rep["incomplete"] and "no longer connected" in rep["incomplete"]
    assert (
        set(rep["models"]) == {"predictor", "backbone_64", "backbone_48"} - {"backbone_48"} or len(rep["models"]) == 2
    )
    measured = set(rep["models"])
    # reconnect: the stand-in forgets the disconnect; --resume measures only what is missing
    (state / "state.json").unlink()
    fake_adb()
    r = _android(tiny_artifacts, tiny[1], out, "--rounds", "1", "--resume")
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    assert rep["incomplete"] is None and set(rep["models"]) == {"predictor", "backbone_64", "backbone_48"}
    runs = [c[-1] for c in _calls(state) if "--graph=" in c[-1]]
    assert len(runs) == 3 + (3 - len(measured))  # first run: 2 done + the one cut off; resume: the rest


@pytest.mark.parametrize(
    "scenario, device, message",
    [
        ({"devices": "devices_none.txt"}, "pixel7", "no Android device connected"),
        ({"devices": "devices_two_pixel7.txt"}, "pixel7", "several devices match profile 'pixel7'"),
        ({"devices": "devices_two_pixel7.txt"}, "android", "pass --device SERIAL"),
        ({"devices": "devices_unauthorized.txt"}, "24121FDH20006S", "accept the 'Allow USB debugging' prompt"),
        ({"devices": "devices_offline.txt"}, "24121FDH20006S", "offline"),
        (
            {"devices": "devices_galaxy.txt"},
            "pixel7",
            "no Pixel 7 connected (profile 'pixel7'); connected: R5CT1234ABC",
        ),
        ({"device_binaries": []}, "pixel7", "no benchmark_model on the device"),
        ({}, "nosuchthing", "neither 'local', a device profile"),
    ],
    ids=["none", "two", "two-any", "unauthorized", "offline", "other-model", "no-binary", "unknown"],
)
def test_android_failures_are_clear(fake_adb, tiny_artifacts, tiny, tmp_path, scenario, device, message) -> None:
    fake_adb(**scenario)
    r = _cli(["bench", "--artifacts", str(tiny_artifacts), "--device", device, "--data", str(tiny[1]), "--quiet"])
    assert r.exit_code == 2, r.output
    assert message in " ".join(r.output.split()) and "Traceback" not in r.output


def test_android_onnx_refused(fake_adb, tiny_artifacts, tiny) -> None:
    fake_adb()
    r = _cli(["bench", "--artifacts", str(tiny_artifacts), "--device", "pixel7", "--runtime", "onnx", "--quiet"])
    assert r.exit_code == 2 and "cannot be benchmarked on Android" in r.output


def test_no_adb_on_path(tiny_artifacts, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("ADB", raising=False)
    r = _cli(["bench", "--artifacts", str(tiny_artifacts), "--device", "pixel7", "--quiet"])
    assert r.exit_code == 2 and "adb not found on PATH" in r.output and "apt install adb" in r.output


REAL_ADB = shutil.which("adb", path="/usr/bin:/usr/local/bin")


@pytest.mark.skipif(REAL_ADB is None, reason="the real adb client is not installed (apt install adb)")
def test_real_adb_without_a_device(tiny_artifacts, tmp_path: Path, monkeypatch) -> None:
    """The real client, no phone attached (as on CI): a clear error, not a traceback."""
    port = "5137"  # a private adb server, so a developer's running server is untouched
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", port)
    monkeypatch.setenv("ADB", REAL_ADB)
    try:
        r = _cli(["bench", "--artifacts", str(tiny_artifacts), "--device", "pixel7", "--quiet"])
        assert r.exit_code == 2, r.output
        assert "no Android device connected" in r.output
    finally:
        subprocess.run(
            [REAL_ADB, "kill-server"], capture_output=True, env={**os.environ, "ANDROID_ADB_SERVER_PORT": port}
        )


def test_android_app_measurement(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path) -> None:
    state = fake_adb(app_installed=True)
    out = tmp_path / "app.json"
    r = _android(tiny_artifacts, tiny[1], out, "--app", "--limit", "6")
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    pol = rep["policies"]
    assert set(pol) == {"drnet", "fixed-64", "fixed-48"} and REQUIRED <= set(pol["drnet"])
    assert pol["drnet"]["latency_ms"] == 2.41 and pol["drnet"]["latency_p90_ms"] == 2.9
    assert (
        pol["drnet"]["latency_vs_ref"] == pytest.approx(2.41 / 3.02) and "measured end to end" in pol["drnet"]["method"]
    )
    assert rep["stages_ms"]["backbone_64"] == 2.85 and rep["energy"]["meter"] is None
    # the images went into the app's own files, one class folder each (so the app can score top-1)
    pushed = json.loads((state / "state.json").read_text())["app_images"]
    assert len(pushed) == 6 and {p.split("/")[1] for p in pushed} <= {"cat", "dog", "fox"}


@pytest.mark.parametrize(
    "scenario, message",
    [
        ({"app_installed": False}, "demo app (dev.drnetedge.demo) is not installed"),
        ({"app_installed": True, "app_fails": True}, "no images"),
    ],
)
def test_android_app_failures(fake_adb, tiny_artifacts, tiny, tmp_path, scenario, message) -> None:
    fake_adb(**scenario)
    r = _android(tiny_artifacts, tiny[1], tmp_path / "x.json", "--app")
    assert r.exit_code == 2 and message in " ".join(r.output.split())


def test_android_tools_receive_the_options(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path) -> None:
    """--threads, --runs, --warmup, --rounds, --cooldown, --idle, --energy, --profiles and --benchmark-binary
    all reach the phone."""
    state = fake_adb()
    binary = tmp_path / "my_benchmark_model"
    binary.write_bytes(b"\x7fELF stand-in")
    profiles = tmp_path / "mine.json"
    profiles.write_text(json.dumps({"profiles": {"lab7": {"models": ["Pixel_7"], "big_cores": "c0", "threads": 3}}}))
    out = tmp_path / "lab7.json"
    r = _cli(
        ["bench", "--artifacts", str(tiny_artifacts), "--device", "lab7", "--profiles", str(profiles), "--data",
         str(tiny[1]), "--benchmark-binary", str(binary), "--threads", "2", "--runs", "4", "--warmup", "1",
         "--rounds", "2", "--cooldown", "0.01", "--energy", "--idle", "0.6", "--quiet", "--json", str(out)]
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    assert rep["device"]["name"] == "lab7" and rep["threads"] == 2 and rep["runs"] == 4 and rep["warmup"] == 1
    assert (
        rep["schedule"]
        == "2 interleaved rounds of 2 runs (model order rotated each round), 0 s cool-down after each run"
    )
    assert (
        rep["tool"]["path"] == "/data/local/tmp/drnet-edge/bin/benchmark_model"
        and rep["tool"]["pinning"] == "taskset c0"
    )
    assert rep["energy"]["meter"] == "odpm" and rep["energy"]["idle"]["seconds"] >= 0.6
    assert all(m["rounds"] == 2 and m["latency"]["runs"] == 4 for m in rep["models"].values())
    cmds = [c[-1] for c in _calls(state) if c[2:3] == ["shell"] and "--graph=" in c[-1]]
    assert len(cmds) == 6 and all(
        c.startswith("taskset c0 /data/local/tmp/drnet-edge/bin/benchmark_model ") for c in cmds
    )
    assert all("--num_threads=2" in c and "--num_runs=2" in c and "--warmup_runs=1" in c for c in cmds)
    assert any("push" in c and c[-2] == str(binary) for c in _calls(state))


def test_android_bench_options_reach_bench_android(fake_adb, tiny_artifacts: Path, tmp_path: Path) -> None:
    """bench_android takes the options object itself: cool-down and idle go through its sleep, log gets each run."""
    from drnet_edge.bench.paths.android import select_device
    from drnet_edge.bench.paths.android_run import bench_android
    from drnet_edge.bench.transport.adb import Adb
    from drnet_edge.runtime.manifest import read_manifest

    fake_adb()
    logged: list[str] = []
    slept: list[float] = []
    opts = BenchOptions(device="pixel7", runs=6, warmup=0, rounds=3, cooldown_s=7.0, energy=True, idle_s=11.0,
                        log=logged.append)  # fmt: skip
    adb = Adb.find()
    dev, profile = select_device(adb, "pixel7", load_profiles())
    body = bench_android(
        adb.bound(dev.serial), dev, profile, tiny_artifacts, read_manifest(tiny_artifacts), "tflite", opts,
        sleep=slept.append,
    )  # fmt: skip
    assert slept == [11.0] + [7.0] * 9
    assert sum(m.startswith("round ") for m in logged) == 9 and "measuring idle power for 11 s" in logged
    assert body["tool"]["threads"] == profile.threads and all(m["rounds"] == 3 for m in body["models"].values())


def test_android_app_receives_the_options(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path) -> None:
    state = fake_adb(app_installed=True)
    r = _android(tiny_artifacts, tiny[1], tmp_path / "app.json", "--app", "--threads", "3", "--app-timeout", "5")
    assert r.exit_code == 0, r.output
    start = [c[-1] for c in _calls(state) if c[-1].startswith("am start")]
    assert len(start) == 1 and "--ei threads 3 --ei runs 30 --ei warmup 2" in start[0]
    assert json.loads((tmp_path / "app.json").read_text())["threads"] == 3
