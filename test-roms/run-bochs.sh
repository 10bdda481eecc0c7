#!/usr/bin/env bash
# Cross-check the test ROMs with Bochs, a second independent model: run
# each NAME.bin under Bochs and compare its port-0xE9 output with
# NAME.expected (made by QEMU). Prints "same NAME" or "DIFF NAME" plus a
# diff; exit 1 if any differ, except ROMs listed in BOCHS-DIFFS (where
# Bochs is wrong).
#
# Bochs has no isa-debug-exit device: the ROM's final `out 0xf4` is ignored
# and it halts with IF=0. The script watches the Bochs log for that halt (or
# a triple fault / shutdown) and then kills Bochs, or kills it after
# BOCHS_TIMEOUT seconds. The Debian build of Bochs has the internal
# debugger, so a "c" command starts the run and the 0xE9 output follows the
# debugger's first "(0) [...]" line on stdout.
#
# Needs: bochs, bochsbios, vgabios (apt-get install -y bochs bochsbios vgabios).
# Usage: test-roms/run-bochs.sh [--keep DIR] [NAME.bin ...]
set -uo pipefail
cd "$(dirname "$0")"
keep=""
if [ "${1:-}" = "--keep" ]; then keep=$2; shift 2; fi
if [ $# -eq 0 ]; then set -- *.bin; fi
TIMEOUT=${BOCHS_TIMEOUT:-30}
command -v bochs >/dev/null || { echo "run-bochs.sh: bochs is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'c\n' > "$tmp/cmds"
bad=0
known=$(grep -v '^[#[:space:]]' BOCHS-DIFFS 2>/dev/null | sed -n 's/^\([^: ]*\).*/\1/p')
for rom in "$@"; do
    name="${rom%.bin}"
    cat > "$tmp/bochsrc" <<RC
megs: 128
romimage: file=$PWD/$rom, address=0xffff0000
vgaromimage: file=/usr/share/vgabios/vgabios.bin
vga: extension=none
display_library: rfb, options="timeout=0"
port_e9_hack: enabled=1
log: $tmp/bochs.log
cpu: count=1, ips=50000000, reset_on_triple_fault=0
clock: sync=none
sound: driver=dummy
RC
    rm -f "$tmp/bochs.log"
    bochs -q -f "$tmp/bochsrc" -rc "$tmp/cmds" > "$tmp/out" 2>/dev/null </dev/null &
    pid=$!
    for _ in $(seq $((TIMEOUT * 10))); do
        sleep 0.1
        kill -0 "$pid" 2>/dev/null || break
        if grep -aqE "HLT instruction with IF=0|triple fault|shutdown" "$tmp/bochs.log" 2>/dev/null; then
            sleep 0.2
            break
        fi
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # the 0xE9 output starts after the debugger's "(0) [addr] ..." line
    # (awk ends the last line with a newline: the logs all end with one)
    awk 'f { print; next } /^\(0\) \[/ { f = 1 }' "$tmp/out" > "$tmp/log2"
    if [ -n "$keep" ]; then cp "$tmp/log2" "$keep/$name.bochs"; fi
    if cmp -s "$tmp/log2" "$name.expected"; then
        echo "same $name"
    elif printf '%s\n' $known | grep -qx "$name"; then
        echo "DIFF $name (known Bochs bug, see BOCHS-DIFFS)"
    else
        echo "DIFF $name"
        diff -u "$name.expected" "$tmp/log2" | head -${DIFF_LINES:-20}
        bad=1
    fi
done
exit $bad
