#!/usr/bin/env bash
# Runs Medic's whole test suite on a fresh machine that has the .NET SDK:
# starts a throwaway PostgreSQL 15 on a free loopback port (as the postgres user when run as root),
# installs openssh-server if missing (the agentless tests run their own sshd),
# installs prometheus, prometheus-alertmanager and prometheus-node-exporter if missing (the alert E2E test),
# installs chromium if missing (the console's browser tests),
# installs clang, zlib1g-dev and systemd if missing (the packaging tests: AOT link, systemd-analyze),
# runs every test project against it and the embedded SQLite, stops it and removes its files.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '[test.sh] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
  log "PostgreSQL server binaries not found; installing postgresql from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(pg_bin)

# The agentless-server tests start their own sshd on a loopback port.
if [ ! -x /usr/sbin/sshd ]; then
  log "/usr/sbin/sshd not found; installing openssh-server from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
fi

# The alert-identity E2E test runs a real Prometheus -> Alertmanager chain with node exporters on loopback ports.
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/prometheus-alertmanager ] || [ ! -x /usr/bin/prometheus-node-exporter ]; then
  log "prometheus, prometheus-alertmanager or prometheus-node-exporter not found; installing them from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager prometheus-node-exporter >/dev/null
fi

# The console's browser tests drive Debian's Chromium through Playwright (its own browser download cannot work here).
if [ ! -x /usr/bin/chromium ]; then
  log "/usr/bin/chromium not found; installing chromium from Debian (the console's browser tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# The one-line install E2E test pipes the served install.sh from curl into sh; the script checks the agent with sha256sum and openssl.
if ! command -v curl >/dev/null || ! command -v openssl >/dev/null; then
  log "curl or openssl not found; installing them from Debian (the install-script E2E test)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl openssl ca-certificates >/dev/null
fi

# The packaging tests (tests/Medic.E2E.Tests/PackagingTests.cs) link the Native AOT agent with clang and check
# the units with systemd-analyze (package systemd; it is not started, only its tools are used).
if ! command -v clang >/dev/null || [ ! -x /usr/bin/systemd-analyze ]; then
  log "clang or systemd-analyze not found; installing clang, zlib1g-dev and systemd from Debian (the packaging tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang zlib1g-dev systemd >/dev/null
fi

pgtmp=$(mktemp -d /tmp/medic-test-pg.XXXXXX)
chmod 755 "$pgtmp"
run_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown -R postgres "$pgtmp"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cleanup() {
  run_pg "$PGBIN/pg_ctl" -D "$pgtmp/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$pgtmp"
}
trap cleanup EXIT

port=""
for candidate in $(shuf -i 20000-60000 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { log "no free port found for PostgreSQL"; exit 1; }

log "starting PostgreSQL ($PGBIN) on 127.0.0.1:$port"
run_pg "$PGBIN/initdb" -D "$pgtmp/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
run_pg "$PGBIN/pg_ctl" -D "$pgtmp/data" -l "$pgtmp/postgres.log" -w -t 60 start \
  -o "-p $port -k $pgtmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null

export MEDIC_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export MEDIC_EVAL_SUMMARY="$pgtmp/ai-eval.txt"   # the AI eval's scores (tests/Medic.E2E.Tests/AiEvalTests.cs), printed below

out="$pgtmp/dotnet-test.log"
set +e
dotnet test Medic.slnx "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e

# One closing line for every project together: "N passed, N failed, N skipped".
awk '
  /(Passed|Failed)! +- +Failed: / {
    gsub(/,/, " ");
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i + 1);
      if ($i == "Passed:") p += $(i + 1);
      if ($i == "Skipped:") s += $(i + 1);
    }
  }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }
' "$out"
if [ -f "$MEDIC_EVAL_SUMMARY" ]; then head -n 1 "$MEDIC_EVAL_SUMMARY"; fi
exit "$status"
