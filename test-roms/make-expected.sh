#!/usr/bin/env bash
# Regenerate the expected logs of the test ROMs with QEMU, the independent
# reference (never with xlat itself). For every NAME.bin this runs exactly
#
#   qemu-system-x86_64 -display none -nodefaults -m 128 -bios NAME.bin \
#       -debugcon file:LOG -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot
#
# (plus the options in NAME.qemu-args, if that file exists: e.g. `-cpu max`
# for a ROM whose instructions QEMU's default CPU model leaves out; or
# `-cpu MODEL` when NAME.qemu-cpu holds MODEL: QEMU's model for a ROM that
# runs on a given xlat CPU model, see NAME.cpu)
# under a timeout, applies NAME.qemu-fix.patch if it exists (a unified diff
# from QEMU's log to the SDM-correct one, for the few places where QEMU is
# wrong; each is explained in NAME.asm), then writes NAME.expected (the debug-console log, byte for
# byte) and NAME.status (QEMU's exit status), and reports every file whose
# content changed. With --check nothing is written and a difference makes
# the script fail.
#
# A ROM that QEMU cannot run has a NAME.reference ("bochs STATUS"): its
# log comes from Bochs (run-bochs.sh) and NAME.bochs-fix.patch instead.
#
# Usage: test-roms/make-expected.sh [--check] [NAME.bin ...]
set -euo pipefail
cd "$(dirname "$0")"
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
if [ $# -eq 0 ]; then set -- *.bin; fi
TIMEOUT=${QEMU_TIMEOUT:-60}
command -v qemu-system-x86_64 >/dev/null || {
    echo "make-expected.sh: qemu-system-x86_64 is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
changed=0
failed=0
for rom in "$@"; do
    name="${rom%.bin}"
    log="$tmp/$name.log"
    extra=()
    if [ -f "$name.qemu-args" ]; then read -r -a extra < "$name.qemu-args"; fi
    cpu=()
    if [ -f "$name.qemu-cpu" ]; then cpu=(-cpu "$(cat "$name.qemu-cpu")"); fi
    fix="$name.qemu-fix.patch"
    if [ -f "$name.reference" ]; then
        # "bochs STATUS": QEMU cannot run this ROM; Bochs's log (through
        # run-bochs.sh), patched by NAME.bochs-fix.patch, with the exit
        # status QEMU's debug-exit device would give (Bochs has none).
        read -r ref status < "$name.reference"
        if [ "$ref" != bochs ]; then
            echo "$name: unknown reference '$ref' in $name.reference" >&2
            failed=1
            continue
        fi
        mkdir -p "$tmp/bochs"
        ./run-bochs.sh --keep "$tmp/bochs" "$rom" >/dev/null || true
        if [ ! -f "$tmp/bochs/$name.bochs" ]; then
            echo "$name: Bochs produced no log" >&2
            failed=1
            continue
        fi
        cp "$tmp/bochs/$name.bochs" "$log"
        fix="$name.bochs-fix.patch"
    else
    set +e
    timeout "$TIMEOUT" qemu-system-x86_64 "${extra[@]}" -display none -nodefaults -m 128 "${cpu[@]}" -bios "$rom" \
        -debugcon "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot
    status=$?
    set -e
    fi
    if [ "$status" -eq 124 ]; then
        echo "$name: QEMU timed out after ${TIMEOUT}s; nothing written" >&2
        failed=1
        continue
    fi
    [ -f "$log" ] || : > "$log"
    if [ -f "$fix" ]; then
        if ! patch -s "$log" < "$fix"; then
            echo "$name: $fix does not apply to the reference's log" >&2
            failed=1
            continue
        fi
    fi
    echo "$status" > "$tmp/$name.status"
    for ext in expected status; do
        new="$tmp/$name.${ext/expected/log}"
        if [ -f "$name.$ext" ] && cmp -s "$new" "$name.$ext"; then
            continue
        fi
        changed=1
        if [ -f "$name.$ext" ]; then
            echo "$name.$ext differs from the reference's:"
            diff -u "$name.$ext" "$new" | head -20 || true
        else
            echo "$name.$ext is new"
        fi
        if [ "$check" -eq 0 ]; then cp "$new" "$name.$ext"; fi
    done
    echo "$name: exit status $status, $(wc -l < "$log") lines"
done
if [ "$failed" -ne 0 ]; then exit 1; fi
if [ "$check" -eq 1 ] && [ "$changed" -ne 0 ]; then exit 1; fi
exit 0
