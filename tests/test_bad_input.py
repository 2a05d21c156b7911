"""The CLI's promises about bad input, as a table: each bad input gives exit code 2 and one line on
stderr that names the flag or file and says what is wrong, and writes nothing (no output file, no
temporary or probe file, no cache folder). The rows that should work (unlabelled ``--plot``, a dangling
symlink with ``--skip-bad``) assert that they do. In-process (typer's CliRunner) on tiny inputs."""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from drnet_edge.cli import app
from drnet_edge.policy.spec import Chain

from .conftest import write_image

runner = CliRunner()

NO_TORCH_ADVICE = ("weights_only=False", "\x1b[", "Traceback")


@pytest.fixture(autouse=True)
def _no_env_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's quiet defaults set this for TensorFlow; keep it out of the other tests' environment."""
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))


@pytest.fixture(scope="module")
def inputs(tiny, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Read-only inputs shared by the rows: the tiny DRNet and its photos, and the bad ones."""
    ckpt, data = tiny
    root = tmp_path_factory.mktemp("inputs")
    text = root / "text.pt"
    text.write_text("hello, not a checkpoint\n")
    module = root / "module.pt"
    torch.save(torch.nn.Linear(2, 2), module)  # a pickled module: loading it would run code
    pickled = root / "pickled.pt"
    pickled.write_bytes(pickle.dumps({"a": object}))
    flat = root / "flat"
    for i in range(2):
        write_image(flat / f"{i}.png", seed=i)
    allbad = root / "allbad"
    (allbad / "cat").mkdir(parents=True)
    for name in ("a.jpg", "b.png"):
        (allbad / "cat" / name).write_bytes(b"\xff\xd8\xffjunk")
    wolf = root / "wolf_data"
    write_image(wolf / "cat" / "0.png")
    write_image(wolf / "wolf" / "0.png")
    with_txt = root / "with_txt"
    write_image(with_txt / "cat" / "0.png")
    (with_txt / "cat" / "notes.txt").write_text("not an image\n")
    dangling = root / "dangling"
    for c in ("cat", "dog"):
        write_image(dangling / c / "0.png")
    (dangling / "dog" / "gone.png").symlink_to(root / "no-such-file.png")
    badman = root / "badmanifest"
    badman.mkdir()
    (badman / "manifest.json").write_text(json.dumps({"format": "drnet-edge/artifacts", "version": 1}))
    folder = root / "a_folder"
    folder.mkdir()
    photo = write_image(root / "photo.jpg")  # a photo given where a checkpoint or weights belong
    tflite = root / "model.tflite"  # a converted file's first bytes (a FlatBuffer with TFLite's identifier)
    tflite.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(56))
    oneclass = root / "oneclass"
    for i in range(3):
        write_image(oneclass / "cat" / f"{i}.png", seed=i)
    calibrated = root / "calibrated.pt"  # the tiny DRNet with a default policy, as drnet-edge calibrate writes
    record = torch.load(ckpt, map_location="cpu", weights_only=True)
    record["policy"] = {"name": "cascade-48:0.5-64", "spec": Chain((48, 64), (0.5,)).to_json()}
    torch.save(record, calibrated)
    return {
        "ckpt": ckpt,
        "calibrated": calibrated,
        "data": data,
        "text": text,
        "module": module,
        "pickled": pickled,
        "flat": flat,
        "allbad": allbad,
        "wolf": wolf,
        "with_txt": with_txt,
        "dangling": dangling,
        "badmanifest": badman,
        "folder": folder,
        "photo": photo,
        "tflite": tflite,
        "oneclass": oneclass,
        "root": root,
    }


@pytest.fixture(scope="module")
def onnx_artifacts(tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny DRNet converted for ONNX Runtime (the quickest target), for the bench rows."""
    pytest.importorskip("onnxruntime")
    from drnet_edge.convert import convert

    ckpt, data = tiny
    out = tmp_path_factory.mktemp("art") / "onnx"
    convert(ckpt, targets=["onnx"], out=out, quant_data=data, quant_count=2, log=lambda m: None)
    return out


def _files(*roots: Path) -> set[str]:
    return {str(p) for root in roots for p in root.rglob("*")}


def _temp_logs() -> set[str]:
    """Third-party log files: in the cache folder (conftest points XDG_CACHE_HOME at a test folder), or in
    the temp folder where the cache folder cannot be written."""
    from drnet_edge.logs import logs_dir

    cached = {str(p) for p in logs_dir().glob("*.log")} if logs_dir().is_dir() else set()
    return cached | {str(p) for p in Path(tempfile.gettempdir()).glob("drnet-edge-*.log")}


def _args(template: list[str], paths: dict[str, Path]) -> list[str]:
    return [a.format(**{k: str(v) for k, v in paths.items()}) for a in template]


EVAL = ["eval", "--quiet", "--model", "{ckpt}", "--data", "{data}", "--limit", "2"]
BENCH = ["bench", "--quiet", "--artifacts", "{art}", "--limit", "2", "--runs", "1", "--warmup", "0"]
TRAIN = ["train", "--quiet", "--data", "{data}", "--epochs", "1"]
CONVERT = ["convert", "--model", "{ckpt}", "--target", "onnx"]
BACKBONE = ["eval", "--quiet", "--backbone", "efficientnet_lite0", "--resolutions", "64", "--data", "{flat}"]
BOARD = ["bench", "--quiet", "--artifacts", "{art}", "--limit", "2", "--runs", "1", "--warmup", "0", "--device"]
FAKE_SSH = {"SSH": str(Path(__file__).parent / "data" / "ssh" / "fake_ssh"), "FAKE_SSH_HOME": "{out}/a_dir"}

# id, arguments, what stderr must say, what it must not say
BAD = [
    # 1. output paths, checked before any work
    ("json-unwritable", [*EVAL, "--json", "/proc/nope/x.json"], ["--json /proc/nope/x.json", "cannot write"], []),
    ("json-is-a-folder", [*EVAL, "--json", "{out}/a_dir"], ["--json", "a_dir is a folder"], []),
    ("json-under-a-file", [*EVAL, "--json", "{out}/a_file/sub/x.json"], ["--json", "a_file is a file, not a folder"], []),
    ("plot-suffix", [*EVAL, "--plot", "{out}/plot.txt"], ["--plot", "plot.txt", "unsupported file type", ".png"], []),
    ("json-and-plot-same", [*EVAL, "--json", "{out}/r.png", "--plot", "{out}/r.png"], ["--json and --plot both name"], []),
    ("calibrate-out-folder", ["calibrate", "--quiet", "--model", "{ckpt}", "--data", "{data}", "--out", "{out}/a_dir"],
     ["--out", "is a folder"], []),
    ("calibrate-json-unwritable", ["calibrate", "--quiet", "--model", "{ckpt}", "--data", "{data}", "--json",
     "/proc/nope/c.json"], ["--json", "cannot write"], []),
    ("train-out-folder", [*TRAIN, "--mode", "predictor", "--out", "{out}/a_dir"], ["--out", "a_dir is a folder"], []),
    ("train-out-unwritable", [*TRAIN, "--out", "/proc/nope/x.pt"], ["--out /proc/nope/x.pt", "cannot write"], []),
    ("train-cache-dir-file", [*TRAIN, "--out", "{out}/m.pt", "--cache-dir", "{out}/a_file"],
     ["--cache-dir", "a_file is a file"], []),
    ("train-resume-nothing", [*TRAIN, "--out", "{out}/new.pt", "--resume"],
     ["--resume", "new.pt does not exist", "drop --resume"], ["lite0-imagenet"]),
    ("convert-out-unwritable", [*CONVERT, "--out", "/proc/drnet_art"], ["--out /proc/drnet_art", "cannot write"], []),
    ("convert-out-under-file", [*CONVERT, "--out", "{out}/a_file/sub"], ["--out", "a_file is a file, not a folder"], []),
    ("bench-json-unwritable", ["bench", "--quiet", "--artifacts", "{out}/none", "--json", "/proc/nope/b.json"],
     ["--json /proc/nope/b.json", "cannot write"], []),
    ("bench-report-folder", ["bench", "--quiet", "--artifacts", "{out}/none", "--report", "{out}/a_dir"],
     ["--report", "is a folder"], []),
    ("bench-plot-suffix", ["bench", "--quiet", "--artifacts", "{out}/none", "--plot", "{out}/b.txt"],
     ["--plot", "unsupported file type"], []),
    # 2-3. bench on only unreadable images; a manifest without targets
    ("bench-skip-bad-all-bad", [*BENCH, "--data", "{allbad}", "--skip-bad"], ["no readable image", "allbad"], []),
    ("bench-manifest-no-targets", ["bench", "--quiet", "--artifacts", "{badmanifest}"], ["'targets'"], []),
    # 4. files that are not torch checkpoints: one line, no unsafe advice, no colour codes
    ("model-text-file", ["eval", "--quiet", "--model", "{text}", "--data", "{data}"],
     ["text.pt", "not a PyTorch file"], NO_TORCH_ADVICE),
    ("model-pickled-module", ["eval", "--quiet", "--model", "{module}", "--data", "{data}"],
     ["module.pt", "pickled Python objects", "torch.nn.modules.linear.Linear"], NO_TORCH_ADVICE),
    ("weights-text-file", [*BACKBONE, "--weights", "{text}"], ["text.pt", "not a PyTorch file"], NO_TORCH_ADVICE),
    ("weights-pickle", [*BACKBONE, "--weights", "{pickled}"], ["pickled.pt", "pickled Python objects"],
     NO_TORCH_ADVICE),
    # 6. misleading messages
    ("model-is-a-folder", ["eval", "--quiet", "--model", "{folder}", "--data", "{data}"],
     ["a_folder is a folder"], ["does not exist"]),
    ("classes-is-a-folder", [*EVAL, "--classes", "{folder}"], ["class list", "a_folder is a folder"],
     ["does not exist"]),
    ("weights-is-a-folder", [*BACKBONE, "--weights", "{folder}"], ["--weights", "is a folder"], []),
    ("model-without-predictor", ["eval", "--quiet", "--model", "lite0-imagewoof-base", "--policies", "fixed,drnet",
     "--data", "{data}"], ["--model lite0-imagewoof-base has none"], ["pass a DRNet checkpoint with --model"]),
    ("unknown-class-folder", ["eval", "--quiet", "--model", "{ckpt}", "--data", "{wolf}"],
     ["wolf is an unknown class", "the 3 classes of"], ["the the", "(3 classes) (3 classes)"]),
    ("runtime-unknown", ["eval", "--quiet", "--runtime", "tensorrt", "--artifacts", "{out}"],
     ["--runtime tensorrt", "unknown runtime", "tflite"], ["or all", ", all"]),
    ("policy-unknown", [*EVAL, "--policies", "fixed,magic"], ["unknown policy 'magic'", "baseline", "default"], []),
    # #30: each family's written forms with an example, not only the family names
    ("policy-unknown-shows-forms", [*EVAL, "--policies", "fixed,magic"],
     ["fixed-R (fixed-160)", "cascade-R:T-R (cascade-160:0.7-224)", "cascade-margin-R:T-R (cascade-margin-160:0.2-224)",
      "drnet-escalate:T (drnet-escalate:0.7)", "random-POLICY", "oracle-agree"], ["choose from baseline, cascade"]),
    # #30: a wrong file is named by its first bytes, not called a pickle
    ("model-is-a-photo", ["eval", "--quiet", "--model", "{photo}", "--data", "{data}"],
     ["photo.jpg is a JPEG image, not a drnet-edge checkpoint", "--data"], ["pickled", *NO_TORCH_ADVICE]),
    ("model-is-a-tflite-file", ["eval", "--quiet", "--model", "{tflite}", "--data", "{data}"],
     ["model.tflite is a TFLite model", "--artifacts DIR"], ["pickled", *NO_TORCH_ADVICE]),
    ("weights-is-a-photo", [*BACKBONE, "--weights", "{photo}"], ["photo.jpg is a JPEG image, not a PyTorch state dict"],
     ["pickled", *NO_TORCH_ADVICE]),
    # 8. silent behaviour made explicit
    ("resolutions-empty", [*EVAL, "--resolutions", ""], ["--resolutions", "''"], []),
    ("non-image-with-skip-bad", ["eval", "--quiet", "--model", "{ckpt}", "--data", "{with_txt}", "--skip-bad"],
     ["notes.txt is not an image file", "--skip-bad skips only unreadable images"], []),
    ("dangling-symlink", ["eval", "--quiet", "--model", "{ckpt}", "--data", "{dangling}"],
     ["gone.png", "cannot be read", "--skip-bad"], []),
    ("bench-resume-without-json", ["bench", "--quiet", "--artifacts", "{out}/none", "--device", "pixel7", "--resume"],
     ["--resume needs --json"], []),
    # the phone bench's flags where they do not apply (#25): refused before the artifacts are read
    ("bench-delegate-local", ["bench", "--quiet", "--artifacts", "{out}/none", "--delegate", "gpu"],
     ["--delegate applies only to Android devices", "not to --device local"], []),
    ("bench-delegate-unknown", ["bench", "--quiet", "--artifacts", "{out}/none", "--device", "pixel7", "--delegate",
     "tpu"], ["--delegate tpu", "choose one of cpu, gpu, nnapi"], []),
    ("bench-max-temp-local", ["bench", "--quiet", "--artifacts", "{out}/none", "--max-temp", "38"],
     ["--max-temp applies only to Android devices"], []),
    ("bench-op-profile-app", ["bench", "--quiet", "--artifacts", "{out}/none", "--device", "pixel7", "--app",
     "--op-profile"], ["--op-profile applies to --device local and the phone's benchmark tools", "not to --app"], []),
    ("bench-max-temp-app", ["bench", "--quiet", "--artifacts", "{out}/none", "--device", "pixel7", "--app",
     "--max-temp", "38"], ["--max-temp applies to the phone's benchmark tools", "not to --app"], []),
    ("bench-temp-timeout-app", ["bench", "--quiet", "--artifacts", "{out}/none", "--device", "pixel7", "--app",
     "--temp-timeout", "5"], ["--temp-timeout applies to the phone's benchmark tools", "not to --app"], []),
    # 9. policy specs: syntax before any model loads (a broken --model is not even read), then against the
    # model's resolutions and default policy from its metadata (see also test_policies_need_no_model_built)
    ("policies-empty", [*EVAL, "--policies", ""], ["--policies ''", "names no policy"], []),
    ("policies-blank", [*EVAL, "--policies", " , "], ["--policies", "names no policy"], []),
    ("policy-decimal-comma", [*EVAL, "--policies", "fixed,cascade-48:0,8-64"],
     ["cascade-48:0,8-64", "threshold '0,8' is not a number", "dot (0.8)"], ["at least two stages"]),
    ("policy-negative-threshold", [*EVAL, "--policies", "cascade-48:-0.1-64"],
     ["threshold -0.1 is negative, outside (0, 1]"], ["''"]),
    ("policy-typo-before-model", ["eval", "--quiet", "--model", "{text}", "--data", "{data}", "--policies", "fixd"],
     ["unknown policy 'fixd'"], ["text.pt"]),
    ("policy-resolution-from-metadata", [*EVAL, "--policies", "cascade-48:0.5-96"],
     ["96 is not one of the model's resolutions [64, 48]"], []),
    ("policy-default-uncalibrated", [*EVAL, "--policies", "fixed,default"],
     ["policy 'default'", "records no default policy", "drnet-edge calibrate"], []),
    ("policy-random-default-uncalibrated", [*EVAL, "--policies", "random-default"],
     ["policy 'random-default'", "drnet-edge calibrate"], []),
    # the bench's --policies: syntax before the artifacts are even read, then against their manifest
    # (see also test_bench_policies_load_no_model)
    ("bench-policy-typo-before-artifacts", ["bench", "--quiet", "--artifacts", "{out}/none", "--policies",
     "cascade-48:0.5-64,fixd"], ["--policies: unknown policy 'fixd'"], ["manifest", "none"]),
    ("bench-policy-decimal-comma", ["bench", "--quiet", "--artifacts", "{out}/none", "--policies",
     "cascade-48:0,5-64"], ["--policies", "threshold '0,5' is not a number"], ["manifest"]),
    ("bench-policies-empty", ["bench", "--quiet", "--artifacts", "{out}/none", "--policies", ""],
     ["--policies ''", "names no policy"], []),
    ("bench-policy-resolution-from-manifest", [*BENCH, "--policies", "cascade-48:0.5-96"],
     ["--policies", "cascade-48:0.5-96", "96 is not one of", "[64, 48]"], []),
    ("bench-policy-not-deployable", [*BENCH, "--policies", "oracle"], ["--policies oracle", "not a deployable"], []),
    # predict: photos and --policy checked before any model loads
    ("predict-missing-photo", ["predict", "--quiet", "--artifacts", "{art}", "{out}/no-such.jpg"],
     ["no-such.jpg: no such photo or folder"], []),
    ("predict-empty-folder", ["predict", "--quiet", "--artifacts", "{art}", "{folder}"], ["a_folder holds no images"], []),
    ("predict-policy-typo", ["predict", "--quiet", "--artifacts", "{out}/none", "--policy", "cascad-48:0.5-64",
     "{flat}"], ["unknown policy 'cascad-48:0.5-64'"], ["manifest"]),
    ("predict-two-policies", ["predict", "--quiet", "--artifacts", "{art}", "--policy", "fixed-64,fixed-48", "{flat}"],
     ["--policy", "give one policy"], []),
    ("predict-policy-resolution", ["predict", "--quiet", "--artifacts", "{art}", "--policy", "fixed-96", "{flat}"],
     ["96 is not among the resolutions [64, 48]"], []),
    ("predict-artifacts-and-model", ["predict", "--quiet", "--artifacts", "{art}", "--model", "{ckpt}", "{flat}"],
     ["give --artifacts DIR", "or --model", "one of them"], []),
    ("predict-neither", ["predict", "--quiet", "{flat}"], ["give --artifacts DIR", "or --model"], []),
    ("predict-model-runtime", ["predict", "--quiet", "--model", "{ckpt}", "--runtime", "tflite", "{flat}"],
     ["--runtime picks among converted files", "PyTorch"], []),
    ("predict-unreadable", ["predict", "--quiet", "--artifacts", "{art}", "{allbad}"],
     ["a.jpg", "cannot be decoded", "--skip-bad"], []),
    ("predict-not-artifacts", ["predict", "--quiet", "--artifacts", "{folder}", "{flat}"],
     ["a_folder is not an artifact directory", "drnet-edge convert"], []),
    # 10. the own-data path: every refusal names what would work
    ("train-predictor-own-classes", [*TRAIN, "--mode", "predictor", "--out", "{out}/m.pt"],
     ["predictor mode keeps the backbone frozen", "cat, dog, fox", "--mode joint", "--mode plain"],
     ["Remove the folder"]),
    ("train-one-resolution", [*TRAIN, "--out", "{out}/m.pt", "--resolutions", "224"],
     ["--mode joint", "at least two --resolutions", "--mode plain trains at one"], []),
    ("convert-own-classes-no-quant-data", [*CONVERT, "--out", "{out}/art"],
     ["3 classes (cat, dog, fox)", "pass --quant-data DIR", "photos of the model's own classes"],
     ["--classes", "Remove the folder", "unknown"]),
    ("verify-no-qemu", ["verify", "--quiet", "--artifacts", "{badmanifest}"],
     ["qemu-aarch64-static not found", "drnet-edge verify --setup installs it", "registers it",
      "builds the aarch64 userland", "about 10 minutes"], [],
     {"PATH": "{out}/a_dir", "DRNET_EDGE_ARM64_ROOT": "{out}/land"}),
    # 11. boards over SSH (#24): the scripted ssh (tests/data/ssh/fake_ssh) fails as the real client does
    ("ssh-missing", [*BOARD, "ssh://pi@board.test"], ["ssh not found on PATH", "openssh-client"], [],
     {"SSH": "{out}/no-ssh", "PATH": "{out}/a_dir"}),
    ("ssh-bad-url", ["bench", "--quiet", "--artifacts", "{out}/none", "--device", "ssh://pi@"],
     ["--device ssh://pi@", "expected ssh://[user@]host[:port]"], ["manifest"]),
    ("ssh-unresolvable", [*BOARD, "ssh://pi@nosuch.test"], ["cannot resolve host 'nosuch.test'"], [], FAKE_SSH),
    ("ssh-unreachable", [*BOARD, "ssh://pi@refused.test"], ["host unreachable", "Connection refused", "sshd"], [],
     FAKE_SSH),
    ("ssh-auth-refused", [*BOARD, "ssh://pi@noauth.test"], ["authentication refused", "ssh-copy-id pi@noauth.test"],
     [], FAKE_SSH),
    ("ssh-no-python", [*BOARD, "ssh://pi@nopython.test"], ["no python3 on the board", "python3-venv"], [], FAKE_SSH),
    ("ssh-old-python", [*BOARD, "ssh://pi@py39.test"], ["python3 is 3.9", ">= 3.10"], [], FAKE_SSH),
    ("ssh-no-aarch64-wheel", [*BOARD, "ssh://pi@board.test"], ["no", "wheel of", "for Python", "package index"], [],
     {**FAKE_SSH, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "{out}/a_dir"}),
    ("ssh-disk-full", [*BOARD, "ssh://pi@full.test", "--remote-venv", "{venv}"], ["the board's disk is full"], [],
     FAKE_SSH),
    ("ssh-remote-venv-empty", [*BOARD, "ssh://pi@board.test", "--remote-venv", "{out}/a_dir"],
     ["--remote-venv", "no drnet-edge there"], [], FAKE_SSH),
    ("ssh-option-malformed", [*BOARD, "ssh://pi@board.test", "--ssh-option", "IdentityFile"],
     ["--ssh-option 'IdentityFile'", "KEY=VALUE"], []),
    ("ssh-flag-on-local", ["bench", "--quiet", "--artifacts", "{out}/none", "--ssh-option", "Port=22"],
     ["--ssh-option applies only to boards over SSH", "--device local"], []),
    ("android-flag-on-board", ["bench", "--quiet", "--artifacts", "{out}/none", "--device", "ssh://b.test",
     "--rounds", "2"], ["--rounds applies only to Android devices", "--device ssh://b.test"], []),
    ("board-profile-as-device", [*BOARD, "rpi5"], ["--device rpi5 is a board profile", "ssh://"], []),
    ("models-text-file", ["models", "{text}"], ["text.pt", "not a PyTorch file"], NO_TORCH_ADVICE),
    ("models-two-checkpoints", ["models", "{ckpt}", "--model", "{calibrated}"],
     ["give one checkpoint", "PATH or --model"], []),
]  # fmt: skip


# a row's optional fifth item: environment variables for the run (formatted like the arguments)
def _converts(args: list[str]) -> list[pytest.MarkDecorator]:
    """A row on converted files ({art}) is marked like the tests whose fixtures convert (make test-fast)."""
    return [pytest.mark.conversion] if any("{art}" in a for a in args) else []


@pytest.mark.parametrize(
    "args, says, never, env", [pytest.param(a, s, n, *e or [{}], id=i, marks=_converts(a)) for i, a, s, n, *e in BAD]
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    request: pytest.FixtureRequest,
    inputs: dict[str, Path],
    tmp_path: Path,
    args: list[str],
    says: list[str],
    never: list[str],
    env: dict[str, str],
) -> None:
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "a_file").write_text("x")
    paths = {**inputs, "out": tmp_path, "venv": Path(sys.prefix)}  # {venv}: this venv stands in for a board's
    if any("{art}" in a for a in args):
        paths["art"] = request.getfixturevalue("onnx_artifacts")
    before, logs = _files(tmp_path, inputs["root"]), _temp_logs()
    env = dict(zip(env, _args(list(env.values()), paths), strict=True))
    result = runner.invoke(app, _args(args, paths), env=env)
    err = result.stderr
    assert result.exit_code == 2, (result.exit_code, err, result.exception)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for s in says:
        assert s in err, (s, err)
    for s in never:
        assert s not in err, (s, err)
    assert _files(tmp_path, inputs["root"]) == before  # no output, temp, probe, cache or log file
    assert _temp_logs() <= logs


# #30: refusals that must come before heavy work, each run with PyTorch unimportable and model loading
# turned into a failure: a row that imported torch first would say "needs PyTorch" instead, one that
# loaded the model first would end with exit 70. id, arguments, what stderr must say.
BEFORE_WORK = [
    ("train-out-exists", [*TRAIN, "--out", "{ckpt}"], ["--out", "tiny.pt already exists", "--resume continues",
                                                      "--overwrite starts again"]),
    ("train-resume-and-overwrite", [*TRAIN, "--out", "{ckpt}", "--resume", "--overwrite"], ["give one of them"]),
    ("train-one-class", [*TRAIN, "--out", "{out}/m.pt", "--data", "{oneclass}"],
     ["oneclass holds one class", "learns nothing", "at least two"]),
    ("train-target-ratio-range", [*TRAIN, "--out", "{out}/m.pt", "--target-ratio", "60"], ["--target-ratio", "(0, 1]",
                                                                                          "60"]),
    ("train-eta-negative", [*TRAIN, "--out", "{out}/m.pt", "--eta", "-1"], ["--eta must be >= 0", "-1"]),
    ("train-tau-zero", [*TRAIN, "--out", "{out}/m.pt", "--tau", "0"], ["--tau must be > 0"]),
    ("train-train-scale-range", [*TRAIN, "--out", "{out}/m.pt", "--train-scale", "0.3"], ["--train-scale", "greater than or equal to 0.5"]),
    ("train-train-scale-predictor", [*TRAIN, "--out", "{out}/m.pt", "--mode", "predictor", "--init-from", "{ckpt}",
     "--train-scale", "0.875"], ["--train-scale applies to the backbone's training", "predictor mode"]),
    ("calibrate-target-ratio-range", ["calibrate", "--quiet", "--artifacts", "{art}", "--runtime", "onnx", "--data",
     "{data}", "--target-ratio", "60"], ["--target-ratio", "in (0, 1]", "got 60"]),
    ("calibrate-max-drop-negative", ["calibrate", "--quiet", "--artifacts", "{art}", "--runtime", "onnx", "--data",
     "{data}", "--max-drop", "-1"], ["--max-drop", "from 0 to 100", "got -1"]),
    ("calibrate-checkpoint-target-ratio", ["calibrate", "--quiet", "--model", "{ckpt}", "--data", "{data}",
     "--target-ratio", "60"], ["--target-ratio", "got 60"]),
    ("convert-policy-data-target-ratio", [*CONVERT, "--out", "{out}/art", "--policy-data", "{data}", "--target-ratio",
     "1.5"], ["--target-ratio", "got 1.5"]),
    ("convert-quant-count-zero", [*CONVERT, "--out", "{out}/art", "--quant-count", "0"], ["--quant-count", "greater than or equal to 1"]),
    ("convert-pass-from-spec", [*CONVERT, "--out", "{out}/art", "--pass-from", "64"], ["--pass-from '64'", "write RES=MODEL"]),
]  # fmt: skip

_BEFORE_WORK_CLI = """
import json
import drnet_edge.runtime.artifacts


def _no_load(*args, **kwargs):
    raise RuntimeError("a model was loaded before the refusal")


drnet_edge.runtime.artifacts.ArtifactDRNet.__init__ = _no_load
from drnet_edge.cli import main

code = main(json.loads(sys.argv[1]))
print(json.dumps({"exit": code, "torch_modules": loaded_blocked()}))
"""


@pytest.mark.parametrize("args, says", [pytest.param(a, s, id=i, marks=_converts(a)) for i, a, s in BEFORE_WORK])
def test_refused_before_torch_or_a_model_loads(
    request: pytest.FixtureRequest, inputs: dict[str, Path], tmp_path: Path, args: list[str], says: list[str]
) -> None:
    import subprocess

    from .test_deploy_side import BLOCKER

    paths = {**inputs, "out": tmp_path}
    if any("{art}" in a for a in args):
        paths["art"] = request.getfixturevalue("onnx_artifacts")
    before = _files(tmp_path, inputs["root"])
    argv = _args(args, paths)
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER + _BEFORE_WORK_CLI, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = json.loads(done.stdout.strip().splitlines()[-1])
    lines = done.stderr.strip().splitlines()
    assert said == {"exit": 2, "torch_modules": []}, (said, done.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for s in says:
        assert s in lines[0], (s, lines[0])
    assert "needs PyTorch" not in lines[0]
    assert _files(tmp_path, inputs["root"]) == before


def test_calibrate_on_a_read_only_artifact_folder_names_it_before_any_photo_runs(
    onnx_artifacts: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#30: the policy goes into the folder's manifest.json; a folder that takes no new file is refused
    naming it (and --out), before any model loads. Root writes through permissions: the folder is made
    immutable (chattr +i) instead."""
    import shutil
    import subprocess

    import drnet_edge.runtime.artifacts

    art = tmp_path / "art"
    shutil.copytree(onnx_artifacts, art)
    if subprocess.run(["chattr", "+i", str(art)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this file system")
    try:

        def no_load(*args: object, **kwargs: object) -> None:
            raise AssertionError("a model was loaded before the refusal")

        monkeypatch.setattr(drnet_edge.runtime.artifacts.ArtifactDRNet, "__init__", no_load)
        args = ["calibrate", "--quiet", "--artifacts", str(art), "--runtime", "onnx", "--data", str(inputs["data"]),
                "--min-photos", "0", "--folds", "2"]  # fmt: skip
        result = runner.invoke(app, args)
    finally:
        subprocess.run(["chattr", "-i", str(art)], check=True)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, (result.exit_code, result.stderr, result.exception)
    assert f"cannot write in {art}" in lines[0] and "--out NEW_DIR" in lines[0], lines[0]
    assert sorted(p.name for p in art.iterdir()) == sorted(p.name for p in onnx_artifacts.iterdir())


def test_no_family_meets_the_objective_is_said_once() -> None:
    """#30: the advice and "Nothing was written" come once, after every family's reason (they were nested
    inside one family's clause and repeated)."""
    import numpy as np

    from drnet_edge.errors import ConfigError
    from drnet_edge.policy.registry import Predictions
    from drnet_edge.policy.selection import select_policy

    rng = np.random.default_rng(0)
    n, res = 40, [64, 48]
    logits = rng.normal(size=(n, len(res), 3))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    top1 = probs.argmax(-1)
    preds = Predictions(resolutions=res, top1=top1, confidence=probs.max(-1), labels=rng.integers(0, 3, n))
    for objective, advice in (({"max_drop": 0.0, "require_bound": True}, "raise --max-drop"),
                              ({"target_ratio": 0.01}, "raise --target-ratio")):  # fmt: skip
        with pytest.raises(ConfigError) as got:
            select_policy(preds, {64: 1000, 48: 560}, 0, folds=2, **objective)
        text = str(got.value)
        assert text.count("Nothing was written") == 1 and text.endswith("Nothing was written"), text
        assert text.count(advice) == 1 and text.count("; raise") + text.count(": raise") == 1, text
    # the per-family reasons carry no advice of their own: it follows them once
    from drnet_edge.policy.selection import family_estimates, pick_family

    objective = {"max_drop": None, "target_ratio": 0.01, "require_bound": False}
    families = family_estimates(preds, {64: 1000, 48: 560}, 0, objective, 2)
    assert families and all("Nothing was written" not in e.get("error", "") for e in families.values()), families
    with pytest.raises(ConfigError, match="no policy family meets the objective") as got:
        pick_family(families, objective)
    assert str(got.value).count("Nothing was written") == 1 and str(got.value).count("raise --target-ratio") == 1


# id, arguments, what stdout must say, what it must not say: inputs that must work
GOOD = [
    ("random-default-when-calibrated", ["eval", "--quiet", "--model", "{calibrated}", "--data", "{data}", "--limit", "2",
     "--policies", "fixed,random-default"], ["random-cascade-48:0.5-64"], []),
    ("default-label-when-calibrated", ["eval", "--quiet", "--model", "{calibrated}", "--data", "{data}", "--limit", "2"],
     ["cascade-48:0.5-64 (default)", "random-cascade-48:0.5-64"], []),
    ("no-default-label-uncalibrated", EVAL, ["drnet", "random"], ["(default)"]),
    ("models-describes-a-checkpoint", ["models", "{ckpt}"],
     ["resnet10t", "64,48", "3 (own: cat, dog, fox)", "none: choose one with drnet-edge calibrate"], []),
    ("models-model-option", ["models", "--model", "{calibrated}"], ["cascade-48:0.5-64"], ["none: choose"]),
    ("predict-skip-bad", ["predict", "--quiet", "--artifacts", "{art}", "{dangling}", "--skip-bad"],
     ["skipped unreadable: 1", "gone.png", "2 photos"], []),
]  # fmt: skip


@pytest.mark.parametrize("args, says, never", [pytest.param(a, s, n, id=i, marks=_converts(a)) for i, a, s, n in GOOD])
def test_odd_but_valid_input_works(
    request: pytest.FixtureRequest, inputs: dict[str, Path], args: list[str], says: list[str], never: list[str]
) -> None:
    paths = dict(inputs)
    if any("{art}" in a for a in args):
        paths["art"] = request.getfixturevalue("onnx_artifacts")
    result = runner.invoke(app, _args(args, paths))
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    for s in says:
        assert s in result.stdout, (s, result.stdout)
    for s in never:
        assert s not in result.stdout, (s, result.stdout)


@pytest.mark.parametrize(
    "policies, says",
    [
        ("fixd", "unknown policy 'fixd'"),
        ("fixed-100", "100 is not among the resolutions [64, 48]"),
        ("default", "records no default policy"),
        ("drnet-escalate:0,7", "threshold '0,7' is not a number"),
    ],
)
def test_policies_need_no_model_built(
    inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, policies: str, says: str
) -> None:
    """Policy names are checked against the checkpoint's metadata: no model is built for a typo."""
    import drnet_edge.models.checkpoint

    def built(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was built")

    monkeypatch.setattr(drnet_edge.models.checkpoint, "build_model", built)
    result = runner.invoke(app, [*_args(EVAL, inputs), "--policies", policies])
    assert result.exit_code == 2 and says in result.stderr, (result.exit_code, result.stderr, result.exception)


@pytest.mark.parametrize(
    "policies, says",
    [("fixd", "unknown policy 'fixd'"), ("cascade-48:0.5-96", "96 is not one of"), ("oracle", "not a deployable")],
)
def test_bench_policies_load_no_model(
    onnx_artifacts: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, policies: str, says: str
) -> None:
    """bench --policies is checked (syntax, then the manifest's resolutions) before any model or runtime loads."""
    import drnet_edge.bench.paths.local_runs
    import drnet_edge.runtime.artifacts

    def loaded(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model or runtime was loaded")

    monkeypatch.setattr(drnet_edge.runtime.artifacts.ArtifactDRNet, "__init__", loaded)
    monkeypatch.setattr(drnet_edge.bench.paths.local_runs, "warm_runtime", loaded)
    result = runner.invoke(app, [*_args(BENCH, {**inputs, "art": onnx_artifacts}), "--policies", policies])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, (result.exit_code, result.stderr, result.exception)
    assert "--policies" in lines[0] and says in lines[0], lines[0]


def test_bench_table_keeps_policy_names_whole_at_80_columns(onnx_artifacts: Path, inputs: dict[str, Path]) -> None:
    """In an 80-column terminal every policy name (a cascade's thresholds) shows whole; columns go instead."""
    from rich.console import Console

    from drnet_edge.bench import BenchOptions, run_bench
    from drnet_edge.bench.report.tables import bench_table, model_table

    cascade = "cascade-margin-48:0.266-64"
    opts = BenchOptions(data=inputs["data"], limit=2, runs=1, warmup=0, progress=False, policies=(cascade,))
    report = run_bench(onnx_artifacts, opts)
    long = "cascade-margin-160:0.266-192"  # as long as a real one: the tiny model's resolutions are short
    report["policies"] = {long if n == cascade else n: p for n, p in report["policies"].items()}
    report["default_policy"] = long
    console = Console(width=80, record=True)
    console.print(bench_table(report))
    console.print(model_table(report))
    text = console.export_text()
    assert f"{long} (default)" in text and "drnet " in text and "predictor " in text, text
    assert max(map(len, text.splitlines())) <= 80 and "…" not in text, text
    assert "columns left out at this width" in text
    wide = Console(width=250, record=True)
    wide.print(bench_table(report))
    assert "answered at" in wide.export_text() and "left out" not in wide.export_text()


def test_bench_imports_the_runtime_before_timing_loads(
    onnx_artifacts: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime's first import and set-up (ExecuTorch's: ~19 s) is paid by an untimed load before the
    timed ones, so no model's load time carries it; the report says what it cost."""
    import drnet_edge.runtime.artifacts
    from drnet_edge.converters import get_target

    events: list[str] = []
    target, real_init = get_target("onnx"), drnet_edge.runtime.artifacts.ArtifactDRNet.__init__
    real_load = target.load

    def load(*args: object, **kwargs: object) -> object:
        events.append("load")
        return real_load(*args, **kwargs)

    def init(self: object, *args: object, **kwargs: object) -> None:
        events.append("timed loads")
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(target, "load", load)
    monkeypatch.setattr(drnet_edge.runtime.artifacts.ArtifactDRNet, "__init__", init)
    js = tmp_path / "b.json"
    result = runner.invoke(
        app, [*_args([*BENCH, "--data", "{data}"], {**inputs, "art": onnx_artifacts}), "--json", str(js)]
    )
    assert result.exit_code == 0, (result.stderr, result.exception)
    report = json.loads(js.read_text())
    assert events[:2] == ["load", "timed loads"] and events.count("load") == 1 + len(report["models"]), events
    assert report["runtime_init_ms"] > 0 and "the runtime's import and set-up" in result.stdout


def test_busy_machine_warnings_are_pure_functions() -> None:
    """Other work on the cores the bench needs (sampled just before and after the run), or a median no
    quiet machine gives."""
    from drnet_edge.bench.paths.local import _others_busy
    from drnet_edge.bench.timing import impossible_latency_warning, load_warning

    assert load_warning(0.2, 0.1, cores=2, threads=2) is None  # a quiet machine
    assert load_warning(None, None, cores=2, threads=2) is None  # nothing to measure on this system
    busy = load_warning(1.6, 0.1, cores=2, threads=2)
    assert busy and "busy" in busy and "kept 1.6 cores busy before" in busy and "2 cores" in busy
    assert load_warning(8.0, 8.0, cores=16, threads=4) is None  # others use cores the bench leaves free
    assert load_warning(None, 1.0, cores=4, threads=4)  # after the run
    measured = _others_busy(0.05)
    assert measured is None or 0.0 <= measured <= (os.cpu_count() or 1) + 1e-6

    def row(p50: float, **passes: float) -> dict:
        return {"latency_p50_ms": p50, "pass_share": {k.removeprefix("r"): v for k, v in passes.items()}}

    quiet = {"fixed-192": row(2.0), "fixed-160": row(1.5), "cascade-160:0.5-192": row(1.6, r160=1.0, r192=0.2)}
    assert impossible_latency_warning(quiet) is None
    odd = {**quiet, "cascade-160:0.5-192": row(1.2, r160=1.0, r192=0.2)}  # faster than its own first stage
    found = impossible_latency_warning(odd)
    assert found and "cascade-160:0.5-192 1.20 ms < fixed-160 1.50 ms" in found and "busy" in found
    below_cheapest = {**quiet, "fixed-128": row(1.0), "drnet": row(0.5, r128=0.5, r160=0.5)}
    assert "drnet 0.50 ms < fixed-128" in (impossible_latency_warning(below_cheapest) or "")


def test_bench_warns_when_the_machine_is_busy(
    onnx_artifacts: Path, inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other work stubbed far above the cores: one warning line on stderr, and in the JSON."""
    import drnet_edge.bench.paths.local

    monkeypatch.setattr(drnet_edge.bench.paths.local, "_others_busy", lambda: 64.0)
    js = tmp_path / "b.json"
    result = runner.invoke(
        app, [*_args([*BENCH, "--data", "{data}"], {**inputs, "art": onnx_artifacts}), "--json", str(js)]
    )
    assert result.exit_code == 0, (result.stderr, result.exception)
    busy = [ln for ln in result.stderr.splitlines() if "the machine was busy" in ln]
    assert len(busy) == 1 and busy[0].startswith("warning: ") and "kept 64.0 cores busy before" in busy[0], (
        result.stderr
    )
    assert any("the machine was busy" in w for w in json.loads(js.read_text())["warnings"])


def test_ctrl_c_stops_the_onnx2tf_child_and_leaves_nothing(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while onnx2tf's child converts (a stand-in here that ignores SIGINT and SIGTERM, as a busy
    TensorFlow may, and sends the parent its Ctrl-C): the child's group is stopped within seconds, no
    output, staging or temporary folder is left, and the run ends with 130 and one line."""
    import importlib.util
    import sys

    if importlib.util.find_spec("onnx2tf") is None:
        pytest.skip("the onnx2tf route needs pip install 'drnet-edge[onnx]'")

    import drnet_edge.converters.export.tflite_onnx2tf as onnx2tf_route

    pid_file = tmp_path / "child.pid"
    stub = (
        "import os, signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        f"signal.signal(signal.SIGTERM, signal.SIG_IGN); open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
        "os.kill(os.getppid(), signal.SIGINT); time.sleep(60)"
    )
    monkeypatch.setattr(onnx2tf_route, "onnx2tf_command", lambda workdir, int8: [sys.executable, "-c", stub])
    # Ctrl-C as on a terminal: a process started in the background by a non-interactive shell (nohup,
    # some CI runners) inherits SIGINT ignored, and Python then raises no KeyboardInterrupt at all
    temp_dirs = set(Path(tempfile.gettempdir()).glob("onnx2tf-*"))
    out = tmp_path / "art"
    args = ["convert", "--model", str(inputs["ckpt"]), "--target", "tflite", "--via", "onnx2tf",
            "--quant-data", str(inputs["data"]), "--quant-count", "2", "--out", str(out)]  # fmt: skip
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = runner.invoke(app, args)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.exit_code == 130, (result.exit_code, result.stderr, result.exception)
    with pytest.raises(ProcessLookupError):  # stopped and reaped, not left running for its 60 s
        os.kill(int(pid_file.read_text()), 0)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: ") and "was not created" in lines[0], lines
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["child.pid"]
    assert set(Path(tempfile.gettempdir()).glob("onnx2tf-*")) <= temp_dirs


QUICK_TRAIN = [*TRAIN, "--epochs", "2", "--resolutions", "64,48", "--thumb-size", "32", "--workers", "0"]


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, epochs: int) -> None:
    """Ctrl-C in the run after ``epochs`` epochs were saved (0: before the first one ended)."""
    from drnet_edge.train.trainer import Trainer

    def run(self: Trainer) -> dict:
        for epoch in range(self.start_epoch, self.start_epoch + epochs):
            self._save(epoch, {"loss": 1.0, "phase": self.phase(epoch)})
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "run", run)


# id, an earlier run's epochs already in --out, this run's epochs before Ctrl-C, --resume, says, never says
INTERRUPTED = [
    ("before-first-epoch", 0, 0, False, ["no checkpoint was written", "does not exist", "nothing to --resume"],
     ["intact", "continue with"]),
    ("after-first-epoch", 0, 1, False, ["holds the last complete epoch (1 of 2)", "--resume"], ["no checkpoint"]),
    ("over-an-earlier-run", 1, 0, False,
     ["no epoch ended in this run", "earlier run's file (1 of 2 epochs done, untouched)", "--resume continues it"], []),
    ("resumed-before-next-epoch", 1, 0, True, ["is as it was (1 of 2 epochs done)", "continue with --resume"], []),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "earlier, epochs, resume, says, never", [pytest.param(*row[1:], id=row[0]) for row in INTERRUPTED]
)
def test_ctrl_c_in_train_says_what_is_on_disk(
    inputs: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    earlier: int,
    epochs: int,
    resume: bool,
    says: list[str],
    never: list[str],
) -> None:
    """Own classes without --mode: joint, said in one line; Ctrl-C: one line true to what is on disk."""
    out = tmp_path / "m.pt"
    args = _args([*QUICK_TRAIN, "--out", "{out}/m.pt"], {**inputs, "out": tmp_path})
    if earlier:
        _interrupt_after(monkeypatch, earlier)
        assert runner.invoke(app, args).exit_code == 130
        os.utime(out, (out.stat().st_atime - 60, out.stat().st_mtime - 60))
    _interrupt_after(monkeypatch, epochs)
    result = runner.invoke(app, args + (["--resume"] if resume else ["--overwrite"] * bool(earlier)))
    assert result.exit_code == 130, (result.exit_code, result.stderr, result.exception)
    assert "own classes (3: cat, dog, fox" in result.stdout and "--mode joint" in result.stdout
    assert "--mode plain" in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), result.stderr
    for s in says:
        assert s in lines[0], (s, lines[0])
    for s in never:
        assert s not in lines[0], (s, lines[0])


def test_unlabelled_plot_is_skipped_with_a_reason(inputs: dict[str, Path], tmp_path: Path) -> None:
    js, png = tmp_path / "r.json", tmp_path / "r.png"
    args = ["eval", "--quiet", "--model", inputs["ckpt"], "--data", inputs["flat"], "--json", js, "--plot", png]
    result = runner.invoke(app, list(map(str, args)))
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--plot" in lines[0] and "unlabelled" in lines[0], result.stderr
    assert "Warning" not in result.stderr and json.loads(js.read_text())["n"] == 2 and not png.exists()


def test_bench_unlabelled_plot_is_skipped(onnx_artifacts: Path, inputs: dict[str, Path], tmp_path: Path) -> None:
    js, png = tmp_path / "b.json", tmp_path / "b.png"
    args = [*BENCH, "--data", "{flat}", "--json", str(js), "--plot", str(png)]
    result = runner.invoke(app, _args(args, {**inputs, "art": onnx_artifacts}))
    assert result.exit_code == 0, result.stderr
    assert "--plot" in result.stderr and "unlabelled" in result.stderr and "Warning" not in result.stderr
    assert json.loads(js.read_text())["n"] == 2 and not png.exists()


def test_dangling_symlink_is_skipped_and_counted(inputs: dict[str, Path], tmp_path: Path) -> None:
    js = tmp_path / "r.json"
    args = ["eval", "--quiet", "--model", inputs["ckpt"], "--data", inputs["dangling"], "--skip-bad", "--json", js]
    result = runner.invoke(app, list(map(str, args)))
    assert result.exit_code == 0, result.stderr
    report = json.loads(js.read_text())
    assert report["n"] == 2 and report["skipped_bad"]["count"] == 1
    assert report["skipped_bad"]["files"][0].endswith("gone.png")


def test_unexpected_error_is_one_line_with_its_own_exit_code(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drnet_edge.tables

    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(drnet_edge.tables, "policy_table", bug)
    args = ["eval", "--quiet", "--model", str(inputs["ckpt"]), "--data", str(inputs["data"]), "--limit", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 70, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ZeroDivisionError: a bug" in lines[0] and "--verbose" in lines[0]
    result = runner.invoke(app, ["--verbose", *args])
    assert isinstance(result.exception, ZeroDivisionError)  # --verbose: the traceback, untouched


def test_a_failed_final_write_keeps_the_results_on_screen(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import drnet_edge._io

    def disk_full(path: object, report: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(drnet_edge._io, "atomic_write_json", disk_full)
    js = tmp_path / "r.json"
    args = ["eval", "--quiet", "--model", inputs["ckpt"], "--data", inputs["data"], "--limit", "2", "--json", js]
    result = runner.invoke(app, list(map(str, args)))
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "fixed-64" in result.stdout  # the table was printed
    assert "--json" in result.stderr and "was not written" in result.stderr and "No space left" in result.stderr
    assert not js.exists() and not list(tmp_path.iterdir())


def test_help_shows_square_brackets() -> None:
    result = runner.invoke(app, ["eval", "--help"])
    assert result.exit_code == 0 and "'id [name]' per" in result.stdout  # not eaten as rich markup


def test_check_writable_creates_nothing(tmp_path: Path) -> None:
    from drnet_edge._io import check_writable
    from drnet_edge.errors import ConfigError

    check_writable(tmp_path / "new" / "deeper" / "x.json", "--json")
    check_writable(tmp_path / "art", "--out", directory=True)
    assert not list(tmp_path.iterdir())
    (tmp_path / "exists.json").write_text("{}")
    check_writable(tmp_path / "exists.json", "--json")  # --resume reads it, then it is replaced
    with pytest.raises(ConfigError, match="already exists"):
        check_writable(tmp_path / "exists.json", "--json", may_exist=False)
