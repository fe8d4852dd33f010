#!/usr/bin/env bash
# Checks the unit files with systemd-analyze verify, where systemd is installed. The binary paths are
# pointed at this build, so verify can check ExecStart exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null; then
    echo "systemd-analyze not installed: unit files not verified"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
binary="$(pwd)/.build/debug/opvangsync"
for unit in deploy/systemd/*; do
    name=$(basename "$unit")
    name=${name/@./@zonnebloem.}
    sed -e "s#/usr/bin/opvangsync#${binary}#" "$unit" > "$work/$name"
done
# User= names a system user that exists only on a real server; verify everything else.
output=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$work"/*.service "$work"/*.timer 2>&1 || true)
filtered=$(printf '%s\n' "$output" | grep -v -e 'Failed to resolve user' -e "user 'opvangsync'" -e 'Unit configuration has fatal error' -e 'Cannot add dependency job' -e '^$' || true)
if [ -n "$filtered" ]; then
    printf '%s\n' "$filtered"
    exit 1
fi
echo "systemd units verified"
