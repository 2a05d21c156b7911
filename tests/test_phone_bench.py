"""The phone bench of #25: delegates and what ran where, per-operator profiles, memory and start-up with
every stage of a policy resident, temperature-gated rounds. Parsers on verbatim captures
(tests/data/adb/sources) and on real host runs (tests/data/profiles), then ``bench --device pixel7``
end to end against the scripted ``adb``, and the local ``--op-profile``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drnet_edge.bench import BenchOptions
from drnet_edge.bench.delegates import parse_delegation
from drnet_edge.bench.meters.op_profile import (
    ProfileError,
    inspector_profile,
    parse_benchmark_model_profile,
    parse_ort_profile,
)
from drnet_edge.bench.meters.thermal import (
    ThermalLog,
    ThermalUnavailable,
    parse_battery_temperature,
    parse_thermal_status,
)
from drnet_edge.bench.report.markdown import markdown
from drnet_edge.errors import ConfigError

from .test_bench import _android, _calls, _cli, capture, fake_adb, tiny_artifacts  # noqa: F401 (fixtures)

PROFILES = Path(__file__).parent / "data" / "profiles"


# -- what ran where: benchmark_model's delegate lines ----------------------------------------------


@pytest.mark.parametrize(
    "name, asked, status, nodes, kernels",
    [
        ("tflite_gpu_delegate_complete_issue43541.txt", "gpu", "full", (None, None), 1),
        ("tflite_gpu_delegate_quant_model_new_format.txt", "gpu", "full", (None, None), 1),
        ("tflite_gpu_delegate_replacing_nodes_tast_notes.txt", "gpu", "full", (58, 58), 1),
        ("tflite_gpu_delegate_int8_refused_issue49160.txt", "gpu", "refused", (0, 31), None),
        ("tflite_gpu_delegate_partial_webcam_detect_issue4.txt", "gpu", "partial", (1, 5), 1),
        ("tflite_gpu_delegate_failed_pixel10_notes.txt", "gpu", "failed", (None, None), None),
        ("tflite_nnapi_delegate_not_executed_logcat_issue56301.txt", "nnapi", "refused", (None, None), None),
        ("tflite_nnapi_delegate_partial_int8_notes.txt", "nnapi", "partial", (None, None), 11),
        ("tflite_benchmark_new_android_adb_shell_percentiles.txt", "cpu", "full", (49, 49), None),
        # a log without any delegate line: said so, not guessed
        ("tflite_benchmark_old_android_tf2x_issue42507.txt", "gpu", "unknown", (None, None), None),
    ],
)
def test_delegation_from_captures(name: str, asked: str, status: str, nodes: tuple, kernels: int | None) -> None:
    d = parse_delegation(capture(name), asked)
    assert (d.status, (d.delegated_nodes, d.total_nodes), d.kernels) == (status, nodes, kernels)
    assert d.ran == (status != "failed") and d.summary()


def test_gpu_refusal_lists_the_unsupported_ops() -> None:
    d = parse_delegation(capture("tflite_gpu_delegate_int8_refused_issue49160.txt"), "gpu")
    assert len(d.unsupported) == 5 and d.unsupported[1] == "CONV_2D: OP is supported, but tensor type isn't matched!"
    assert d.to_json()["summary"] == "GPU refused it: ran on the CPU (0 of 31 nodes)"


# -- per-operator profiles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, top, ms, count, n_ops",
    [
        ("tflite_benchmark_op_profiling_new_xnnpack_int8.txt", "Convolution (NHWC, QC8) GEMM", 5.236, 62, 11),
        ("tflite_benchmark_op_profiling_old_riscv_meta_tflite.txt", "CONV_2D", 2651.853, 15, 5),
    ],
)
def test_benchmark_model_op_profile(name: str, top: str, ms: float, count: int, n_ops: int) -> None:
    p = parse_benchmark_model_profile(capture(name))
    assert (p.ops[0]["op"], p.ops[0]["ms"], p.ops[0]["count"], len(p.ops)) == (top, ms, count, n_ops)
    assert sum(o["share"] for o in p.ops) == pytest.approx(1.0)
    # the initialization profile (ModifyGraphWithDelegate, AllocateTensors) is not the regular runs'
    assert "AllocateTensors" not in {o["op"] for o in p.ops}


def test_profile_parsers_fail_cleanly_without_operators() -> None:
    with pytest.raises(ProfileError, match="no 'Operator-wise Profiling Info"):
        parse_benchmark_model_profile(capture("tflite_gpu_delegate_complete_issue43541.txt"))
    with pytest.raises(ProfileError, match="holds no operator"):
        parse_ort_profile([{"cat": "Session", "name": "model_loading_uri", "dur": 1}], runs=1)
    with pytest.raises(ProfileError, match="holds no operator"):
        inspector_profile([{"event_block_name": "Default", "event_name": "Method::init", "raw": [1.0]}], runs=1)


def test_onnxruntime_profile_from_a_host_run() -> None:
    events = json.loads((PROFILES / "ort_profile_tiny.json").read_text())
    p = parse_ort_profile(events, runs=3)
    ops = {o["op"]: o for o in p.ops}
    assert p.ops[0]["op"] == "Conv" and ops["Conv"]["count"] == 2 and {"Gemm", "ReduceMean"} <= set(ops)
    assert all(o["ms"] > 0 for o in p.ops) and sum(o["share"] for o in p.ops) == pytest.approx(1.0)


def test_executorch_etdump_written_on_the_host_read_with_the_inspector() -> None:
    pytest.importorskip("executorch.devtools")
    from executorch.devtools import Inspector

    rows = Inspector(etdump_path=str(PROFILES / "tiny_xnnpack.etdp")).to_dataframe().to_dict("records")
    p = inspector_profile(rows, runs=3)
    ops = {o["op"]: o for o in p.ops}
    assert ops["Convolution (NHWC, F32) IGEMM"]["delegated"] and ops["Convolution (NHWC, F32) DWConv"]["delegated"]
    assert "DELEGATE_CALL" not in ops and "OPERATOR_CALL" not in ops  # spans of the ops listed one by one


# -- thermal ------------------------------------------------------------------------------------------


def test_thermal_parsers_on_captures() -> None:
    assert parse_battery_temperature(capture("battery_dumpsys_battery_samples.txt")) == 30.9
    assert parse_thermal_status(capture("thermalservice_dumpsys_shield_issue6.txt")) == 0
    with pytest.raises(ThermalUnavailable, match="no 'temperature:' line"):
        parse_battery_temperature("Current Battery Service state:\n  level: 83\n")
    with pytest.raises(ThermalUnavailable, match="no 'Thermal Status:' line"):
        parse_thermal_status("Can't find service: thermalservice\n")


class _Phone:
    """A stand-in adb answering ``dumpsys battery`` and ``dumpsys thermalservice`` from sequences."""

    def __init__(self, temps: list[int | None], statuses: list[int]) -> None:
        self.temps, self.statuses = temps, statuses

    def shell(self, cmd: str, check: bool = True) -> str:
        if cmd == "dumpsys battery":
            t = self.temps.pop(0) if len(self.temps) > 1 else self.temps[0]
            return "" if t is None else f"  level: 80\n  temperature: {t}\n"
        s = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return f"Thermal Status: {s}\n"


def test_rounds_wait_for_the_battery_and_flag_throttling() -> None:
    slept: list[float] = []
    log = ThermalLog(_Phone([412, 401, 385, 380, 450], [0, 0, 2, 0, 0]), max_temp_c=39.0, timeout_s=30.0,
                     sleep=slept.append)  # fmt: skip
    first = log.start_round(0)
    log.during_round()  # status 0
    log.during_round()  # status 2: MODERATE during round 1
    second = log.start_round(1)  # 38.0 C: no wait
    third = log.start_round(2)  # 45.0 C stays: waits 30 s, not cooled
    assert (first.waited_s, first.cooled, first.battery_c) == (20.0, True, 38.5) and slept[:2] == [10.0, 10.0]
    assert first.throttled and not second.throttled and (third.waited_s, third.cooled) == (30.0, False)
    rep = log.to_json()
    assert rep["throttled_rounds"] == [1] and rep["rounds_not_cooled"] == [3] and "at or below 39 C" in rep["gate"]


def test_no_temperature_sensor_falls_back_to_cooldown() -> None:
    log = ThermalLog(_Phone([None], [0]), max_temp_c=39.0, sleep=lambda s: None)
    rec = log.start_round(0)
    assert not log.gated and rec.battery_c is None and rec.cooled is None
    assert "--cooldown is the only pause" in log.to_json()["gate"] and "no 'temperature:' line" in log.notes[0]


# -- the options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"delegate": "gpu"}, "--delegate applies only to Android devices"),
        ({"device": "pixel7", "delegate": "tpu"}, "--delegate tpu: choose one of cpu, gpu, nnapi"),
        ({"device": "pixel7", "app": True, "op_profile": True}, "--op-profile applies to --device local and"),
        ({"device": "pixel7", "app": True, "max_temp_c": 38.0}, "--max-temp applies to the phone's benchmark tools"),
        ({"max_temp_c": 38.0}, "--max-temp applies only to Android devices"),
    ],
)
def test_new_flags_refused_where_they_do_not_apply(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        BenchOptions(**kwargs)


def test_new_flags_accepted_where_they_apply() -> None:
    assert BenchOptions(op_profile=True).op_profile  # local
    o = BenchOptions(device="pixel7", delegate="nnapi", op_profile=True, max_temp_c=38.0, temp_timeout_s=60.0)
    assert (o.delegate, o.max_temp_c) == ("nnapi", 38.0)
    assert BenchOptions(device="pixel7", app=True, delegate="gpu").delegate == "gpu"  # the app takes a delegate


# -- end to end on the scripted phone ----------------------------------------------------------------


def test_phone_gpu_profile_memory_thermal_end_to_end(fake_adb, tiny_artifacts: Path, tiny, tmp_path: Path) -> None:  # noqa: F811
    state = fake_adb(battery_temps=[412, 396, 371, 365], thermal_status=[0, 0, 0, 0, 1, 0])
    out, report = tmp_path / "gpu.json", tmp_path / "gpu.md"
    r = _android(tiny_artifacts, tiny[1], out, "--delegate", "gpu", "--op-profile", "--max-temp", "38",
                 "--temp-timeout", "60", "--report", str(report), "--limit", "4")  # fmt: skip
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    dl = rep["delegation"]
    assert dl["asked"] == "gpu" and dl["flags"] == ["--use_gpu=true", "--use_xnnpack=false"]
    assert {m["status"] for m in dl["models"].values()} == {"full"}
    assert dl["models"]["backbone_64"]["delegated_nodes"] == 64
    # the op profile ran once per model after the timed rounds, with the profiler flag only there
    cmds = [c[-1] for c in _calls(state) if "--graph=" in c[-1]]
    assert len(cmds) == 9 + 3 and all("--use_gpu=true" in c for c in cmds)
    assert [c for c in cmds if "--enable_op_profiling=true" in c] == cmds[-3:]
    ops = rep["op_profile"]["models"]["backbone_64"]["ops"]
    assert ops[0]["op"] == "Convolution (NHWC, QC8) IGEMM" and ops[0]["count"] == 1
    # memory and start-up with every stage resident: computed from the tool's per-model figures
    res = rep["resident"]
    assert res["method"].startswith("computed") and res["all_models"]["load_ms"] == pytest.approx(3 * 12.37)
    assert res["all_models"]["memory_mb"] == pytest.approx(3 * 9.8)
    assert res["policies"]["fixed-64"] == {"stages": ["backbone_64"], "load_ms": 12.37, "memory_mb": 9.8}
    assert "predictor" in res["policies"]["drnet"]["stages"]
    # thermal: the first round waited for 41.2 -> 39.6 -> 37.1 C; the status reached LIGHT in round 2
    th = rep["thermal"]
    assert th["rounds"][0]["waited_s"] == 20.0 and th["rounds"][0]["battery_c"] == 37.1
    assert th["throttled_rounds"] == [2] and th["rounds"][1]["status_max_name"] == "LIGHT"
    assert all(len(m["rounds_ms"]) == 3 for m in rep["models"].values())
    assert "each round started at or below 38 C" in rep["schedule"]
    assert "thermal: rounds 2 ran throttled" in " ".join(r.output.split())
    md = report.read_text()
    for section in ("## What ran where", "## Top operators per model", "## Memory and start-up", "## Thermal state"):
        assert section in md
    assert "| 2 | " in md and "**yes**" in md


@pytest.mark.parametrize("mode", ["refused", "failed"])
def test_phone_gpu_refusal_is_a_row_not_an_error(fake_adb, tiny_artifacts, tiny, tmp_path, mode: str) -> None:  # noqa: F811
    fake_adb(gpu_mode=mode)
    out = tmp_path / f"{mode}.json"
    r = _android(tiny_artifacts, tiny[1], out, "--delegate", "gpu", "--limit", "4")
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    rows = rep["delegation"]["models"]
    assert {m["status"] for m in rows.values()} == {mode}
    text = " ".join(r.output.split())
    if mode == "refused":  # the int8 input refused: the model ran on the CPU and is timed, flagged
        assert set(rep["models"]) == set(rows) and "GPU refused it: ran on the CPU (0 of 64 nodes)" in text
        assert "QUANTIZE: OP is supported, but tensor type isn't matched!" in rows["predictor"]["unsupported"]
    else:  # the tool stopped: no timing, the policies say why
        assert rep["models"] == {} and "GPU failed to apply" in text
        assert "Failed to apply GPU delegate" in " ".join(rows["backbone_64"]["evidence"])
        assert rep["policies"]["drnet"]["latency_ms"] is None
        assert "its delegate failed" in rep["policies"]["drnet"]["latency_note"]
    assert "## What ran where" in markdown(rep)


def test_phone_nnapi_says_deprecated_and_no_sensor_keeps_cooldown(fake_adb, tiny_artifacts, tiny, tmp_path) -> None:  # noqa: F811
    fake_adb(no_battery_temp=True, no_thermalservice=True)
    out = tmp_path / "nnapi.json"
    r = _android(
        tiny_artifacts, tiny[1], out, "--delegate", "nnapi", "--max-temp", "38", "--cooldown", "0.01", "--limit", "4"
    )
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    assert "deprecated from Android 15" in rep["delegation"]["note"]
    assert {m["status"] for m in rep["delegation"]["models"].values()} == {"partial"}
    th = rep["thermal"]
    assert th["sensor"] is None and th["status_source"] is None and "--cooldown is the only pause" in th["gate"]
    assert "cool-down after each run" in rep["schedule"]


def test_phone_executorch_reports_the_pte_backend(fake_adb, tiny_artifacts, tiny, tmp_path) -> None:  # noqa: F811
    fake_adb(device_binaries=["/data/local/tmp/executor_runner"])
    out = tmp_path / "et.json"
    r = _android(tiny_artifacts, tiny[1], out, "--runtime", "executorch", "--op-profile", "--limit", "4")
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    assert rep["delegation"]["asked"] is None and rep["delegation"]["backend"] == "XNNPACK"
    assert "devtools" in rep["op_profile"]["absent"]
    r = _android(tiny_artifacts, tiny[1], out, "--runtime", "executorch", "--delegate", "gpu")
    assert r.exit_code == 2 and "--delegate gpu chooses LiteRT's delegate" in " ".join(r.output.split())


# -- the local bench -----------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", ["onnx", "tflite"])
def test_local_op_profile_and_resident_memory(tiny_artifacts: Path, tiny, tmp_path: Path, runtime: str) -> None:  # noqa: F811
    out = tmp_path / "local.json"
    r = _cli(["bench", "--artifacts", str(tiny_artifacts), "--runtime", runtime, "--data", str(tiny[1]), "--limit", "2",
              "--runs", "2", "--warmup", "1", "--quiet", "--op-profile", "--json", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    rep = json.loads(out.read_text())
    prof = rep["op_profile"]
    if runtime == "onnx":
        assert prof["source"] == "onnxruntime profiler" and prof["absent"] is None
        assert all(m["ops"] and m["ops"][0]["ms"] > 0 for m in prof["models"].values())
        assert "top operators per model" in r.output
    else:
        assert prof["models"] == {} and "no per-operator profiler" in prof["absent"]
    res = rep["resident"]
    assert res["method"].startswith("measured") and res["all_models"]["load_ms"] > 0
    assert res["policies"]["fixed-64"]["stages"] == ["backbone_64"]


def test_app_delegate_and_startup(fake_adb, tiny_artifacts, tiny, tmp_path) -> None:  # noqa: F811
    """--app --delegate gpu: the option reaches the app; its per-model refusal and its start-up figures come back.
    (app_results_tiny_gpu.json has the shape the core's Delegate.summary / Delegate.startup write; the APK is
    not built here.)"""
    state = fake_adb(app_installed=True, app_result="app_results_tiny_gpu.json")
    out = tmp_path / "app.json"
    r = _android(tiny_artifacts, tiny[1], out, "--app", "--delegate", "gpu", "--limit", "4")
    assert r.exit_code == 0, r.output
    start = [c[-1] for c in _calls(state) if c[-1].startswith("am start")]
    assert start[0].endswith("--es delegate gpu")
    rep = json.loads(out.read_text())
    rows = rep["delegation"]["models"]
    assert rows["predictor.tflite"]["status"] == "full" and rows["backbone_64.tflite"]["status"] == "refused"
    assert "tensor type isn't matched" in rows["backbone_48.tflite"]["evidence"][0]
    assert rep["resident"]["all_models"] == {"stages": ["predictor.tflite", "backbone_64.tflite", "backbone_48.tflite"],
                                             "load_ms": 183.4, "memory_mb": 16.75, "pss_after_mb": 58.25}  # fmt: skip
    assert "GPU refused it" in " ".join(r.output.split())
