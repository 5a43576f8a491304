#!/usr/bin/env bash
# Agent footprint: memory (RSS) and CPU of the Native AOT medic-agent, read from /proc, in three
# phases, each SECONDS long (default 60) after the agent has settled:
#   1. idle: connected, default 15 s heartbeat, no monitors, no tasks;
#   2. fan-out: diagnostics (system, top-mem, disk, ports) and `medic exec true` sent to it back to back;
#   3. 20 monitors: the agent restarted with 20 local monitors at their default intervals, idle.
# In the idle window, Debian's prometheus-node-exporter runs beside it and is measured the same way,
# twice: never scraped, and scraped every 15 s (as a Prometheus at its default interval would).
# Publishes the agent with `dotnet publish src/Medic.Agent -c Release -r linux-x64` (Native AOT),
# starts a control plane on loopback, enrolls the agent. As root it installs clang
# and prometheus-node-exporter with apt-get when they are missing.
# Usage: bench/agent-footprint.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
settle=20
tmp=$(mktemp -d /tmp/medic-footprint.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
say() { echo "footprint: $*" >&2; }

need=()
command -v clang >/dev/null || command -v gcc >/dev/null || need+=(clang zlib1g-dev)
[ -x /usr/bin/prometheus-node-exporter ] || need+=(prometheus-node-exporter)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${need[*]} (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "error: missing ${need[*]}" >&2; echo "hint: sudo apt-get install -y ${need[*]}" >&2; exit 2
  fi
fi
linker=(); command -v clang >/dev/null || linker=(-p:CppCompilerAndLinker=gcc)

say "publishing medic-agent (Native AOT, linux-x64)..."
dotnet publish src/Medic.Agent -c Release -r linux-x64 "${linker[@]}" -o "$tmp/agent" >/dev/null
say "building the control plane (the Quick build ./medic runs; its speed does not matter here)..."
dotnet build src/Medic.Cli -c Quick >/dev/null
agent_bin="$tmp/agent/medic-agent"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
url="http://127.0.0.1:$port"
# The fan-out phase sends far more than the default 600 API requests a minute.
HOME="$tmp/home" MEDIC_ADMIN_PASSWORD=footprint-bench-1 MEDIC_RATE_LIMITS__API_PER_MINUTE=1000000 dotnet src/Medic.Cli/bin/Quick/net10.0/medic.dll server --data "$tmp/data" --listen "$url" >"$tmp/server.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 150); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.2; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
api=$(curl -sf "$url/api/v1/auth/token" -H 'content-type: application/json' -d '{"username":"admin","password":"footprint-bench-1"}' | json '["secret"]')
enroll=$(curl -sf "$url/api/v1/enrollment-tokens" -H "authorization: Bearer $api" -H 'content-type: application/json' -d '{"uses": 2}' | json '["secret"]')
"$agent_bin" enroll --server "$url" --token "$enroll" --name footprint --config "$tmp/agent.json" >/dev/null
node=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["node_id"])' "$tmp/agent.json")
# The fan-out phase runs commands, so this agent grants exec (the package default does not).
printf 'diag: true\nservice: true\nexec: true\nreboot: false\n' >"$tmp/policy.yaml"

start_agent() {
  "$agent_bin" run --config "$tmp/agent.json" --policy "$tmp/policy.yaml" --state-dir "$tmp/state" "$@" >>"$tmp/agent.log" 2>&1 &
  agent=$!
  pids+=($agent)
  for _ in $(seq 100); do grep -q 'connected to' "$tmp/agent.log" && break; sleep 0.2; done
}

# sample SECONDS LABEL=PID...: RSS every second and utime+stime at both ends, per process.
sample() {
  python3 - "$@" <<'PY'
import os, sys, time
seconds = float(sys.argv[1]); procs = [a.split("=", 1) for a in sys.argv[2:]]
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
start = {p: cpu(p) for _, p in procs}; rs = {p: [] for _, p in procs}
t0 = time.monotonic()
while time.monotonic() - t0 < seconds:
    for _, p in procs: rs[p].append(rss(p))
    time.sleep(1)
elapsed = time.monotonic() - t0
for label, p in procs:
    used = cpu(p) - start[p]
    print(f"  {label:<36} RSS avg {sum(rs[p]) / len(rs[p]):5.1f} MB, max {max(rs[p]):5.1f} MB; CPU {used:6.2f} s over {elapsed:.0f} s = {used / elapsed * 100:.3f} % of one core")
PY
}

# Node exporter, the lightest agent-like peer: one never scraped, one scraped every 15 s.
ne_port1=$(free_port); ne_port2=$(free_port)
/usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$ne_port1" >"$tmp/ne1.log" 2>&1 &
ne1=$!; pids+=($ne1)
/usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$ne_port2" >"$tmp/ne2.log" 2>&1 &
ne2=$!; pids+=($ne2)
(while sleep 15; do curl -sf "http://127.0.0.1:$ne_port2/metrics" >/dev/null || true; done) &
pids+=($!)

start_agent
say "agent connected; settling $settle s, then sampling for $seconds s per phase"
sleep "$settle"
size=$(stat -c %s "$agent_bin")
version=$(/usr/bin/prometheus-node-exporter --version 2>&1 | head -1)
printf 'medic-agent: %d bytes (Native AOT, linux-x64); %s\n' "$size" "$version"
echo "1. idle (default 15 s heartbeat), side by side:"
sample "$seconds" "medic-agent=$agent" "node_exporter (not scraped)=$ne1" "node_exporter (scraped every 15 s)=$ne2"
kill "$ne1" "$ne2" 2>/dev/null || true

# 2. Fan-out: tasks back to back through the API, each waited for, for the whole window.
echo "2. fan-out (diag system, top-mem, disk, ports and exec 'true', back to back):"
python3 - "$url" "$api" "$node" "$seconds" >"$tmp/fanout.txt" <<'PY' &
import json, sys, time, urllib.request
url, token, node, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"authorization": "Bearer " + token, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r: return r.status, json.loads(r.read() or b"null")
verbs = ["system", "top-mem", "disk", "ports"]; done = {"diag": 0, "exec": 0}; bad = 0; t0 = time.monotonic(); i = 0
while time.monotonic() - t0 < seconds:
    verb = verbs[i % len(verbs)]; i += 1
    status, body = call("POST", f"/api/v1/servers/{node}/diag", {"verb": verb, "args": {}})
    done["diag"] += 1; bad += body.get("status") != "completed"
    status, body = call("POST", "/api/v1/exec", {"command": "true", "selector": {"names": ["footprint"]}, "strategy": {"kind": "parallel"}})
    while body["status"] == "running":
        time.sleep(0.05); status, body = call("GET", f"/api/v1/executions/{body['id']}")
    done["exec"] += 1; bad += any(r["status"] != "completed" for r in body["results"])
elapsed = time.monotonic() - t0
print(f"  tasks: {done['diag']} diag + {done['exec']} exec in {elapsed:.0f} s = {(done['diag'] + done['exec']) / elapsed:.1f}/s; not completed: {bad}")
PY
load=$!
sample "$seconds" "medic-agent=$agent"
wait "$load"
cat "$tmp/fanout.txt"

# 3. Twenty local monitors at their default intervals (1 s for process, 15 s for the rest).
kill "$agent"; wait "$agent" 2>/dev/null || true
mkdir -p /tmp/medic-footprint-logs; touch /tmp/medic-footprint-logs/app.log /tmp/medic-footprint-logs/other.log
trap 'cleanup; rm -rf /tmp/medic-footprint-logs' EXIT
cat >"$tmp/monitors.yaml" <<YAML
monitors:
  - { name: root-disk, kind: disk, mount: /, max_percent: 99 }
  - { name: tmp-disk, kind: disk, mount: /tmp, max_percent: 99 }
  - { name: memory, kind: memory, max_percent: 99 }
  - { name: cpu, kind: cpu, max_percent: 100 }
  - { name: load, kind: load, max_load: 1000 }
  - { name: control-plane-tcp, kind: tcp, host: 127.0.0.1, port: $port }
  - { name: control-plane-http, kind: http, url: "$url/healthz" }
  - { name: control-plane-ready, kind: http, url: "$url/readyz", expect_status: 200 }
  - { name: server-process, kind: process, match: "medic.dll server" }
  - { name: self, kind: process, match: "medic-agent run" }
  - { name: this-bench, kind: process, match: "agent-footprint" }
  - { name: app-log, kind: log, path: /tmp/medic-footprint-logs/app.log, pattern: "ERROR|FATAL" }
  - { name: other-log, kind: log, path: /tmp/medic-footprint-logs/other.log, pattern: "panic" }
  - { name: log-age, kind: file_age, path: /tmp/medic-footprint-logs, max_age: 1d }
  - { name: true-check, kind: command, command: [/bin/true] }
  - { name: uptime-check, kind: command, command: [/bin/cat, /proc/uptime] }
  - { name: dns-tcp, kind: tcp, host: 127.0.0.1, port: $port, interval: 30s }
  - { name: memory-warn, kind: memory, max_percent: 98, severity: warning }
  - { name: cpu-warn, kind: cpu, max_percent: 99, severity: warning }
  - { name: load-warn, kind: load, max_load: 999, severity: warning }
YAML
: >"$tmp/agent.log"
start_agent --monitors "$tmp/monitors.yaml"
grep -o 'monitors: [0-9]*' "$tmp/agent.log" | head -1 | sed 's/^/  agent loaded /'
sleep "$settle"
echo "3. idle with 20 monitors:"
sample "$seconds" "medic-agent=$agent"
