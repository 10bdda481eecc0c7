#!/usr/bin/env bash
# Issue #11's benchmark: Debian's kernel and the busybox initramfs of
# tools/debian-guest.sh, booted under QEMU's TCG and under xlat's
# translator one after the other in one run, each to the shell, then the
# workload (a marker line, sha256 of 64 MiB from /dev/zero) and poweroff;
# prints each wall time (host seconds, process start to exit) and the
# ratio xlat/QEMU, and the guest's uptime at the power-down line.
# Needs qemu-system-x86_64 (Debian's qemu-system-x86).
#
# Usage: benches/linux-boot.sh [RUNS]   (best of RUNS, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
command -v qemu-system-x86_64 >/dev/null || { echo "linux-boot: qemu-system-x86_64 is not installed" >&2; exit 1; }
guest=$(tools/debian-guest.sh 2>/dev/null)
kernel=$(sed -n 's/^kernel=//p' <<<"$guest")
initrd=$(sed -n 's/^initrd=//p' <<<"$guest")
cargo build --release -q -p xlat
workload='echo xlat-e2e-$((6*7)); head -c 67108864 /dev/zero | sha256sum; poweroff -f'
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run NAME CMD...: boot with CMD (the guest's console on stdio), type the
# workload once the shell is up; prints the wall time in seconds.
run() {
    : >"$log"
    local start end
    start=$(date +%s.%N)
    set +o pipefail
    (for _ in $(seq 2400); do grep -q "^/root # " "$log" && break; sleep 0.25; done
        sleep 0.5
        echo "$workload") | timeout 900 "$@" >"$log" 2>&1 || true
    set -o pipefail
    end=$(date +%s.%N)
    grep -q "^3b6a07d0d404fab4e23b6d34bc6696a6a312dd92821332385e5af7c01c421351" "$log" ||
        { echo "linux-boot: no sha256 from $1; log:" >&2; tail -20 "$log" >&2; exit 1; }
    uptime=$(sed -n 's/^\[ *\([0-9.]*\)\] reboot: Power down.*/\1/p' "$log")
    echo "$(echo "$end - $start" | bc) $uptime"
}

best() {
    local best="" up=""
    for _ in $(seq "$runs"); do
        read -r t u < <(run "$@")
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; up=$u; fi
    done
    echo "$best $up"
}

read -r q qup < <(best qemu-system-x86_64 -accel tcg -m 256M -kernel "$kernel" -initrd "$initrd" \
    -append console=ttyS0 -nographic -nodefaults -serial stdio -no-reboot)
read -r x xup < <(best target/release/xlat run -kernel "$kernel" -initrd "$initrd" \
    -append console=ttyS0 -m 256M)
printf 'qemu-tcg: %6.2f s wall (guest uptime at power-down %s s)\n' "$q" "$qup"
printf 'xlat:     %6.2f s wall (guest uptime at power-down %s s)\n' "$x" "$xup"
printf 'xlat/qemu: %.2f\n' "$(echo "$x / $q" | bc -l)"
