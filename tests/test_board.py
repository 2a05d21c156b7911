"""``bench --device ssh://...``: the ssh client layer (URLs, ssh's own failures in one line), the board probe,
and the whole path against a scripted ``ssh`` whose "board" is this machine (tests/data/ssh/fake_ssh): the
board's own local bench runs detached, its JSON comes back, a dropped connection leaves an incomplete report
that ``--resume`` completes. The real thing (OpenSSH and an emulated aarch64 board) is ``make board-check``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drnet_edge.bench.paths import board_run
from drnet_edge.bench.paths.board import BoardFacts, board_profile, parse_facts
from drnet_edge.bench.profiles import load_profiles
from drnet_edge.bench.transport.ssh import ConnectionLost, SshTarget, explain
from drnet_edge.cli import app
from drnet_edge.errors import ConfigError

FAKE_SSH = Path(__file__).parent / "data" / "ssh" / "fake_ssh"
SOURCES = Path(__file__).parent / "data" / "ssh" / "sources"
runner = CliRunner()


@pytest.mark.parametrize(
    "url, host, user, port",
    [
        ("ssh://pi@raspberrypi.local", "raspberrypi.local", "pi", None),
        ("ssh://192.168.1.20:2222", "192.168.1.20", None, 2222),
        ("ssh://ubuntu@[fe80::1]:22/", "fe80::1", "ubuntu", 22),
    ],
)
def test_ssh_urls(url: str, host: str, user: str | None, port: int | None) -> None:
    t = SshTarget.parse(url)
    assert (t.host, t.user, t.port) == (host, user, port)
    assert SshTarget.parse(str(t)) == t


@pytest.mark.parametrize("url", ["ssh://", "ssh://a b", "ssh://host:99999", "ssh://u@"])
def test_bad_ssh_urls(url: str) -> None:
    with pytest.raises(ConfigError, match="--device"):
        SshTarget.parse(url)


def _recorded(command_start: str) -> str:
    """The stderr recorded for one command of sources/openssh_client_errors.txt."""
    text = (SOURCES / "openssh_client_errors.txt").read_text()
    block = text.split(f"## $ {command_start}", 1)[1].split("## exit", 1)[0]
    return block.split("\n", 1)[1]


@pytest.mark.parametrize(
    "stderr, says",
    [
        (_recorded("ssh -o BatchMode=yes nosuch"), "cannot resolve host"),
        (_recorded("ssh -o BatchMode=yes -p 1"), "host unreachable"),
        (_recorded("ssh -o BatchMode=yes -o ConnectTimeout=2"), "host unreachable"),
        (_recorded("ssh -o BatchMode=yes -o IdentitiesOnly=yes"), "authentication refused"),
        (_recorded("ssh -o BatchMode=yes -o IdentityFile=KEY -o UserKnownHostsFile"), "host key is unknown or changed"),
    ],
    ids=["resolve", "refused", "timeout", "auth", "hostkey"],
)
def test_ssh_failures_in_one_line(stderr: str, says: str) -> None:
    err = str(explain(stderr, SshTarget("board", "pi")))
    assert says in err and "\n" not in err


def test_a_dropped_connection_is_its_own_error() -> None:
    assert isinstance(explain("Connection to b closed by remote host.\n", SshTarget("b")), ConnectionLost)


PI5_FACTS = """home: /home/pi
kernel: 6.6.51+rpt-rpi-2712
machine: aarch64
model: Raspberry Pi 5 Model B Rev 1.0
cpu:
parts: 0xd0b 0xd0b 0xd0b 0xd0b
cores: 4
free_kb: 20480000
taskset: /usr/bin/taskset
hwmon: hwmon0 cpu_thermal
hwmon: hwmon1 rp1_adc
python: 3.11 aarch64 2.36
"""  # written from the Raspberry Pi 5 documentation (model string, Cortex-A76 = MIDR part 0xd0b); not a capture


def test_board_facts_and_profile() -> None:
    facts = parse_facts(PI5_FACTS)
    assert facts.cpu_name == "4x Cortex-A76" and facts.cores == 4 and facts.taskset and facts.hwmon == []
    assert facts.platform().tag == "cp311-aarch64-glibc2.36"
    profile = board_profile(load_profiles(), facts, None)
    assert profile.name == "rpi5" and profile.extra["verified"] is False
    assert board_profile(load_profiles(), BoardFacts(home="/h", model="Some Board"), None).name == "generic-board"
    with pytest.raises(ConfigError, match="--board nope"):
        board_profile(load_profiles(), facts, "nope")
    old = parse_facts(PI5_FACTS.replace("python: 3.11", "python: 3.9"))
    with pytest.raises(ConfigError, match="3.9; drnet-edge needs >= 3.10"):
        old.platform()


# -- the whole path against the scripted ssh -------------------------------------------------------------


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "board"
    home.mkdir()
    monkeypatch.setenv("SSH", str(FAKE_SSH))
    monkeypatch.setenv("FAKE_SSH_HOME", str(home))
    monkeypatch.setenv("FAKE_SSH_LOG", str(tmp_path / "ssh-calls.log"))
    monkeypatch.setattr(board_run, "POLL_S", 0.2)
    return home


@pytest.fixture(scope="module")
def int8_tflite(tiny_converted) -> Path:
    return tiny_converted("tflite", via="litert", int8=True)[0]


def _bench(art: Path, data: Path, host: str, out: Path, *extra: str):
    venv = str(Path(sys.prefix))  # this interpreter's venv stands in for the board's
    args = ["bench", "--quiet", "--artifacts", str(art), "--device", f"ssh://pi@{host}", "--remote-venv", venv,
            "--data", str(data), "--limit", "4", "--runs", "2", "--warmup", "0", "--json", str(out), *extra]  # fmt: skip
    return runner.invoke(app, args)


def test_bench_over_ssh_end_to_end(board: Path, int8_tflite: Path, tiny, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    r = _bench(int8_tflite, tiny[1], "board.test", out)
    assert r.exit_code == 0, (r.output, r.exception)
    rep = json.loads(out.read_text())
    dev = rep["device"]
    assert dev["kind"] == "ssh" and dev["name"] == "ssh://pi@board.test" and dev["kernel"] and dev["cores"] >= 1
    assert dev["profile"]["name"] == "generic-board" and dev["runtime_versions"]["drnet-edge"]
    assert rep["n"] == 4 and rep["runtime"] == "tflite" and "fixed-64" in rep["policies"]
    assert rep["policies"]["fixed-64"]["latency_ms"] > 0 and rep["remote"]["run_dir"].startswith(str(board))
    assert (Path(rep["remote"]["run_dir"]) / "report.json").is_file() and not rep.get("incomplete")
    calls = (tmp_path / "ssh-calls.log").read_text()
    assert calls.count("tar -x") == 2  # artifacts and photos, once each
    r = _bench(int8_tflite, tiny[1], "board.test", tmp_path / "r2.json")
    assert r.exit_code == 0 and (tmp_path / "ssh-calls.log").read_text().count("tar -x") == 2  # already there


def test_a_dropped_connection_resumes(board: Path, int8_tflite: Path, tiny, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    (board / ".drop-next-poll").write_text("")
    r = _bench(int8_tflite, tiny[1], "flaky.test", out)
    assert r.exit_code == 3, (r.output, r.exception)
    assert "closed by remote host" in r.output and "--resume" in r.output
    cut = json.loads(out.read_text())
    assert cut["incomplete"] and cut["remote"]["run_dir"] and cut["policies"] == {}
    r = _bench(int8_tflite, tiny[1], "flaky.test", out, "--resume")
    assert r.exit_code == 0, (r.output, r.exception)
    done = json.loads(out.read_text())
    assert not done.get("incomplete") and done["remote"]["run_dir"] == cut["remote"]["run_dir"]  # re-attached
    assert done["policies"]["fixed-64"]["latency_ms"] > 0
    assert (tmp_path / "ssh-calls.log").read_text().count("nohup") == 1  # started once


def _hwmon(root: Path, name: str, files: dict[str, str]) -> Path:
    d = root / "hwmon0"
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    for f, v in files.items():
        (d / f).write_text(v + "\n")
    return root


def test_hwmon_energy_and_power_meters(tmp_path: Path) -> None:
    """Energy counters are read as they are; power sensors (µW) are integrated over time."""
    import time

    from drnet_edge.bench.meters.energy import EnergyUnavailable, hwmon_meter

    with pytest.raises(EnergyUnavailable, match="no hwmon power or energy sensor"):
        hwmon_meter(tmp_path / "none")
    counters = _hwmon(tmp_path / "e", "ina226", {"energy1_input": "1000"})
    m = hwmon_meter(counters)
    assert m.name == "hwmon" and m.read().rails_uj == {"ina226:energy1": 1000.0}
    power = _hwmon(tmp_path / "p", "ina219", {"power1_input": "2000000"})  # 2 W
    m = hwmon_meter(power, period_s=0.01)
    a = m.read()
    time.sleep(0.2)
    b = m.read()
    joules = (b.rails_uj["ina219:power1"] - a.rails_uj["ina219:power1"]) * 1e-6
    assert m.name == "hwmon-power" and joules == pytest.approx(2.0 * (b.t_s - a.t_s), rel=0.05)
