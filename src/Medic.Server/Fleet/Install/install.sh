#!/bin/sh
# Installs the Medic agent on this Linux server and enrolls it with the control plane that served
# this script. Usage (the control plane fills in its address and its task-signing key below):
#   curl -fsSL https://medic.example.com/install.sh | sudo sh -s -- --token mde_...
# Options:
#   --token TOKEN   the enrollment token (medic enroll-token create); not needed once enrolled
#   --name NAME     the server's name in Medic (default: the host name)
#   --tags k=v,...  tags of this server, on top of the token's
#   --prefix DIR    install under DIR instead of / (tests, chroots); systemd is then left alone
#   --no-start      install and enroll, but do not start the agent
#   --uninstall     stop the agent and remove everything this script installed
# Running it again changes nothing that is already in place, and says so. See docs/install.md.
set -eu

MEDIC_URL='@@MEDIC_URL@@'
SIGNING_KEY='@@SIGNING_PUBLIC_KEY@@'

TOKEN=""
NAME=""
TAGS=""
PREFIX=""
START=1
UNINSTALL=0

say() { printf '%s\n' "$*"; }
usage() {
  cat <<USAGE_EOF
usage: curl -fsSL $MEDIC_URL/install.sh | sudo sh -s -- [options]
  --token TOKEN   the enrollment token (medic enroll-token create); not needed once enrolled
  --name NAME     the server's name in Medic (default: the host name)
  --tags k=v,...  tags of this server, on top of the token's
  --prefix DIR    install under DIR instead of / (tests, chroots); systemd is then left alone
  --no-start      install and enroll, but do not start the agent
  --uninstall     stop the agent and remove everything this script installed
USAGE_EOF
}
fail() {
  printf 'error: %s\n' "$1" >&2
  printf 'hint: %s\n' "$2" >&2
  exit 1
}

# Everything runs from main, called on the last line: a download cut short runs nothing at all.

main() {
while [ $# -gt 0 ]; do
  case "$1" in
    --token) [ $# -ge 2 ] || fail "--token needs a value" "create a token with: medic enroll-token create"; TOKEN=$2; shift 2 ;;
    --token=*) TOKEN=${1#*=}; shift ;;
    --name) [ $# -ge 2 ] || fail "--name needs a value" "pass the server's name, e.g. --name web-1"; NAME=$2; shift 2 ;;
    --name=*) NAME=${1#*=}; shift ;;
    --tags) [ $# -ge 2 ] || fail "--tags needs a value" "write tags as --tags env=prod,role=web"; TAGS=$2; shift 2 ;;
    --tags=*) TAGS=${1#*=}; shift ;;
    --prefix) [ $# -ge 2 ] || fail "--prefix needs a value" "pass a directory, e.g. --prefix /tmp/medic-root"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --no-start) START=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown option '$1'" "options: --token T, --name N, --tags k=v, --prefix DIR, --no-start, --uninstall" ;;
  esac
done

if [ -n "$PREFIX" ]; then
  case "$PREFIX" in
    /*) ;;
    *) fail "--prefix '$PREFIX' is not an absolute path" "pass an absolute directory, e.g. --prefix /tmp/medic-root" ;;
  esac
  PREFIX=${PREFIX%/}
fi

BIN="$PREFIX/usr/local/bin/medic-agent"
ETC="$PREFIX/etc/medic"
CONFIG="$ETC/agent.json"
POLICY="$ETC/agent-policy.yaml"
STATE="$PREFIX/var/lib/medic-agent"
UNIT="$PREFIX/etc/systemd/system/medic-agent.service"
RUN_COMMAND="$BIN run --config $CONFIG --policy $POLICY --state-dir $STATE"

# systemd is driven only for a real install on a host it runs.
SYSTEMD=0
if [ -z "$PREFIX" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then SYSTEMD=1; fi

if [ "$(id -u)" != 0 ] && [ -z "$PREFIX" ]; then
  fail "this script installs into /usr/local/bin, /etc/medic and /var/lib/medic-agent and must run as root" \
    "run it through sudo: curl -fsSL $MEDIC_URL/install.sh | sudo sh -s -- --token TOKEN"
fi

if [ "$UNINSTALL" = 1 ]; then
  if [ "$SYSTEMD" = 1 ] && [ -f "$UNIT" ]; then
    systemctl disable --now medic-agent.service </dev/null >/dev/null 2>&1 || true
  fi
  removed=0
  for f in "$UNIT" "$BIN" "$CONFIG" "$POLICY"; do
    if [ -e "$f" ]; then rm -f "$f"; say "removed $f"; removed=1; fi
  done
  if [ -d "$STATE" ]; then rm -rf "$STATE"; say "removed $STATE"; removed=1; fi
  [ "$SYSTEMD" = 1 ] && [ "$removed" = 1 ] && systemctl daemon-reload >/dev/null 2>&1 || true
  rmdir "$ETC" 2>/dev/null || true
  if [ -n "$PREFIX" ]; then
    # Under a prefix the script made the whole tree: leave none of its empty directories behind.
    for d in usr/local/bin usr/local usr etc/systemd/system etc/systemd etc var/lib var; do rmdir "$PREFIX/$d" 2>/dev/null || true; done
  fi
  if [ "$removed" = 1 ]; then
    say "Medic agent uninstalled. The control plane still lists this server: remove it there with 'medic servers remove NAME'."
  else
    say "Nothing to uninstall: no Medic agent is installed under ${PREFIX:-/}."
  fi
  exit 0
fi

[ "$(uname -s)" = Linux ] || fail "the Medic agent runs on Linux; this is $(uname -s)" "install it on a Linux server"
case "$(uname -m)" in
  x86_64|amd64) ARCH=x64 ;;
  aarch64|arm64) ARCH=arm64 ;;
  *) fail "no Medic agent is built for the $(uname -m) architecture" "use an x86_64 or aarch64 server, or run the agent from source (docs/agent.md)" ;;
esac
for tool in curl sha256sum openssl; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed; the script needs it to download and check the agent" "install it (Debian/Ubuntu: apt-get install -y $tool) and run the script again"
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM
FILE="medic-agent-linux-$ARCH"
for part in "" .sha256 .sig; do
  curl -fsS --retry 3 </dev/null -o "$WORK/$FILE$part" "$MEDIC_URL/agent/$FILE$part" \
    || fail "could not download $MEDIC_URL/agent/$FILE$part" "check that this host reaches $MEDIC_URL and that the control plane has an agent for linux-$ARCH (GET $MEDIC_URL/api/v1/agent-binaries)"
done

expected=$(cut -d ' ' -f 1 < "$WORK/$FILE.sha256")
actual=$(sha256sum "$WORK/$FILE" | cut -d ' ' -f 1)
[ "$expected" = "$actual" ] || fail "the downloaded agent's SHA-256 is $actual, the control plane published $expected; nothing was installed" \
  "download again; if it repeats, something between this host and $MEDIC_URL alters the file"

# The signature is checked against the control plane's task-signing key written into this script,
# the same key the agent pins at enrollment to check every task it is sent.
printf '%s\n' "$SIGNING_KEY" > "$WORK/signing.pem"
openssl base64 -d -A -in "$WORK/$FILE.sig" -out "$WORK/$FILE.sig.der" 2>/dev/null \
  || fail "the agent's signature ($MEDIC_URL/agent/$FILE.sig) is not base64; nothing was installed" "download again; if it repeats, check what sits between this host and $MEDIC_URL"
openssl dgst -sha256 -verify "$WORK/signing.pem" -signature "$WORK/$FILE.sig.der" "$WORK/$FILE" >/dev/null 2>&1 \
  || fail "the agent's signature does not match the file and the control plane's task-signing key; nothing was installed" \
    "download again; if it repeats, something between this host and $MEDIC_URL alters the file"

changes=0
mkdir -p "$(dirname "$BIN")"
if [ -f "$BIN" ] && [ "$(sha256sum "$BIN" | cut -d ' ' -f 1)" = "$actual" ]; then
  say "unchanged: $BIN (sha256 $actual)"
else
  cp "$WORK/$FILE" "$BIN.new"
  chmod 0755 "$BIN.new"
  mv -f "$BIN.new" "$BIN"
  say "installed: $BIN (sha256 $actual, signature checked)"
  changes=1
fi

mkdir -p "$ETC"
chmod 0755 "$ETC"
if [ -f "$POLICY" ]; then
  say "unchanged: $POLICY (the node's own policy is never overwritten)"
else
  cat > "$POLICY.new" <<'POLICY_EOF'
# What the control plane may make this server do; the agent's word is final (docs/agent.md).
# Written by the Medic installer: diagnostics and service restarts, no arbitrary commands.
diag: true
service: true
exec: false
reboot: false
POLICY_EOF
  chmod 0644 "$POLICY.new"
  mv -f "$POLICY.new" "$POLICY"
  say "written: $POLICY (diag and service granted, exec and reboot off)"
  changes=1
fi

if [ -f "$CONFIG" ]; then
  say "unchanged: $CONFIG (already enrolled; --uninstall first to enroll again)"
else
  [ -n "$TOKEN" ] || fail "this server is not enrolled yet and no --token was given" "create a token with 'medic enroll-token create' and pass it: --token mde_..."
  set -- enroll --server "$MEDIC_URL" --token "$TOKEN" --config "$CONFIG"
  [ -n "$NAME" ] && set -- "$@" --name "$NAME"
  [ -n "$TAGS" ] && set -- "$@" --tags "$TAGS"
  "$BIN" "$@" </dev/null >/dev/null || fail "enrollment with $MEDIC_URL failed (the agent said why above); the binary and policy stay installed" \
    "fix the cause and run the script again; it picks up where it stopped"
  say "enrolled: $CONFIG"
  changes=1
fi

mkdir -p "$STATE"
chmod 0700 "$STATE"

mkdir -p "$(dirname "$UNIT")"
cat > "$WORK/unit" <<UNIT_EOF
[Unit]
Description=Medic agent
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=$RUN_COMMAND
ExecReload=/bin/kill -HUP \$MAINPID
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT_EOF
unit_changed=0
if [ -f "$UNIT" ] && cmp -s "$WORK/unit" "$UNIT"; then
  say "unchanged: $UNIT"
else
  cp "$WORK/unit" "$UNIT.new"
  chmod 0644 "$UNIT.new"
  mv -f "$UNIT.new" "$UNIT"
  say "written: $UNIT"
  changes=1
  unit_changed=1
fi

if [ "$SYSTEMD" = 1 ]; then
  [ "$unit_changed" = 1 ] && systemctl daemon-reload </dev/null
  if [ "$START" = 1 ]; then
    if [ "$changes" = 1 ]; then
      systemctl enable medic-agent.service >/dev/null 2>&1
      systemctl restart medic-agent.service </dev/null
      say "started: medic-agent.service (journalctl -u medic-agent to follow it)"
    elif ! systemctl is-active --quiet medic-agent.service; then
      systemctl enable --now medic-agent.service >/dev/null 2>&1
      say "started: medic-agent.service (it was not running)"
      changes=1
    fi
  else
    say "Not started (--no-start). Start it with: systemctl enable --now medic-agent"
  fi
elif [ -n "$PREFIX" ]; then
  say "Installed under $PREFIX; systemd is not driven for a prefix install."
  say "Start it with: $RUN_COMMAND"
else
  say "No systemd on this host: the agent is not started."
  say "Start it with: $RUN_COMMAND"
  say "and keep it running with your init system (runit, OpenRC, supervisord), restarting it when it exits."
fi

if [ "$changes" = 0 ]; then
  say "Nothing changed: the Medic agent was already installed and enrolled."
else
  say "Done: the Medic agent is installed and enrolled with $MEDIC_URL."
fi
}

main "$@"
