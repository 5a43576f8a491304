#!/usr/bin/env bash
# CPU of the agent's monitors, one monitors file at a time: 3 `process` monitors found by command
# line (`match:`, 1 s default interval), then 2 `command` monitors (15 s). For each, the agent runs
# alone with that file for 15 s to settle, then utime + stime are read from /proc/PID/stat over
# SECONDS (default 45). Uses an agent binary already published (bench/agent-footprint.sh or
# `dotnet publish src/Medic.Agent -c Release -r linux-x64 -o out/`) and the Quick control plane.
# Usage: bench/agent-monitor-cost.sh AGENT_BINARY [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
agent_bin=$(realpath "${1:?usage: bench/agent-monitor-cost.sh AGENT_BINARY [SECONDS]}")
seconds=${2:-45}
tmp=$(mktemp -d /tmp/medic-monitor-cost.XXXXXX); pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
dotnet build src/Medic.Cli -c Quick >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'); url="http://127.0.0.1:$port"
HOME="$tmp/home" MEDIC_ADMIN_PASSWORD=footprint-bench-1 dotnet src/Medic.Cli/bin/Quick/net10.0/medic.dll server --data "$tmp/data" --listen "$url" >"$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.3; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
api=$(curl -sf "$url/api/v1/auth/token" -H 'content-type: application/json' -d '{"username":"admin","password":"footprint-bench-1"}' | json '["secret"]')
enroll=$(curl -sf "$url/api/v1/enrollment-tokens" -H "authorization: Bearer $api" -H 'content-type: application/json' -d '{}' | json '["secret"]')
"$agent_bin" enroll --server "$url" --token "$enroll" --name monitor-cost --config "$tmp/agent.json" >/dev/null
printf 'monitors:\n  - { name: a, kind: process, match: "medic.dll server" }\n  - { name: b, kind: process, match: "medic-agent run" }\n  - { name: c, kind: process, match: "agent-monitor-cost" }\n' >"$tmp/process-match.yaml"
printf 'monitors:\n  - { name: t, kind: command, command: [/bin/true] }\n  - { name: u, kind: command, command: [/bin/cat, /proc/uptime] }\n' >"$tmp/command.yaml"
ticks=$(getconf CLK_TCK)
for f in process-match command; do
  "$agent_bin" run --config "$tmp/agent.json" --policy "$tmp/none.yaml" --state-dir "$tmp/state-$f" --monitors "$tmp/$f.yaml" >"$tmp/agent-$f.log" 2>&1 &
  a=$!
  sleep 15
  c0=$(awk '{print $14 + $15}' "/proc/$a/stat"); sleep "$seconds"; c1=$(awk '{print $14 + $15}' "/proc/$a/stat")
  python3 -c "import sys; t=int(sys.argv[2]); print(f'{sys.argv[1]}: {t} ticks in {sys.argv[3]} s = {t / int(sys.argv[4]) / int(sys.argv[3]) * 100:.2f} % of one core; {sys.argv[5]} processes on the machine')" \
    "$f" "$((c1 - c0))" "$seconds" "$ticks" "$(ls /proc | grep -c '^[0-9]')"
  kill "$a"; wait "$a" 2>/dev/null || true
done
