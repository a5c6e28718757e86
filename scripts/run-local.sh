#!/usr/bin/env bash
# `make run`: the Talkdesk emulator on 127.0.0.1:8089 and `dagster dev` on 127.0.0.1:3000.
# Ctrl-C stops both. With TALKDESK_BASE_URL set (a real account), no emulator is started.
set -euo pipefail
cd "$(dirname "$0")/.."
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"

emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

if [ -z "${TALKDESK_BASE_URL:-}" ]; then
  talkdesk-emulator --host 127.0.0.1 --port 8089 &
  emulator_pid=$!
  for _ in $(seq 1 50); do
    if python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8089/_emulator/faults', timeout=1)" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "Talkdesk emulator on http://127.0.0.1:8089"
fi

wfm-db upgrade
dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000
