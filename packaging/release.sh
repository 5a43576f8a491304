#!/usr/bin/env bash
# Release builds for linux-x64, into artifacts/release/:
#   medic-<version>-linux-x64.tar.gz  the self-contained single-file `medic` (no .NET needed),
#                                     with the console's static files (wwwroot/) beside it
#   medic-agent-<version>-linux-x64   the Native AOT agent (one file, needs only glibc)
#   medic_<version>_amd64.deb, medic-agent_<version>_amd64.deb   (packaging/build-deb.sh)
#   SHA256SUMS                        sha256sum of each file above (check: sha256sum -c SHA256SUMS)
# Usage: packaging/release.sh [--version V] [--out DIR]   (version default: <Version> in Directory.Build.props)
# Needs the .NET SDK, dpkg-deb, and clang or gcc for the AOT link: as root it installs clang with
# apt-get when neither is there. See docs/install.md, "Release builds".
set -euo pipefail
cd "$(dirname "$0")/.."
version="" out="artifacts/release"
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "error: unknown option '$1'" >&2; echo "hint: packaging/release.sh [--version V] [--out DIR]" >&2; exit 2 ;;
  esac
done
[ -n "$version" ] || version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
step() { echo "release: $*" >&2; }
started=$(date +%s)

# The native link of the AOT agent: clang is what the SDK uses; gcc works when told so.
linker=()
if ! command -v clang >/dev/null; then
  if command -v gcc >/dev/null; then
    linker=(-p:CppCompilerAndLinker=gcc)
    step "clang not found: linking the agent with gcc"
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing clang for the agent's native link (apt-get install -y clang zlib1g-dev)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang zlib1g-dev >/dev/null
  else
    echo "error: no C toolchain for the agent's Native AOT link (neither clang nor gcc)" >&2
    echo "hint: sudo apt-get install -y clang zlib1g-dev, then run packaging/release.sh again" >&2
    exit 2
  fi
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/medic-release.XXXXXX)
trap 'rm -rf "$work"' EXIT

step "publishing medic-agent $version (Native AOT, linux-x64)..."
dotnet publish src/Medic.Agent -c Release -r linux-x64 "${linker[@]}" -o "$work/agent" -nologo -v:q >"$work/agent.log" 2>&1 \
  || { cat "$work/agent.log" >&2; echo "error: the agent's publish failed (above)" >&2; exit 1; }
step "publishing medic $version (self-contained single file, linux-x64)..."
dotnet publish src/Medic.Cli -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -o "$work/medic" -nologo -v:q >"$work/medic.log" 2>&1 \
  || { cat "$work/medic.log" >&2; echo "error: medic's publish failed (above)" >&2; exit 1; }
rm -f "$work/medic/"*.pdb

step "checking the binaries run..."
"$work/agent/medic-agent" version | grep -qx "medic-agent $version" || { echo "error: the AOT agent does not print 'medic-agent $version'" >&2; exit 1; }
"$work/medic/medic" version | grep -qx "medic $version" || { echo "error: medic does not print 'medic $version'" >&2; exit 1; }

rm -f "$out"/medic-*linux-x64* "$out"/medic*_amd64.deb "$out/SHA256SUMS"
step "writing medic-$version-linux-x64.tar.gz and medic-agent-$version-linux-x64..."
tar -C "$work" --owner=0 --group=0 --transform "s:^medic:medic-$version-linux-x64:" -czf "$out/medic-$version-linux-x64.tar.gz" medic
install -m 0755 "$work/agent/medic-agent" "$out/medic-agent-$version-linux-x64"
step "building the .deb packages..."
packaging/build-deb.sh --version "$version" --medic "$work/medic" --agent "$work/agent/medic-agent" --out "$out" >/dev/null
step "writing SHA256SUMS..."
(cd "$out" && sha256sum "medic-$version-linux-x64.tar.gz" "medic-agent-$version-linux-x64" "medic_${version}_amd64.deb" "medic-agent_${version}_amd64.deb" >SHA256SUMS)
step "done in $(( $(date +%s) - started )) s: $out"
(cd "$out" && ls -l "medic-$version-linux-x64.tar.gz" "medic-agent-$version-linux-x64" "medic_${version}_amd64.deb" "medic-agent_${version}_amd64.deb" SHA256SUMS)
