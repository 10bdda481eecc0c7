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
# With --check it runs unattended instead (issue #11's end-to-end test):
# once the shell's prompt is in the console log, stdin sends one command
# line (earlier input would be lost: the serial driver resets the UART's
# FIFOs when the shell opens the tty) that prints a marker, hashes 64 MiB from /dev/zero and
# powers off; the run must reach the BusyBox shell, print the marker and
# the known digest, and power off with status 0 within the timeout
# ($XLAT_BOOT_TIMEOUT seconds, default 600), with nothing alarming in the
# kernel's log. The console log goes to $XLAT_BOOT_LOG (default: a
# temporary file), and is shown on failure.
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
workload='echo xlat-e2e-$((6*7)); head -c 67108864 /dev/zero | sha256sum; poweroff -f'
: >"$log"
(for _ in $(seq $((${XLAT_BOOT_TIMEOUT:-600} * 2))); do grep -q "^/root # " "$log" && break; sleep 0.5; done
    sleep 1
    echo "$workload") |
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
# (The marker's number is computed by the guest's shell, so the echoed
# command line does not match.)
grep -q "^xlat-e2e-42" "$log" || fail "no marker from the workload"
# sha256 of 64 MiB of zeros.
grep -q "^3b6a07d0d404fab4e23b6d34bc6696a6a312dd92821332385e5af7c01c421351  -" "$log" ||
    fail "no (or a wrong) sha256 of 64 MiB of zeros"
grep -q "reboot: Power down" "$log" || fail "no ACPI power-down"
grep -q "the guest powered the machine off" "$log" || fail "xlat did not see the power-off"
if grep -n -E "Oops|BUG:|Call Trace|unchecked MSR|soft lockup|hard LOCKUP|unknown CPU" "$log" >&2; then
    fail "the kernel logged a problem"
fi
echo "boot-debian: booted $(sed -n 's/^kernel_version=//p' <<<"$guest") to the shell, hashed 64 MiB and powered off ($(grep -c '' "$log") console lines)"
