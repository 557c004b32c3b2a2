#!/usr/bin/env bash
# Install what building and testing softiommu needs, if it is missing.
# Debian packages only; runs apt-get as root (directly or through sudo).
set -euo pipefail

need=()
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v meson >/dev/null 2>&1 || need+=(meson)
command -v ninja >/dev/null 2>&1 || need+=(ninja-build)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ "${1:-}" = "--tests" ]; then
	pkg-config --exists cmocka 2>/dev/null || need+=(libcmocka-dev)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "softiommu: installing ${need[*]}" >&2
as_root=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "softiommu: need root (or sudo) to install: ${need[*]}" >&2
		exit 1
	}
	as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y --no-install-recommends "${need[@]}" ||
	{ "${as_root[@]}" apt-get update &&
	  "${as_root[@]}" apt-get install -y --no-install-recommends "${need[@]}"; }
