#!/usr/bin/env bash
# Cold first start: seconds from running the README's first command in a fresh `git clone` (the
# committed state of the current branch) to the first 200 from /healthz, and to the printed
# sign-in line. Each run gets its own clone, data directory, CLI config, free loopback port and
# TMPDIR, so no MSBuild node or compiler server from an earlier build (ours or anyone's) is
# reused, as on a fresh machine. The NuGet package cache is left as it is; the script says how many
# of the packages pinned in Directory.Packages.props it already holds (all: a warm cache), and
# prints `uptime` before and after, since other builds on the machine change the figures.
# Usage: bench/cold-start.sh [RUNS]          (default 3; prints each run and the median)
#        COLD_START_CMD='dotnet run --project src/Medic.Cli -- up' bench/cold-start.sh
#        COLD_START_TIMEOUT=600 bench/cold-start.sh   (seconds a run may take; default 180)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
timeout=${COLD_START_TIMEOUT:-180}
branch=$(git -C "$repo" rev-parse --abbrev-ref HEAD)
commit=$(git -C "$repo" rev-parse --short HEAD)
# The first line of the README's first ```sh block, without its comment.
cmd=${COLD_START_CMD:-$(sed -n '/^```sh/{n;p;q}' "$repo/README.md" | sed 's/[[:space:]]*#.*$//')}
[ -n "$cmd" ] || { echo "error: no command found in README.md" >&2; exit 1; }

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}

now() { date +%s.%N; }

# Processes left behind by one run (MSBuild nodes, the compiler server): ours are the ones whose
# environment carries that run's TMPDIR.
kill_leftovers() {
  local tmp=$1 pid
  for pid in $(grep -lsF "TMPDIR=$tmp" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
    kill "$pid" 2>/dev/null || true
  done
}

one_run() {
  local work port out pid start healthz="" signin="" deadline t before
  before=$(cut -d' ' -f1 /proc/loadavg)
  work=$(mktemp -d /tmp/medic-cold.XXXXXX)
  port=$(free_port)
  git clone -q --branch "$branch" "$repo" "$work/medic"
  mkdir -p "$work/tmp"
  out="$work/out.log"
  start=$(now)
  (cd "$work/medic" && TMPDIR="$work/tmp" MEDIC_CLI_CONFIG="$work/cli.json" \
     exec setsid bash -c "$cmd --data '$work/data' --listen http://127.0.0.1:$port" >"$out" 2>&1) &
  pid=$!
  deadline=$(echo "$start + $timeout" | bc)
  while :; do
    t=$(now)
    if [ -z "$healthz" ] && curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz"; then healthz=$(echo "$t - $start" | bc); fi
    if [ -z "$signin" ] && grep -q "sign in as" "$out"; then signin=$(echo "$t - $start" | bc); fi
    [ -n "$healthz" ] && [ -n "$signin" ] && break
    if ! kill -0 "$pid" 2>/dev/null || [ "$(echo "$t > $deadline" | bc)" = 1 ]; then
      echo "error: no healthy start within $timeout s; output:" >&2; cat "$out" >&2; break
    fi
    sleep 0.05
  done
  kill -TERM -- "-$pid" 2>/dev/null || true   # setsid made it a process group leader
  wait "$pid" 2>/dev/null || true
  kill_leftovers "$work/tmp"
  printf '%.1f %.1f %s %s\n' "${healthz:-999}" "${signin:-999}" "$before" "$(cut -d' ' -f1 /proc/loadavg)"
  rm -rf "$work"
}

# The cache restore reads from: NUGET_PACKAGES, or NuGet's default.
nuget_cache() {
  local cache=${NUGET_PACKAGES:-$HOME/.nuget/packages} id version held=0 total=0
  while read -r id version; do
    total=$((total + 1))
    [ -d "$cache/${id,,}/$version" ] && held=$((held + 1))
  done < <(sed -n 's/.*<PackageVersion Include="\([^"]*\)" Version="\([^"]*\)".*/\1 \2/p' "$repo/Directory.Packages.props")
  echo "NuGet cache $cache: $held of the $total packages pinned in Directory.Packages.props present$([ "$held" = "$total" ] && echo ' (warm)')"
}

echo "commit $commit ($branch), command: $cmd"
nuget_cache
echo "uptime before: $(uptime)"
echo "run  healthz_s  signin_s  load(1 min) before  after"
results=()
for i in $(seq 1 "$runs"); do
  line=$(one_run)
  results+=("$line")
  read -r h s lb la <<<"$line"
  printf '%3d  %9s  %8s  %17s  %5s\n' "$i" "$h" "$s" "$lb" "$la"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf 'median  healthz %s s, sign-in line %s s\n' \
  "$(printf '%s\n' "${results[@]}" | cut -d' ' -f1 | median)" \
  "$(printf '%s\n' "${results[@]}" | cut -d' ' -f2 | median)"
echo "uptime after: $(uptime)"
