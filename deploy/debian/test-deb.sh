#!/usr/bin/env bash
# Tests the Debian package by using it (part of make test; needs root, as CI has):
#   its metadata and files (dpkg-deb), that the binary links no Swift library (ldd), that it runs
#   --version and a demo import with the Swift toolchain's folder hidden (a tmpfs over it, in a mount
#   namespace of its own), lintian, and installing, running and purging it in a throwaway copy of this
#   machine (an overlay of / in a mount namespace; the real system is not touched).
# Usage: deploy/debian/test-deb.sh dist/opvangsync_VERSION_ARCH.deb VERSION
set -euo pipefail
cd "$(dirname "$0")/../.."
deb=$(readlink -f "$1")
version=$2
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...: one test
    local description=$1
    shift
    if output=$("$@" 2>&1); then
        passed=$((passed + 1))
        echo "ok: $description"
    else
        failed=$((failed + 1))
        echo "FAILED: $description"
        printf '%s\n' "$output" | sed 's/^/    /' | tail -40
    fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

info=$(dpkg-deb --info "$deb")
contents=$(dpkg-deb --contents "$deb")
field() { dpkg-deb --field "$deb" "$1"; }

check "the package is opvangsync $version" test "$(field Package) $(field Version)" = "opvangsync $version"
check "it depends on the system's libsqlite3 and libcurl" sh -c "echo '$(field Depends)' | grep -q 'libsqlite3-0' && echo '$(field Depends)' | grep -q 'libcurl4'"
check "it depends on no Swift package" sh -c "! echo '$(field Depends)' | grep -qi swift"
for path in ./usr/bin/opvangsync ./lib/systemd/system/opvangsync@.service ./lib/systemd/system/opvangsync@.timer \
            ./lib/systemd/system/opvangsync-mail@.service ./lib/systemd/system/opvangsync-mail@.timer \
            ./etc/opvangsync/opvangsync.json ./usr/share/doc/opvangsync/copyright ./usr/share/doc/opvangsync/operations.md.gz \
            ./usr/share/doc/opvangsync/README.md.gz ./usr/share/man/man1/opvangsync.1.gz; do
    check "it holds $path" sh -c "printf '%s\n' \"\$1\" | awk '{print \$6}' | grep -qx -- '$path'" _ "$contents"
done
check "the example configuration is a conffile" sh -c "dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./conffiles | grep -qx /etc/opvangsync/opvangsync.json"
check "it has a postinst and a postrm" sh -c "printf '%s\n' \"\$1\" | grep -q ' postinst' && printf '%s\n' \"\$1\" | grep -q ' postrm'" _ "$info"

dpkg-deb -x "$deb" "$work/extracted"
binary="$work/extracted/usr/bin/opvangsync"
check "ldd of the packaged binary names no Swift library and nothing missing" \
    sh -c "ldd '$binary' > '$work/ldd' && ! grep -i -E 'swift|libFoundation|libdispatch|BlocksRuntime|not found' '$work/ldd'"

# The toolchain's folder: /opt/swift here, found from the swift on PATH.
toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
export_dir="$work/exports/zonnebloem"
mkdir -p "$work/exports" "$work/demo"
cp -r sample-exports/zonnebloem "$export_dir"
hidden() { # runs a shell script with the toolchain hidden under an empty tmpfs
    unshare --mount sh -euc "mount -t tmpfs none '$toolchain'; [ -z \"\$(ls -A '$toolchain')\" ]; $1"
}
check "--version prints the package version with the Swift toolchain hidden" \
    sh -c "[ \"\$(unshare --mount sh -c \"mount -t tmpfs none '$toolchain' && '$binary' --version\")\" = 'opvangsync $version' ]"
check "a demo import runs with the Swift toolchain hidden and delivers its invitations" hidden "
    cd '$work/demo'
    '$binary' import '$export_dir' --as-of 2026-11-22 --send-mail
    [ \$(ls outbox/new | wc -l) -gt 0 ]
    '$binary' runs | grep -q verwerkt"

check "lintian reports no errors" lintian --fail-on error "$deb"

# Install, run and purge in a throwaway copy of this machine: an overlay of / whose writes go to a tmpfs.
cat > "$work/in-chroot.sh" <<'CHROOT'
set -eu
deb=$1
fail() { echo "FAIL: $*"; exit 1; }
export DEBIAN_FRONTEND=noninteractive
dpkg -i "$deb" >/dev/null
getent passwd opvangsync | grep -q ':/var/lib/opvangsync:/usr/sbin/nologin$' || fail "postinst made no opvangsync system user"
[ "$(getent passwd opvangsync | cut -d: -f3)" -lt 1000 ] || fail "opvangsync is not a system user"
[ "$(stat -c '%U:%G %a' /var/lib/opvangsync)" = "opvangsync:opvangsync 751" ] || fail "/var/lib/opvangsync: $(stat -c '%U:%G %a' /var/lib/opvangsync)"
[ "$(stat -c '%U:%G %a' /var/lib/opvangsync/reports)" = "opvangsync:opvangsync 750" ] || fail "reports folder"
[ "$(stat -c '%U:%G %a' /var/lib/opvangsync/metrics)" = "opvangsync:opvangsync 755" ] || fail "metrics folder"
dpkg-query -W -f='${Conffiles}' opvangsync | grep -q /etc/opvangsync/opvangsync.json || fail "the configuration is no conffile"
# What an administrator does: name the organisation and its inbox; mail to a maildir (no MTA here).
sed -i -e 's/"voorbeeld"/"zonnebloem"/' -e 's#/srv/exports/voorbeeld#/srv/exports/zonnebloem#' \
    -e 's#smtp://localhost:25#maildir:/var/lib/opvangsync/outbox#' /etc/opvangsync/opvangsync.json
mkdir -p /srv/exports/zonnebloem
cp -r /tmp/zonnebloem /srv/exports/zonnebloem/today
# A fresh export: the manifest's exportedAt is now (the manifest is not checksummed, its files are).
sed -i "s/\"exportedAt\" : \"[^\"]*\"/\"exportedAt\" : \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"/" /srv/exports/zonnebloem/today/manifest.json
# The installed unit's ExecStart, as its User= and WorkingDirectory= run it.
line=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/opvangsync@.service | sed 's/%i/zonnebloem/g')
cd /var/lib/opvangsync
setpriv --reuid opvangsync --regid opvangsync --init-groups sh -c "umask 0027; $line" >/tmp/run.out 2>&1 || { cat /tmp/run.out; fail "the service's import failed"; }
[ "$(stat -c '%U %a' /var/lib/opvangsync/zonnebloem.sqlite)" = "opvangsync 640" ] || fail "portal database owner or mode"
[ -n "$(ls /var/lib/opvangsync/outbox/new)" ] || fail "no invitations delivered"
grep -q 'opvangsync_last_run_status{organisation="zonnebloem",status="applied"} 1' /var/lib/opvangsync/metrics/opvangsync.prom || fail "no metrics"
dpkg --purge opvangsync >/dev/null 2>/tmp/purge.err
[ ! -e /usr/bin/opvangsync ] && [ ! -e /etc/opvangsync/opvangsync.json ] || fail "purge left the package's files"
[ -f /var/lib/opvangsync/zonnebloem.sqlite ] && [ -n "$(ls /var/lib/opvangsync/reports/zonnebloem)" ] || fail "purge removed the portal or the reports"
getent passwd opvangsync >/dev/null || fail "purge removed the user that still owns the portal"
[ ! -e /var/lib/opvangsync/metrics ] || fail "purge left the metrics folder"
# Without data left, a purge removes everything the package made.
rm -rf /var/lib/opvangsync
dpkg -i "$deb" >/dev/null
dpkg --purge opvangsync >/dev/null
! getent passwd opvangsync >/dev/null || fail "purge left the opvangsync user"
! getent group opvangsync >/dev/null || fail "purge left the opvangsync group"
[ ! -e /var/lib/opvangsync ] || fail "purge left /var/lib/opvangsync"
echo "installed, ran the service's import as opvangsync, purged"
CHROOT
mkdir -p "$work/overlay"
check "postinst makes the user and folders, the service's import runs, postrm on purge keeps the data" unshare --mount sh -euc "
    mount -t tmpfs none '$work/overlay'
    mkdir '$work/overlay/upper' '$work/overlay/work' '$work/overlay/root'
    mount -t overlay overlay -o 'lowerdir=/,upperdir=$work/overlay/upper,workdir=$work/overlay/work' '$work/overlay/root'
    root='$work/overlay/root'
    mount --rbind /dev \"\$root/dev\"
    mount --rbind /proc \"\$root/proc\"
    mount -t tmpfs none \"\$root/tmp\"
    mount -t tmpfs none \"\$root/run\"
    cp '$deb' \"\$root/tmp/opvangsync.deb\"
    cp -r sample-exports/zonnebloem \"\$root/tmp/zonnebloem\"
    cp '$work/in-chroot.sh' \"\$root/tmp/in-chroot.sh\"
    chroot \"\$root\" sh /tmp/in-chroot.sh /tmp/opvangsync.deb"

echo "deb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
