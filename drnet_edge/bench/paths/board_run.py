"""A bench run on an ARM64 Linux board over SSH: the board runs the deploy side's own local bench
(``drnet-edge bench --device local``, pinned with ``taskset`` to the profile's cores), detached from the
connection, and this host brings its JSON report back.

    probe (one ssh call) -> venv with this wheel (once) -> artifacts and photos (once each)
    -> start the run detached (nohup setsid) -> poll its status and progress line -> fetch report.json

A dropped connection or Ctrl-C here does not stop the run there: the report is saved marked incomplete
with the run's folder on the board, and ``--resume --json FILE`` re-attaches to it (or starts it again
when the board lost it, the venv, artifacts and photos already in place).
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..._io import sha256_file
from ..options import BenchOptions, local_bench_args
from ..profiles import DeviceProfile, load_profiles
from ..transport.ssh import SCHEME, ConnectionLost, Ssh, SshError, SshTarget, check_ssh_option
from .base import BenchPath, Measurement, register_path
from .board import (
    GENERIC_BOARD,
    BoardFacts,
    board_profile,
    check_remote_venv,
    ensure_install,
    probe_board,
    remote_root,
    send_once,
)

if TYPE_CHECKING:
    from ...runtime.manifest import Manifest

POLL_S = 3.0
# Keys run_bench writes around a measuring path's body: taken from this host's side, not the board's report.
WRAPPER = {"format", "version", "device", "runtime", "precision", "threads", "backbone", "resolutions", "artifacts",
           "artifacts_manifest_sha256", "data", "subset", "n", "skipped_bad", "runs", "warmup", "started", "host",
           "reference"}  # fmt: skip
VERSIONS = ("drnet-edge", "numpy", "ai-edge-litert", "onnxruntime", "opencv-python-headless")


@register_path
class SshPath(BenchPath):
    """The board's own local bench over SSH; this host brings its report back."""

    name = "ssh"
    kind = "ssh"
    words = "boards over SSH (--device ssh://[user@]host[:port])"
    kind_words = words

    @classmethod
    def matches(cls, opts: BenchOptions) -> bool:
        return opts.device.startswith(SCHEME)

    @classmethod
    def check(cls, opts: BenchOptions) -> None:
        SshTarget.parse(opts.device)
        object.__setattr__(opts, "ssh_options", tuple(check_ssh_option(o) for o in opts.ssh_options))

    def measure(
        self, root: Path, manifest: Manifest, target: str, opts: BenchOptions, previous: dict | None
    ) -> Measurement:
        ssh = Ssh.find(SshTarget.parse(opts.device), opts.ssh_options)
        facts = probe_board(ssh)
        profile = board_profile(load_profiles(opts.profiles), facts, opts.board)
        venv = _venv(ssh, facts, opts)
        sha = sha256_file(root / "manifest.json")
        remote = _resumable(previous, ssh, sha)
        if remote is None:
            art = send_once(ssh, _artifact_files(root), f"{remote_root(facts)}/artifacts")
            data = send_once(ssh, _photo_files(manifest, opts), f"{remote_root(facts)}/data")
            remote = _start(ssh, facts, profile, venv, art, data, target, opts, sha)
        info = _device_info(ssh, facts, profile, venv, opts)
        try:
            report = _wait(ssh, remote, opts)
        except (ConnectionLost, KeyboardInterrupt) as exc:
            why = str(exc) if isinstance(exc, ConnectionLost) else "interrupted here (Ctrl-C)"
            return Measurement(
                device=info, n=0, skipped_bad=[], threads=opts.threads, models={}, policies={},
                energy={"note": "not back yet"}, schedule="on the board",
                incomplete=f"{why}; the run goes on on the board in {remote['run_dir']}", sections={"remote": remote},
            )  # fmt: skip
        body = {k: v for k, v in report.items() if k not in WRAPPER}
        body["remote"] = {**remote, "device": report.get("device"), "host": report.get("host")}
        info["os"] = (report.get("device") or {}).get("os")
        return Measurement.from_body(
            body, device=info, n=report["n"], skipped_bad=report.get("skipped_bad", []), threads=report.get("threads")
        )


def _venv(ssh: Ssh, facts: BoardFacts, opts: BenchOptions) -> str:
    if opts.remote_venv:
        return check_remote_venv(ssh, opts.remote_venv)
    from ...wheelhouse import project_wheel

    facts.platform()  # no python3 there, or one older than 3.10: said before any wheel is built
    cache = _cache()
    log_file = cache / "board-install.log"
    wheel = project_wheel(cache / "dist", opts.wheel)
    return ensure_install(ssh, facts, wheel=wheel, cache=cache / "wheels", log=opts.log, log_file=log_file)


def _cache() -> Path:
    from ..._io import cache_dir

    cache_dir().mkdir(parents=True, exist_ok=True)
    return cache_dir()


def _artifact_files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def _photo_files(manifest: Manifest, opts: BenchOptions) -> dict[str, Path]:
    """The photos the bench would use here (``--limit``/``--subset`` applied), keeping class folders."""
    from ...data.classes import own_classes
    from ...data.folders import scan_folder

    assert opts.data is not None  # run_bench fills in the bundled sample before a path measures
    folder = scan_folder(opts.data, classes=own_classes(manifest.classes), limit=opts.limit, subset=opts.subset)
    return {str(p.relative_to(folder.root)): p for p in folder.paths}


def _resumable(previous: dict | None, ssh: Ssh, sha: str) -> dict | None:
    """The run an interrupted report points at, when it is this board's and these artifacts' and the board
    still has it (finished or running); else ``None`` (a new run)."""
    remote = (previous or {}).get("remote") or {}
    if remote.get("target") != str(ssh.target) or remote.get("artifacts_sha256") != sha or not remote.get("run_dir"):
        return None
    status = _status(ssh, remote["run_dir"])
    return remote if status["exit"] is not None or status["alive"] else None


def remote_bench_args(opts: BenchOptions, target: str, art: str, data: str, threads: int | None) -> list[str]:
    """The board's own ``drnet-edge bench --device local`` arguments for ``opts``: every option the local
    path takes, from the options' own flags (:func:`~drnet_edge.bench.options.local_bench_args`), the
    artifacts' and photos' folders there in place of this host's; ``--limit`` and ``--subset`` were applied
    here (only the photos kept were sent), the board's options are this host's."""
    passed = local_bench_args(opts, device="local", data=data, runtime=target, threads=threads)
    return ["bench", "--artifacts", art, *passed, "--json", "report.json"]


def _start(ssh: Ssh, facts: BoardFacts, profile: DeviceProfile, venv: str, art: str, data: str, target: str,
           opts: BenchOptions, sha: str) -> dict:  # fmt: skip
    threads = opts.threads or (profile.threads if profile is not GENERIC_BOARD else None)
    run_dir = f"{remote_root(facts)}/runs/{time.strftime('%Y%m%d-%H%M%S')}-{sha[:8]}"
    pin = f"taskset {profile.big_cores} " if profile.big_cores and facts.taskset else ""
    q = shlex.quote
    inner = f"echo $$ > pid; {pin}{q(venv)}/bin/drnet-edge {shlex.join(remote_bench_args(opts, target, art, data, threads))} > bench.log 2>&1; echo $? > exit_code"  # noqa: E501
    ssh.run(
        f"mkdir -p {q(run_dir)} && cd {q(run_dir)} && S=$(command -v setsid); nohup $S sh -c {q(inner)} > /dev/null 2>&1 < /dev/null &"
    )
    opts.log(
        f"bench started on {ssh.target} in {run_dir}" + (f", pinned to CPUs {profile.big_cores} (mask)" if pin else "")
    )
    return {"target": str(ssh.target), "run_dir": run_dir, "artifacts_sha256": sha, "venv": venv, "artifacts_dir": art,
            "data_dir": data, "pinned": profile.big_cores if pin else None, "threads": threads}  # fmt: skip


def _status(ssh: Ssh, run_dir: str) -> dict:
    q = shlex.quote(run_dir)
    out = ssh.run(
        f"cd {q} 2>/dev/null || {{ echo gone; exit 0; }}; cat exit_code 2>/dev/null || echo -; "
        "if kill -0 \"$(cat pid 2>/dev/null)\" 2>/dev/null; then echo alive; else echo dead; fi; "
        "grep -v '^ *$' bench.log 2>/dev/null | tail -n 1",
        timeout=120,
    ).splitlines()  # fmt: skip
    if not out or out[0] == "gone":
        return {"exit": None, "alive": False, "last": ""}
    code = out[0].strip()
    return {"exit": int(code) if code.lstrip("-").isdigit() else None, "alive": len(out) > 1 and out[1] == "alive",
            "last": out[2] if len(out) > 2 else ""}  # fmt: skip


def _wait(ssh: Ssh, remote: dict, opts: BenchOptions) -> dict:
    """Poll until the run there ends; its report. Progress lines of the board's bench are passed on."""
    last = None
    while True:
        try:
            status = _status(ssh, remote["run_dir"])
        except SshError as exc:  # once the run is started, any failure to reach the board is a lost connection
            raise ConnectionLost(str(exc)) from None
        if status["exit"] == 0:
            text = ssh.read(f"{remote['run_dir']}/report.json")
            if text is None:
                raise SshError(f"{ssh.target}: the bench there ended without its report in {remote['run_dir']}")
            return json.loads(text)
        if status["exit"] is not None:
            raise SshError(f"the bench on {ssh.target} failed (exit {status['exit']}): {status['last'] or 'no message'}; "
                           f"its log: {remote['run_dir']}/bench.log there")  # fmt: skip
        if not status["alive"]:
            raise ConnectionLost(
                f"{ssh.target}: the run there stopped without a result (the board rebooted, or it was killed)"
            )
        if opts.progress and status["last"] and status["last"] != last:
            opts.log(f"{ssh.target.host}: {status['last']}")
            last = status["last"]
        time.sleep(POLL_S)


def _device_info(ssh: Ssh, facts: BoardFacts, profile: DeviceProfile, venv: str, opts: BenchOptions) -> dict:
    code = "import json, importlib.metadata as m\n" \
           "def v(p):\n    try:\n        return m.version(p)\n    except m.PackageNotFoundError:\n        return None\n" \
           f"print(json.dumps({{p: v(p) for p in {list(VERSIONS)!r}}}))"  # fmt: skip
    try:
        versions = json.loads(ssh.run(f"{shlex.quote(venv)}/bin/python -c {shlex.quote(code)}", timeout=120))
    except (SshError, ValueError):
        versions = {}
    return {
        "name": str(ssh.target), "kind": "ssh", "transport": "ssh", **facts.to_json(),
        "python": facts.python.split()[0] if facts.python != "none" else None, "runtime_versions": versions,
        "profile": {**profile.to_json(), "verified": bool(profile.extra.get("verified", False)),
                    "documented_at": profile.extra.get("documented_at")},
        "pinned": profile.big_cores if profile.big_cores and facts.taskset else None,
    }  # fmt: skip
