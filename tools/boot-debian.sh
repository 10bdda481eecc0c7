#!/usr/bin/env bash
# Boots Debian's unmodified x86-64 kernel to a busybox shell on xlat's
# serial console (issue #11): prepares the guest with
# tools/debian-guest.sh (Debian's packages only, cached), builds xlat
# (release) and runs
#
#   xlat run -kernel VMLINUZ -initrd INITRAMFS -append console=ttyS0 -m 256M
#
# The terminal is the guest's console: type commands; `poweroff -f` ends
# the run with status 0; Ctrl-A x quits at once. Extra arguments go to
# `xlat run` (e.g. --clock host, --engine interp).
#
# With --check it runs unattended instead: stdin sends `poweroff -f` every
# ten seconds (input typed before the shell is up is dropped by the
# kernel's serial driver, which resets the UART's FIFOs), and the run must
# reach the BusyBox shell and power off with status 0 within the timeout
# ($XLAT_BOOT_TIMEOUT seconds, default 600). The console log goes to
# $XLAT_BOOT_LOG (default: a temporary file), and is shown on failure.
#
# Usage: tools/boot-debian.sh [--check] [XLAT RUN ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
guest=$(tools/debian-guest.sh)
kernel=$(sed -n 's/^kernel=//p' <<<"$guest")
initrd=$(sed -n 's/^initrd=//p' <<<"$guest")
[ -n "$kernel" ] && [ -n "$initrd" ] || { echo "boot-debian: debian-guest.sh gave no kernel/initrd" >&2; exit 1; }
cargo build --release -q -p xlat
xlat=target/release/xlat
if [ "$check" -eq 0 ]; then
    exec "$xlat" run -kernel "$kernel" -initrd "$initrd" -append console=ttyS0 -m 256M "$@"
fi
log=${XLAT_BOOT_LOG:-$(mktemp)}
# (The feeder dies of SIGPIPE once xlat is gone: only xlat's status
# counts, so no pipefail here.)
set +e +o pipefail
(for _ in $(seq 120); do sleep 10; echo "poweroff -f"; done) |
    timeout "${XLAT_BOOT_TIMEOUT:-600}" "$xlat" run -kernel "$kernel" -initrd "$initrd" \
        -append console=ttyS0 -m 256M "$@" >"$log" 2>&1
status=$?
set -e -o pipefail
fail() {
    echo "boot-debian: $*; the console log ($log):" >&2
    tail -60 "$log" >&2
    exit 1
}
[ "$status" -eq 0 ] || fail "xlat exited with status $status"
grep -q "BusyBox v" "$log" || fail "no BusyBox shell"
grep -q "reboot: Power down" "$log" || fail "no ACPI power-down"
grep -q "the guest powered the machine off" "$log" || fail "xlat did not see the power-off"
if grep -n -E "Oops|BUG:|Call Trace|unchecked MSR|soft lockup|hard LOCKUP|unknown CPU" "$log" >&2; then
    fail "the kernel logged a problem"
fi
echo "boot-debian: booted $(sed -n 's/^kernel_version=//p' <<<"$guest") to the shell and powered off ($(grep -c '' "$log") console lines)"
