"""The userland set-up talks on stderr (or its build log), never on stdout: board_check.sh takes the
userland's path from stdout (``ROOT=$(...)``) and removes a folder under it. Stub ``apt-get``,
``debootstrap`` and ``chroot`` print like the real ones; nothing is installed, nothing leaves the machine.
And every ``rm -rf`` on a variable in the project's scripts is guarded (``${VAR:?}`` and a folder check)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drnet_edge.verify import userland as ul

REPO = Path(__file__).resolve().parents[1]

# What the real apt-get install prints on stdout (and one warning on stderr); then it "installs" the tools
# into $STUB_INSTALL_INTO, when set, so that the set-up finds them afterwards.
APT_GET = """#!/bin/sh
echo "$@" >> "$STUB_CALLS"
echo "Reading package lists..."
echo "Building dependency tree..."
echo "Reading state information..."
echo "The following NEW packages will be installed:"
echo "  debootstrap qemu-user-static"
echo "Get:1 http://deb.debian.org/debian bookworm/main amd64 qemu-user-static amd64 1:7.2+dfsg-7 [39.5 MB]"
echo "debconf: delaying package configuration, since apt-utils is not installed" >&2
echo "Setting up qemu-user-static (1:7.2+dfsg-7+deb12u18+b3) ..."
echo "Setting up debootstrap (1.0.128+nmu2+deb12u2) ..."
if [ -n "$STUB_INSTALL_INTO" ]; then
  for t in qemu-aarch64-static debootstrap; do printf '#!/bin/sh\\nexit 0\\n' > "$STUB_INSTALL_INTO/$t"; chmod +x "$STUB_INSTALL_INTO/$t"; done
fi
"""
APT_SAYS = ("Reading package lists", "Setting up qemu-user-static", "Setting up debootstrap")


def _stub(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def stub_apt(tmp_path: Path, monkeypatch) -> Path:
    """A stub apt-get first on $PATH; its calls are written to the returned file."""
    calls = tmp_path / "apt-calls"
    _stub(tmp_path / "stubs", "apt-get", APT_GET)
    monkeypatch.setenv("PATH", f"{tmp_path / 'stubs'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STUB_CALLS", str(calls))
    return calls


def test_apt_get_output_goes_to_stderr_never_stdout(stub_apt: Path, tmp_path: Path, capfd) -> None:
    (tmp_path / "none").mkdir()  # neither tool on the search path: both are installed
    ul.install_tools(lambda m: print(m, file=sys.stderr), search_path=str(tmp_path / "none"))
    out, err = capfd.readouterr()
    assert stub_apt.read_text().split() == ["install", "-y", "-q", "qemu-user-static", "debootstrap"]
    assert out == ""
    assert all(said in err for said in APT_SAYS) and "machine-wide change: apt-get install" in err


def _fake_binfmt(folder: Path) -> Path:
    folder.mkdir()
    (folder / "register").write_text("")
    (folder / ul.HANDLER).write_text("enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\n")
    return folder


def _fake_userland(root: Path) -> Path:
    (root / ul.VENV.lstrip("/") / "bin").mkdir(parents=True)
    (root / ul.VENV.lstrip("/") / "bin" / "python3").touch()
    (root / ul.STAMP).write_text(json.dumps({"built": "2026-12-07", "pip": {}}))
    return root


# board_check.sh's capture, in its shape: the set-up runs (here with the root check off, a stand-in
# binfmt_misc folder and an existing userland) and the last line prints the userland's path.
SNIPPET = r"""
set -euo pipefail
ROOT=$("$PY" - "$@" <<'EOF'
import os, sys
from pathlib import Path
from drnet_edge.verify import userland as ul
os.geteuid = lambda: 0
tools, binfmt, root, log_file = sys.argv[1:]
land = ul.ensure_userland(Path(root), setup=True, log=lambda m: print(m, file=sys.stderr),
                          log_file=Path(log_file), binfmt_dir=Path(binfmt), search_path=tools)
print(land.root)
EOF
)
printf '%s' "$ROOT"
"""


def test_board_check_root_capture_gets_only_the_path(stub_apt: Path, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    root = _fake_userland(tmp_path / "land")
    env = {**os.environ, "PY": sys.executable, "STUB_INSTALL_INTO": str(tools)}
    args = [str(tools), str(_fake_binfmt(tmp_path / "binfmt")), str(root), str(tmp_path / "userland.log")]
    done = subprocess.run(
        ["bash", "-c", SNIPPET, "snippet", *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == str(root)  # the whole of stdout: what `rm -rf "${ROOT:?}/..."` would get
    assert all(said in done.stderr for said in APT_SAYS) and "reusing the aarch64 userland" in done.stderr
    assert (tools / "qemu-aarch64-static").exists() and stub_apt.is_file()


@pytest.mark.skipif(not Path("/etc/resolv.conf").is_file(), reason="the build copies the host's /etc/resolv.conf")
def test_the_userland_build_talks_only_to_its_log(stub_apt: Path, tmp_path: Path, monkeypatch, capfd) -> None:
    """build_userland with a stub debootstrap (makes the folder's /etc) and chroot (makes the venv's python3),
    both printing on stdout and stderr: all of it in the build log, none on stdout."""
    stubs = tmp_path / "stubs"
    debootstrap = 'echo "I: Retrieving InRelease"\necho "W: a warning" >&2\nmkdir -p "${5:?}/etc"\necho "I: Base system installed"\n'
    _stub(stubs, "debootstrap", "#!/bin/sh\n" + debootstrap)  # its 5th argument: the folder it fills
    _stub(
        stubs,
        "chroot",
        '#!/bin/sh\necho "chroot $*"\n[ "$4" != venv ] || { mkdir -p "${1:?}$5/bin"; touch "$1$5/bin/python3"; }\n',
    )
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(ul, "_chroot_env", lambda extra=None: {"PATH": os.environ["PATH"], **(extra or {})})
    log_file = tmp_path / "userland.log"
    land = ul.build_userland(tmp_path / "land", log=lambda m: print(m, file=sys.stderr), log_file=log_file)
    out, err = capfd.readouterr()
    assert out == "" and "aarch64 userland ready" in err
    assert ul.find_userland(land.root) is not None
    log = log_file.read_text()
    assert "I: Base system installed" in log and "W: a warning" in log and "-m venv" in log


def test_the_result_says_what_the_host_lacked_before(tmp_path: Path) -> None:
    """board_check_compare.py's sentence from board_check.sh's host-before.json (a part not recorded: not said)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bcc", REPO / "benchmarks/release/board_check_compare.py")
    bcc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bcc)
    assert bcc.host_before(tmp_path) == ""
    lacked = {
        "qemu-aarch64-static": False,
        "debootstrap": False,
        "binfmt": False,
        "userland": True,
        "date": "2026-12-07",
    }
    (tmp_path / "host-before.json").write_text(json.dumps(lacked))
    said = bcc.host_before(tmp_path)
    assert said.startswith("It started on a machine without qemu-user-static, debootstrap or qemu's aarch64 binfmt")
    assert "2026-12-07" in said and "OpenSSH" not in said and "userland (" not in said
    (tmp_path / "host-before.json").write_text(json.dumps(dict.fromkeys(bcc.HOST_PARTS, True)))
    assert "already had" in bcc.host_before(tmp_path)


# -- rm -rf on a variable: ${VAR:?} and a folder check, in every script -----------------------------------

_RM_ON_VAR = re.compile(r"\brm\s+-(?:rf|fr|r)\b[^;&|\n]*\$")


def _scripts() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "*.sh", "Makefile", "*.mk"], cwd=REPO, capture_output=True, text=True)
    return [REPO / name for name in listed.stdout.split()] if listed.returncode == 0 else []


def test_every_rm_rf_on_a_variable_is_guarded() -> None:
    scripts = _scripts()
    if not scripts:
        pytest.skip("not a git checkout: the scripts are listed by git ls-files")
    unguarded = []
    for script in scripts:
        for n, line in enumerate(script.read_text().splitlines(), 1):
            code = re.split(r"(?:^|\s)#", line, maxsplit=1)[0]  # not in a comment
            for m in _RM_ON_VAR.finditer(code):
                words = code[m.start() :].split(";", 1)[0]
                # every variable in the command is "${VAR:?}" (or "$${VAR:?}" in a Makefile), and a [ -d ] test
                # on the line checks the folder first
                plain = re.findall(r"\$\$?(?:\{(?![A-Za-z_]\w*:\?)|\(|[A-Za-z_])", words)
                if plain or "[ -d " not in code:
                    unguarded.append(f"{script.relative_to(REPO)}:{n}: {line.strip()}")
    assert not unguarded, "rm -rf on a variable without ${VAR:?} and a [ -d ] check:\n" + "\n".join(unguarded)


# -- `| head` under pipefail: the writer before it may die of SIGPIPE (exit 141) and fail the script -------


def test_no_head_in_a_pipeline_of_a_pipefail_script() -> None:
    """``find | sort | head -20`` exits 141 once ``head`` has its lines and ``sort`` still writes: under
    ``set -o pipefail`` that stops the script (it did in ``flatter_curve.sh``'s first smoke run). Use
    ``sed -n 1,20p``, which reads to the end."""
    scripts = [s for s in _scripts() if "pipefail" in s.read_text()]
    if not scripts:
        pytest.skip("not a git checkout: the scripts are listed by git ls-files")
    found = [
        f"{s.relative_to(REPO)}:{n}: {line.strip()}"
        for s in scripts
        for n, line in enumerate(s.read_text().splitlines(), 1)
        if re.search(r"\|\s*head\b", re.split(r"(?:^|\s)#", line, maxsplit=1)[0])
    ]
    assert not found, "| head in a pipefail script:\n" + "\n".join(found)
