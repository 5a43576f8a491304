#!/usr/bin/env bash
# Agentless vs Ansible vs agents: `true` on 20 loopback sshd targets (20 sshd processes), side by side
# in one run. Medic's agentless path is timed through the API of a running control plane (POST
# /api/v1/exec to the execution completed), cold and warm; Ansible is Debian's, `ansible all -m
# command -a true -f 20`, cold and warm; Medic's agent path is the fanout bench with 20 simulated
# agents. Installs openssh-server and ansible with apt-get when missing.
# Usage: bench/agentless.sh [TARGETS] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${1:-20}
reps=${2:-5}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ansible >/dev/null || missing+=(ansible)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} from Debian..." >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

dotnet build src/Medic.Cli -c Release >/dev/null
dotnet build bench/Medic.Bench -c Release >/dev/null
exec dotnet bench/Medic.Bench/bin/Release/net10.0/Medic.Bench.dll agentless --targets "$targets" --reps "$reps"
