#!/usr/bin/env bash
# Release builds for linux-x64, into artifacts/release/:
#   medic-<version>-linux-x64.tar.gz  the self-contained single-file `medic` (no .NET needed),
#                                     with the console's static files (wwwroot/) beside it, and the
#                                     agent binaries it serves to /install.sh in agent/
#   medic-agent-<version>-linux-x64   the Native AOT agent (one file, needs only glibc)
#   medic-agent-<version>-linux-arm64 the same, cross-compiled for arm64, when the cross toolchain is
#                                     installed (apt-get install -y gcc-aarch64-linux-gnu
#                                     libc6-dev-arm64-cross binutils-aarch64-linux-gnu, and clang)
#   medic_<version>_amd64.deb, medic-agent_<version>_amd64.deb   (packaging/build-deb.sh)
#   SHA256SUMS                        sha256sum of each file above (check: sha256sum -c SHA256SUMS)
# Usage: packaging/release.sh [--version V] [--out DIR] [--no-arm64] [--compression xz|gzip|none]
#   --version      default: <Version> in Directory.Build.props
#   --no-arm64     skip the arm64 agent even when the cross toolchain is installed
#   --compression  of the .deb files (default xz, as Debian's own; the packaging tests use gzip, which
#                  takes seconds where xz takes minutes on the 150 MB control-plane package)
# Needs the .NET SDK, dpkg-deb, and clang or gcc for the AOT link: as root it installs clang with
# apt-get when neither is there. See docs/install.md, "Release builds".
set -euo pipefail
cd "$(dirname "$0")/.."
version="" out="artifacts/release" want_arm64=yes compression=xz
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-arm64) want_arm64=no; shift ;;
    --compression) compression=$2; shift 2 ;;
    *) echo "error: unknown option '$1'" >&2; echo "hint: packaging/release.sh [--version V] [--out DIR] [--no-arm64] [--compression xz|gzip|none]" >&2; exit 2 ;;
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
# Every publish below builds in "$work/build" (--artifacts-path), not in the checkout's obj/ and bin/: a
# build or test running in the checkout meanwhile neither sees nor breaks this one.

step "publishing medic-agent $version (Native AOT, linux-x64)..."
dotnet publish src/Medic.Agent -c Release -r linux-x64 "${linker[@]}" -o "$work/agent" --artifacts-path "$work/build" -nologo -v:q >"$work/agent.log" 2>&1 \
  || { cat "$work/agent.log" >&2; echo "error: the agent's publish failed (above)" >&2; exit 1; }
# linux-arm64: clang links for --target=aarch64-linux-gnu against Debian's cross libc and libgcc;
# the debug symbols are split off with the arm64 objcopy.
arm64=no
if [ "$want_arm64" = no ]; then
  step "skipping linux-arm64 (--no-arm64)"
elif command -v clang >/dev/null && command -v aarch64-linux-gnu-objcopy >/dev/null \
   && [ -e /usr/aarch64-linux-gnu/lib/crt1.o ] && [ -d /usr/lib/gcc-cross/aarch64-linux-gnu ]; then
  step "publishing medic-agent $version (Native AOT, linux-arm64, cross-compiled)..."
  dotnet publish src/Medic.Agent -c Release -r linux-arm64 -p:ObjCopyName=aarch64-linux-gnu-objcopy -o "$work/agent-arm64" --artifacts-path "$work/build" -nologo -v:q >"$work/agent-arm64.log" 2>&1 \
    || { cat "$work/agent-arm64.log" >&2; echo "error: the agent's arm64 publish failed (above)" >&2; exit 1; }
  arm64=yes
else
  step "skipping linux-arm64: no arm64 cross toolchain (apt-get install -y clang gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu)"
fi
step "publishing medic $version (self-contained single file, linux-x64)..."
dotnet publish src/Medic.Cli -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -o "$work/medic" --artifacts-path "$work/build" -nologo -v:q >"$work/medic.log" 2>&1 \
  || { cat "$work/medic.log" >&2; echo "error: medic's publish failed (above)" >&2; exit 1; }
rm -f "$work/medic/"*.pdb

step "checking the binaries run..."
"$work/agent/medic-agent" version | grep -qx "medic-agent $version" || { echo "error: the AOT agent does not print 'medic-agent $version'" >&2; exit 1; }
"$work/medic/medic" version | grep -qx "medic $version" || { echo "error: medic does not print 'medic $version'" >&2; exit 1; }

# The control plane serves the agent binaries found in agent/ beside its executable (GET /install.sh,
# /agent/medic-agent-linux-<arch>; docs/install.md): the tarball and the medic package carry them there,
# so the one-line install works from a release without copying anything.
install -d "$work/medic/agent"
install -m 0755 "$work/agent/medic-agent" "$work/medic/agent/medic-agent-linux-x64"
if [ "$arm64" = yes ]; then install -m 0755 "$work/agent-arm64/medic-agent" "$work/medic/agent/medic-agent-linux-arm64"; fi

rm -f "$out"/medic-*linux-x64* "$out"/medic-*linux-arm64* "$out"/medic*_amd64.deb "$out/SHA256SUMS"
step "writing medic-$version-linux-x64.tar.gz and medic-agent-$version-linux-x64..."
tar -C "$work" --owner=0 --group=0 --transform "s:^medic:medic-$version-linux-x64:" -czf "$out/medic-$version-linux-x64.tar.gz" medic
install -m 0755 "$work/agent/medic-agent" "$out/medic-agent-$version-linux-x64"
files=("medic-$version-linux-x64.tar.gz" "medic-agent-$version-linux-x64")
if [ "$arm64" = yes ]; then
  install -m 0755 "$work/agent-arm64/medic-agent" "$out/medic-agent-$version-linux-arm64"
  files+=("medic-agent-$version-linux-arm64")
fi
files+=("medic_${version}_amd64.deb" "medic-agent_${version}_amd64.deb")
step "building the .deb packages..."
packaging/build-deb.sh --version "$version" --medic "$work/medic" --agent "$work/agent/medic-agent" --out "$out" --compression "$compression" >/dev/null
step "writing SHA256SUMS..."
(cd "$out" && sha256sum "${files[@]}" >SHA256SUMS)
step "done in $(( $(date +%s) - started )) s: $out"
(cd "$out" && ls -l "${files[@]}" SHA256SUMS)
