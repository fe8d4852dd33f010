#!/usr/bin/env bash
# Installs the Debian packages opvangsync needs to build and test, or says exactly how to.
# As root: apt-get install -y of whatever is missing. Otherwise: prints the command and fails.
set -euo pipefail

# --no-install-recommends first: install only the packages named (prometheus, for its promtool, would
# otherwise bring prometheus-node-exporter).
options=()
if [ "${1:-}" = "--no-install-recommends" ]; then
    options+=("$1")
    shift
fi

missing=()
for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    echo "Installing missing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # postfix is only run from a temporary folder by the tests: the machine's own stays unconfigured and off.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
    apt-get update -qq
    apt-get install -y -qq "${options[@]}" "${missing[@]}"
else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${options[*]} ${missing[*]}" >&2
    exit 1
fi
