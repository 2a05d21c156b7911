#!/usr/bin/env bash
# make board-check (root, Debian): `bench --device ssh://...` end to end against an emulated ARM64 board.
#   The board: this machine's OpenSSH server on 127.0.0.1:$PORT with a throwaway host key and a throwaway
#   user key, whose sessions run inside the aarch64 Debian userland of `make arm64-check` (ForceCommand
#   chroot, qemu-user through binfmt_misc). Nothing listens beyond loopback; everything is removed after.
#   1. a wrong key is refused (the real "Permission denied (publickey)");
#   2. a bench over SSH makes its venv with the board's own Python, installs this tree's wheel and its
#      dependencies' aarch64 wheels there (pip --no-index), copies artifacts and photos, runs, and its JSON
#      comes back complete (aarch64, kernel, runtime versions, every policy);
#   3. a second bench loses its connection (sshd stopped mid-run): the report is saved incomplete, exit 3;
#      sshd back, `--resume` re-attaches to the run that went on on the board and completes it.
# Under emulation the timings mean nothing: this prints that, and benchmarks/results/board_check.md keeps
# only what passed, never a time.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-out/board-check}
ART=${2:-out/arm64/tflite-litert}
PORT=${BOARD_PORT:-2222}
PY=.venv/bin/python
DRNET=.venv/bin/drnet-edge
RESULT=benchmarks/results/board_check.md
[ "$(id -u)" = 0 ] || { echo "board-check: needs root (chroot into the userland, a local sshd)" >&2; exit 2; }
SSHD_BEFORE=false
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] && SSHD_BEFORE=true
[ "$SSHD_BEFORE" = true ] || {
  echo "machine-wide change: apt-get install openssh-server (its service is not started)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server openssh-client > /dev/null
  systemctl disable --now ssh 2> /dev/null || service ssh stop 2> /dev/null || true
}
# rm -rf only on a checked, non-empty variable (${VAR:?} stops the script when it is empty)
if [ -d "${OUT:?}" ]; then rm -rf "${OUT:?}"; fi
mkdir -p "$OUT"
T=$(cd "$OUT" && pwd)
# the userland (built by make arm64-check's code path) and the emulated CPU's files. Only the userland's path
# may reach stdout here: every word of the set-up (apt-get's and debootstrap's included) goes to stderr or to
# $T/userland.log. What the host had before (sshd, qemu, debootstrap, binfmt, userland) goes into the result.
ROOT=$($PY - "$T" "$SSHD_BEFORE" <<'EOF'
import json, shutil, sys, time
from pathlib import Path
from drnet_edge.verify.check import CPU_MODELS
from drnet_edge.verify.userland import TOOLS, default_root, ensure_userland, find_userland, read_binfmt, show_cpu
root, out = default_root(), Path(sys.argv[1])
before = {**{c: shutil.which(c) is not None for c in TOOLS}, "binfmt": read_binfmt().ok, "userland": find_userland(root) is not None,
          "sshd": sys.argv[2] == "true", "date": time.strftime("%Y-%m-%d %H:%M %Z")}
(out / "host-before.json").write_text(json.dumps(before) + "\n")
land = ensure_userland(root, setup=True, log=lambda m: print(m, file=sys.stderr), log_file=out / "userland.log")
show_cpu(land, CPU_MODELS["pixel7"].cpuinfo())
print(land.root)
EOF
)
[ -n "$ROOT" ] && [ "$ROOT" = "${ROOT%%$'\n'*}" ] && [ -d "$ROOT" ] && [ -f "$ROOT/.drnet-edge-userland.json" ] || {
  echo "board-check: the userland set-up did not give one folder holding a userland, but: '$ROOT'" >&2; exit 1; }
# a fresh board: the first bench makes its venv and installs the deploy side
if [ -d "${ROOT:?}/root/.cache/drnet-edge/bench" ]; then rm -rf "${ROOT:?}/root/.cache/drnet-edge/bench"; fi
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T/id"
ssh-keygen -q -t ed25519 -N '' -f "$T/wrong"
cp "$T/id.pub" "$T/authorized_keys"
cat > "$T/enter-board" <<EOF
#!/bin/sh
# every session of this sshd runs inside the aarch64 userland, as a Pixel 7-like CPU (qemu reads QEMU_CPU)
exec chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 QEMU_CPU=cortex-a76 \\
  /bin/sh -c "cd /root && \${SSH_ORIGINAL_COMMAND:-exec /bin/sh -i}"
EOF
chmod +x "$T/enter-board"
cat > "$T/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
ForceCommand $T/enter-board
EOF
mkdir -p /run/sshd
start_sshd() { /usr/sbin/sshd -f "$T/sshd_config" -E "$T/sshd.log"; sleep 0.5; }
stop_sshd() { [ -f "$T/sshd.pid" ] && kill "$(cat "$T/sshd.pid")" 2> /dev/null || true; rm -f "$T/sshd.pid"; sleep 0.5; }
trap stop_sshd EXIT
start_sshd
SSHOPTS=(--ssh-option "UserKnownHostsFile=$T/known_hosts" --ssh-option StrictHostKeyChecking=accept-new)
BOARD=ssh://root@127.0.0.1:$PORT
BENCH=("$DRNET" bench --artifacts "$ART" --device "$BOARD" "${SSHOPTS[@]}" --limit 4 --runs 3 --warmup 1)
echo "== 1. a wrong key"
if "${BENCH[@]}" --ssh-option "IdentityFile=$T/wrong" --ssh-option IdentitiesOnly=yes --quiet 2> "$T/wrong.err"; then
  echo "board-check: a wrong key was accepted" >&2; exit 1
fi
cat "$T/wrong.err"
grep -q "authentication refused" "$T/wrong.err"
# the real client's own words for the scripted stand-in's sources (tests/data/ssh/sources/)
ssh -o BatchMode=yes -o IdentitiesOnly=yes -o "IdentityFile=$T/wrong" -o "UserKnownHostsFile=$T/known_hosts" \
  -p "$PORT" root@127.0.0.1 true 2> "$T/raw-wrong-key.err" || true
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1-2 "$T/wrong.pub")" > "$T/other_known_hosts"  # a host key that is not the board's
ssh -o BatchMode=yes -o "IdentityFile=$T/id" -o "UserKnownHostsFile=$T/other_known_hosts" \
  -p "$PORT" root@127.0.0.1 true 2> "$T/raw-changed-host-key.err" || true
echo "== 2. bench over SSH (first run installs the deploy side on the board)"
"${BENCH[@]}" --ssh-option "IdentityFile=$T/id" --json "$T/bench.json" --report "$T/bench.md" > "$T/bench.out" 2> "$T/bench.err" || {
  cat "$T/bench.err" >&2; exit 1; }
echo "== 3. the connection lost mid-run, then --resume"
"${BENCH[@]}" --ssh-option "IdentityFile=$T/id" --json "$T/cut.json" --quiet > "$T/cut.out" 2> "$T/cut.err" &
BENCH_PID=$!
for _ in $(seq 600); do grep -q "bench started" "$T/cut.err" && break; sleep 0.5; done
grep -q "bench started" "$T/cut.err" || { cat "$T/cut.err" >&2; exit 1; }
stop_sshd
set +e; wait "$BENCH_PID"; CODE=$?; set -e
cat "$T/cut.err"
[ "$CODE" = 3 ] || { echo "board-check: expected exit 3 (incomplete) after the lost connection, got $CODE" >&2; exit 1; }
cp "$T/cut.json" "$T/cut.incomplete.json"
start_sshd
"${BENCH[@]}" --ssh-option "IdentityFile=$T/id" --json "$T/cut.json" --resume --quiet > "$T/resume.out" 2> "$T/resume.err" || {
  cat "$T/resume.err" >&2; exit 1; }
$PY benchmarks/release/board_check_compare.py "$T" "$RESULT" "$(cat "$T/wrong.err")"
echo "Under qemu-user emulation a time means nothing: the benches' tables (with times) are in $T/*.out, not shown"
echo "here and not kept in $RESULT. board-check proves the path from ssh to the report."
