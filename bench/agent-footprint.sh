#!/usr/bin/env bash
# Agent footprint: memory (RSS) and CPU of an idle, connected medic-agent at the default 15 s
# heartbeat, measured from /proc. Publishes the agent as a trimmed self-contained single file
# (Native AOT's runtime pack cannot be restored here), starts a control plane on loopback,
# enrolls the agent, lets it settle, then samples it for SECONDS (default 60).
# Usage: bench/agent-footprint.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
tmp=$(mktemp -d /tmp/medic-footprint.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

echo "publishing medic-agent (trimmed, self-contained, single file)..." >&2
dotnet publish src/Medic.Agent -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -p:PublishTrimmed=true -o "$tmp/agent" >/dev/null
dotnet build src/Medic.Cli -c Release >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
HOME="$tmp/home" MEDIC_ADMIN_PASSWORD=footprint-bench-1 dotnet src/Medic.Cli/bin/Release/net10.0/medic.dll server --data "$tmp/data" --listen "$url" >"$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.2; done

api=$(curl -sf "$url/api/v1/auth/token" -H 'content-type: application/json' -d '{"username":"admin","password":"footprint-bench-1"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
enroll=$(curl -sf "$url/api/v1/enrollment-tokens" -H "authorization: Bearer $api" -H 'content-type: application/json' -d '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
"$tmp/agent/medic-agent" enroll --server "$url" --token "$enroll" --name footprint --config "$tmp/agent.json" >/dev/null
"$tmp/agent/medic-agent" run --config "$tmp/agent.json" --policy "$tmp/none.yaml" >"$tmp/agent.log" 2>&1 &
agent=$!
pids+=($agent)
sleep 20   # connect, hello, first heartbeat, JIT settles

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$agent/status"; }
start_cpu=$(cpu); start=$(date +%s.%N); max_rss=0; sum_rss=0; n=0
while [ "$(echo "$(date +%s.%N) - $start < $seconds" | bc)" = 1 ]; do
  r=$(rss); sum_rss=$((sum_rss + r)); n=$((n + 1)); [ "$r" -gt "$max_rss" ] && max_rss=$r
  sleep 1
done
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
used=$(echo "($(cpu) - $start_cpu) / $ticks" | bc -l)
size=$(stat -c %s "$tmp/agent/medic-agent")
printf 'medic-agent binary: %.1f MB (trimmed self-contained single file)\n' "$(echo "$size / 1000000" | bc -l)"
printf 'idle over %.0f s: RSS avg %.1f MB, max %.1f MB; CPU %.2f s = %.3f %% of one core\n' \
  "$elapsed" "$(echo "$sum_rss / $n / 1024" | bc -l)" "$(echo "$max_rss / 1024" | bc -l)" "$used" "$(echo "$used / $elapsed * 100" | bc -l)"
