"""A small client over the real ``ssh`` executable for ARM64 Linux boards: ``ssh://[user@]host[:port]``
parsed, commands run, folders sent as a tar stream (nothing half-written on the board: unpacked beside
the destination, then renamed), files read back; ssh's failure modes turned into one-line errors.

Key authentication only (``BatchMode=yes``: no password prompt can hang a run); users add ssh options with
``--ssh-option KEY=VALUE`` (e.g. ``IdentityFile=~/.ssh/board``) or their ``~/.ssh/config``.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ...errors import ConfigError, DrnetEdgeError

INSTALL_HINT = "install the OpenSSH client (apt-get install openssh-client), or point $SSH at the ssh executable"
SCHEME = "ssh://"
_URL = re.compile(r"^ssh://(?:(?P<user>[^@/:\s]+)@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^@/:\s\[\]]+)(?::(?P<port>\d+))?/?$")


class SshError(DrnetEdgeError):
    """ssh is missing, or the board cannot be reached or used; the message says what to do."""


class ConnectionLost(SshError):
    """The connection dropped during a run (what runs detached on the board goes on)."""


@dataclass(frozen=True)
class SshTarget:
    """Where ``--device ssh://[user@]host[:port]`` points."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> SshTarget:
        m = _URL.match(url)
        if m is None:
            raise ConfigError(f"--device {url}: expected ssh://[user@]host[:port], e.g. ssh://pi@raspberrypi.local")
        port = int(m["port"]) if m["port"] else None
        if port is not None and not 0 < port < 65536:
            raise ConfigError(f"--device {url}: port {port} is out of range")
        return cls(m["host"].strip("[]"), m["user"], port)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{SCHEME}{self.user + '@' if self.user else ''}{host}{f':{self.port}' if self.port else ''}"


def is_ssh_device(device: str) -> bool:
    return device.startswith(SCHEME)


def check_ssh_option(option: str) -> str:
    """``KEY=VALUE`` as ``ssh -o`` takes it; a one-line error naming ``--ssh-option`` otherwise."""
    key, eq, value = option.partition("=")
    if not eq or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key) or not value:
        raise ConfigError(
            f"--ssh-option {option!r}: expected KEY=VALUE as ssh -o takes it, e.g. IdentityFile=~/.ssh/board"
        )
    return option


def explain(stderr: str, target: SshTarget) -> SshError:
    """ssh's own failure (exit status 255) as one line saying what to do."""
    s = stderr.strip()
    low = s.lower()
    where = f"{target.host}:{target.port or 22}"
    lines = [line.strip() for line in s.splitlines() if line.strip()]
    # ssh's notices ("Warning: Permanently added ...") come before the failure: quote the failure
    first = next((line for line in lines if not line.startswith("Warning:")), lines[0] if lines else "no message")
    if "could not resolve hostname" in low or "name or service not known" in low:
        return SshError(f"{target}: cannot resolve host {target.host!r}: check the name, or use the board's IP address")
    if any(w in low for w in ("connection refused", "timed out", "no route to host", "network is unreachable")):
        return SshError(
            f"{target}: host unreachable ({first}): is the board on, on this network, and sshd running on {where}?"
        )
    if "permission denied" in low or "too many authentication failures" in low:
        return SshError(
            f"{target}: authentication refused ({first}): the bench logs in with a key, never a password: "
            f"ssh-copy-id {target.destination}, or --ssh-option IdentityFile=KEY"
        )
    if "host key verification failed" in low or "remote host identification has changed" in low:
        return SshError(
            f"{target}: the board's host key is unknown or changed: ssh {target.destination} once to check and accept "
            "it, or --ssh-option StrictHostKeyChecking=accept-new for a new board"
        )
    if any(
        w in low
        for w in ("closed by remote host", "connection reset", "broken pipe", "connection closed", "timeout, server")
    ):
        return ConnectionLost(f"{target}: the connection dropped ({first})")
    return SshError(f"{target}: ssh failed: {first}")


def disk_full(stderr: str) -> bool:
    return "no space left on device" in stderr.lower()


class Ssh:
    """``ssh`` to one board."""

    def __init__(self, exe: str, target: SshTarget, options: Iterable[str] = (), timeout: float = 3600.0) -> None:
        self.exe, self.target, self.options, self.timeout = exe, target, tuple(options), timeout

    @classmethod
    def find(cls, target: SshTarget, options: Iterable[str] = ()) -> Ssh:
        """The ssh on ``$SSH`` or ``PATH``; raises :class:`SshError` with the install hint."""
        exe = os.environ.get("SSH") or shutil.which("ssh")
        if not exe or not (Path(exe).is_file() or shutil.which(exe)):
            raise SshError(f"ssh not found on PATH: {INSTALL_HINT}")
        return cls(exe, target, options)

    def command(self, remote: str) -> list[str]:
        """The ssh command line that runs ``remote`` (a shell command) on the board."""
        opts = ["BatchMode=yes", "ConnectTimeout=15", "ServerAliveInterval=15", "ServerAliveCountMax=4", *self.options]
        port = ["-p", str(self.target.port)] if self.target.port else []
        return [self.exe, *(a for o in opts for a in ("-o", o)), *port, self.target.destination, remote]

    def run(self, remote: str, *, data: bytes | None = None, timeout: float | None = None, check: bool = True) -> str:
        """Run ``remote`` there; its stdout. ssh's own failures raise :func:`explain`'s error; a failing
        remote command raises :class:`SshError` with its last line of stderr (``check``)."""
        try:
            proc = subprocess.run(
                self.command(remote), input=data, capture_output=True, timeout=timeout or self.timeout
            )
        except subprocess.TimeoutExpired:
            raise ConnectionLost(f"{self.target}: no answer within {timeout or self.timeout:.0f} s") from None
        except OSError as exc:
            raise SshError(f"cannot run {self.exe}: {exc.strerror}; {INSTALL_HINT}") from None
        out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        if proc.returncode == 255:
            raise explain(err, self.target)
        if check and proc.returncode != 0:
            if disk_full(err):
                raise SshError(f"{self.target}: the board's disk is full ({_last(err)}): free some space there")
            raise SshError(f"{self.target}: `{_short(remote)}` failed (exit {proc.returncode}): {_last(err)}")
        return out

    def put_tree(self, files: dict[str, Path], remote_dir: str, *, merge: bool = False) -> None:
        """``files`` (path inside ``remote_dir`` -> local file) sent as one tar stream and unpacked beside
        ``remote_dir``, then renamed onto it (``merge``: moved into it, file by file), so an interrupted
        copy leaves no half-written file under its name."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name, path in sorted(files.items()):
                tar.add(path, arcname=name, recursive=False)
        d = shlex.quote(remote_dir)
        part = shlex.quote(remote_dir.rstrip("/") + ".part")
        unpack = f"rm -rf {part} && mkdir -p {part} && tar -x -C {part} -f -"
        place = f"mkdir -p {d} && mv -f {part}/* {d}/ && rmdir {part}" if merge else f"rm -rf {d} && mv {part} {d}"
        self.run(f"{unpack} && {place}", data=buf.getvalue())

    def test(self, expression: str) -> bool:
        """``test EXPRESSION`` there (e.g. ``-d DIR``; quote paths with :func:`shlex.quote`)."""
        return self.run(f"test {expression} && echo yes", check=False).strip() == "yes"

    def read(self, remote_path: str) -> str | None:
        """The text of a file there, or ``None`` when it does not exist."""
        out = self.run(f"cat {shlex.quote(remote_path)} 2>/dev/null || printf '\\0MISSING'", check=False)
        return None if out == "\0MISSING" else out


def _last(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _short(command: str) -> str:
    return command if len(command) <= 60 else command[:57] + "..."
