#!/usr/bin/env bash
# Builds the two Debian packages from published binaries, with dpkg-deb only (no debhelper):
#   medic_<version>_amd64.deb        the `medic` CLI and control plane, medic-server.service
#   medic-agent_<version>_amd64.deb  the Native AOT agent, medic-agent.service
# Usage: packaging/build-deb.sh --version V --medic DIR --agent FILE [--out DIR] [--compression xz|gzip|none]
#   --medic DIR   a self-contained linux-x64 publish of src/Medic.Cli (what packaging/release.sh makes)
#   --agent FILE  the Native AOT medic-agent for linux-x64
#   --out DIR     where the .deb files go (default artifacts/release)
#   --compression dpkg-deb's compressor (default xz)
# Layout, maintainer scripts and the units: docs/install.md, "Packages and systemd units".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version="" medic="" agent="" out="artifacts/release" compression=xz
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=$2; shift 2 ;;
    --medic) medic=$2; shift 2 ;;
    --agent) agent=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --compression) compression=$2; shift 2 ;;
    *) echo "error: unknown option '$1'" >&2; echo "hint: packaging/build-deb.sh --version V --medic DIR --agent FILE [--out DIR]" >&2; exit 2 ;;
  esac
done
fail() { echo "error: $1" >&2; echo "hint: $2" >&2; exit 2; }
case "$compression" in xz|gzip|none) ;; *) fail "compression '$compression' is not one of xz, gzip, none" "pass --compression xz (Debian's default), gzip or none" ;; esac
[ -n "$version" ] || fail "--version is missing" "pass the release version, e.g. --version 0.1.0"
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || fail "version '$version' is not a Debian version" "start with a digit; use letters, digits and . + ~ - only"
[ -x "$medic/medic" ] || fail "$medic/medic is not an executable" "publish it first: packaging/release.sh (or pass --medic DIR)"
[ -x "$agent" ] || fail "$agent is not an executable" "publish it first: dotnet publish src/Medic.Agent -c Release -r linux-x64"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is not installed" "apt-get install -y dpkg"
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/medic-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

# control FILE: the fields every package shares, then the package's own.
control() {
  local root=$1 package=$2 depends=$3 description=$4
  cat >"$root/DEBIAN/control" <<CONTROL
Package: $package
Version: $version
Architecture: amd64
Maintainer: Medic maintainers <medic@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Section: admin
Priority: optional
Description: $description
CONTROL
}

scripts() {
  local root=$1 package=$2
  install -m 0755 "$here/deb/$package/postinst" "$here/deb/$package/prerm" "$here/deb/$package/postrm" "$root/DEBIAN/"
}

echo "packaging: medic_${version}_amd64.deb" >&2
root="$work/medic"
install -d "$root/DEBIAN" "$root/usr/lib/medic" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/medic" "$root/usr/share/doc/medic"
# The whole publish directory: the single-file executable plus what a single file cannot hold
# (the console's static files under wwwroot/ and their endpoint manifest, native libraries).
cp -a "$medic/." "$root/usr/lib/medic/"
rm -f "$root/usr/lib/medic/"*.pdb "$root/usr/lib/medic/"*.dbg
ln -s ../lib/medic/medic "$root/usr/bin/medic"
install -m 0644 "$here/systemd/medic-server.service" "$root/lib/systemd/system/"
install -m 0644 "$here/deb/medic/medic.yaml" "$root/etc/medic/medic.yaml"
echo /etc/medic/medic.yaml >"$root/DEBIAN/conffiles"
scripts "$root" medic
control "$root" medic "libc6 (>= 2.31), libgcc-s1, libstdc++6, libssl3 | libssl1.1, ca-certificates, passwd, init-system-helpers" \
  "self-hosted healing for a fleet of Linux servers: control plane and CLI
 The medic command: the control plane (medic server, run by medic-server.service as the
 medic user, settings in /etc/medic/medic.yaml, data in /var/lib/medic) and the CLI that
 talks to it. Self-contained: no .NET runtime needed."
dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$out/medic_${version}_amd64.deb" >/dev/null

echo "packaging: medic-agent_${version}_amd64.deb" >&2
root="$work/medic-agent"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/medic"
install -m 0755 "$agent" "$root/usr/bin/medic-agent"
install -m 0644 "$here/systemd/medic-agent.service" "$root/lib/systemd/system/"
install -m 0644 "$here/deb/medic-agent/agent-policy.yaml" "$root/etc/medic/agent-policy.yaml"
echo /etc/medic/agent-policy.yaml >"$root/DEBIAN/conffiles"
scripts "$root" medic-agent
control "$root" medic-agent "libc6 (>= 2.31), init-system-helpers" \
  "the Medic agent: facts, monitors and signed tasks on a managed server
 medic-agent connects out to a Medic control plane, reports this machine's facts and
 metrics, runs its monitors and heals locally, and runs the tasks the control plane signs,
 within the local policy /etc/medic/agent-policy.yaml. One native executable (Native AOT).
 Enroll with: medic-agent enroll --server URL --token TOKEN"
dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$out/medic-agent_${version}_amd64.deb" >/dev/null
echo "$out/medic_${version}_amd64.deb"
echo "$out/medic-agent_${version}_amd64.deb"
