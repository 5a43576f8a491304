#!/usr/bin/env bash
# Writes the databases UpgradeTests upgrades: a real `medic server` of an earlier release writes
# them through its own API (tenants, users, tokens, an incident, a secret, a second tenant, and the
# audit chains all of that leaves), once on SQLite and once on PostgreSQL.
#
#   MEDIC_TEST_POSTGRES='Host=127.0.0.1;Port=54329;Username=postgres;Database=postgres' \
#     tests/Medic.Server.Tests/Storage/Fixtures/make-fixtures.sh [REV] [NAME]
#
# REV (default 38f11aa, whose last migration is 0026) is checked out in a temporary git worktree and
# its CLI built there; MEDIC_DLL=path/to/medic.dll uses a build you already have instead (it must be
# of a tree whose migrations are those of REV: the test checks the recorded checksums against
# today's files). NAME (default medic-0026) names the outputs in this directory:
#   NAME.db            the SQLite database (WAL checkpointed into the file)
#   NAME.postgres.sql  pg_dump --inserts of the PostgreSQL database, psql meta-commands removed
#   NAME.master.key    the master key both were written with (the secret opens with it)
# Needs: git, dotnet, sqlite3, psql, pg_dump (the same major version as the server), curl.
set -euo pipefail
rev=${1:-38f11aa}
name=${2:-medic-0026}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; git -C "$repo" worktree remove --force "$work/src" 2>/dev/null || true; rm -rf "$work"' EXIT
: "${MEDIC_TEST_POSTGRES:?set MEDIC_TEST_POSTGRES to an admin connection string of a PostgreSQL server}"

if [[ -z "${MEDIC_DLL:-}" ]]; then
  git -C "$repo" worktree add --detach "$work/src" "$rev" >/dev/null
  dotnet build "$work/src/src/Medic.Cli" -c Release -v q -nologo >/dev/null
  MEDIC_DLL="$work/src/src/Medic.Cli/bin/Release/net10.0/medic.dll"
fi

password=fixture-admin-password-1
head -c32 /dev/urandom | base64 > "$work/master.key"
export HOME="$work/home" MEDIC_ADMIN_PASSWORD="$password" MEDIC_MASTER_KEY="$(cat "$work/master.key")" DOTNET_NOLOGO=1
medic() { dotnet "$MEDIC_DLL" "$@"; }

# One server run: start, write data through the CLI, stop with SIGTERM (what systemd sends).
write_data() {
  local data=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$HOME"; mkdir -p "$HOME"
  medic server --data "$data" --listen "http://127.0.0.1:$port" > "$work/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.5; done
  printf '%s\n' "$password" | medic login --server "http://127.0.0.1:$port" --password-stdin >/dev/null
  medic tokens create --name fixture-ci >/dev/null
  medic incidents create --title "Fixture incident: disk full on web-1" --severity critical --summary "written by the 0026 schema" >/dev/null
  printf 'fixture-secret-value' | medic secrets set fixture-secret >/dev/null
  medic tenants create acme --name "Acme Corp" --admin acme-admin >/dev/null
  medic audit checkpoint >/dev/null
  kill -TERM "$pid"; wait "$pid" || true
}

write_data "$work/sqlite"
sqlite3 "$work/sqlite/medic.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
rm -f "$here/$name.db"
sqlite3 "$work/sqlite/medic.db" "VACUUM INTO '$here/$name.db'"

# psql and pg_dump take a URL; MEDIC_TEST_POSTGRES is an Npgsql key=value string.
pgurl() { python3 -c 'import sys; kv={k.lower(): v for k, v in (p.split("=", 1) for p in sys.argv[1].split(";") if p)}; print("postgresql://%s@%s:%s/%s" % (kv.get("username", "postgres"), kv.get("host", "127.0.0.1"), kv.get("port", "5432"), sys.argv[2]))' "$MEDIC_TEST_POSTGRES" "$1"; }
db=medic_fixture_$$
psql "$(pgurl postgres)" -qc "CREATE DATABASE $db" >/dev/null
export MEDIC_DATABASE="$(pgurl "$db")"
write_data "$work/postgres"
pg_dump --inserts --no-owner --no-privileges "$(pgurl "$db")" | grep -v '^\\' > "$here/$name.postgres.sql"
psql "$(pgurl postgres)" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
cp "$work/master.key" "$here/$name.master.key"
echo "wrote $here/$name.db, $name.postgres.sql and $name.master.key"
