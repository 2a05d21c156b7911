"""The checks of ``make board-check`` on the reports it made (see board_check.sh), and its summary.

Usage: ``board_check_compare.py OUT RESULT_MD WRONG_KEY_STDERR``. Exit 1 when a check fails. The summary
(benchmarks/results/board_check.md) says what passed and never a time: under emulation a time means nothing.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def check(out: Path, wrong_key: str) -> list[tuple[str, bool, str]]:
    """(what, passed, detail) per check."""
    full = json.loads((out / "bench.json").read_text())
    cut = json.loads((out / "cut.incomplete.json").read_text())
    resumed = json.loads((out / "cut.json").read_text())
    dev = full["device"]
    fixed = [p for p in full["policies"] if p.startswith("fixed-")]
    rows = [
        ("a wrong key is refused in one line", "authentication refused" in wrong_key and "\n" not in wrong_key.strip(),
         wrong_key.strip()),
        ("the report came back complete", not full.get("incomplete") and full["n"] == 4 and len(fixed) == len(full["resolutions"]),
         f"n={full['n']}, policies: {', '.join(full['policies'])}"),
        ("it ran on the emulated aarch64 board", dev["machine"] == "aarch64" and dev["kind"] == "ssh",
         f"machine={dev['machine']}, CPU: {dev['cpu']}, kernel {dev['kernel']}"),
        ("the deploy side was installed there from this tree's wheel",
         bool(dev["runtime_versions"].get("drnet-edge")) and bool(dev["runtime_versions"].get("ai-edge-litert")),
         ", ".join(f"{k} {v}" for k, v in dev["runtime_versions"].items() if v)),
        ("a lost connection leaves an incomplete report", bool(cut.get("incomplete")) and bool(cut["remote"]["run_dir"]),
         cut.get("incomplete", "")),
        ("--resume re-attaches to the same run and completes it",
         not resumed.get("incomplete") and resumed["remote"]["run_dir"] == cut["remote"]["run_dir"] and resumed["n"] == 4,
         f"run {resumed['remote']['run_dir']}"),
    ]  # fmt: skip
    return rows


HOST_PARTS = {"sshd": "an OpenSSH server", "qemu-aarch64-static": "qemu-user-static", "debootstrap": "debootstrap",
              "binfmt": "qemu's aarch64 binfmt handler", "userland": "the aarch64 userland"}  # fmt: skip


def host_before(out: Path) -> str:
    """What the host had before the set-up (board_check.sh's host-before.json), as one sentence."""
    path = out / "host-before.json"
    if not path.is_file():
        return ""
    had = json.loads(path.read_text())
    missing = [what for key, what in HOST_PARTS.items() if had.get(key) is False]  # a part not recorded: not said
    when = f" (looked at {had['date']}, before the set-up)" if had.get("date") else " (looked at before the set-up)"
    parts = list(HOST_PARTS.values())
    if not missing:
        return f"It started on a machine that already had {', '.join(parts[:-1])} and {parts[-1]}{when}."
    listed = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} or {missing[-1]}"
    return (
        f"It started on a machine without {listed}{when}: the run's own set-up installed, registered and built "
        "them (apt-get's and debootstrap's output on stderr and in the build log, never in the captured userland path)."
    )


def main(out: Path, result: Path, wrong_key: str) -> int:
    rows = check(out, wrong_key)
    before = host_before(out)
    for what, ok, detail in rows:
        print(f"{'PASS' if ok else 'FAIL'}  {what}: {detail}")
    lines = [
        "# make board-check: bench over SSH against an emulated ARM64 board",
        "",
        f"Run {time.strftime('%Y-%m-%d')} by `make board-check` (root, Debian): this machine's OpenSSH server on "
        "127.0.0.1 with throwaway keys, every session inside the aarch64 Debian userland under qemu-user "
        "(`QEMU_CPU=cortex-a76`). What it proves is the path from `ssh` to the report; under emulation a time "
        "means nothing, so none is kept here.",
        *([before] if before else []),
        "",
        "| check | result | detail |",
        "|---|---|---|",
        *[f"| {what} | {'pass' if ok else 'FAIL'} | {detail.replace('|', '/')} |" for what, ok, detail in rows],
        "",
    ]
    result.write_text("\n".join(lines))
    return 0 if all(ok for _, ok, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
