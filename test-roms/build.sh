#!/usr/bin/env bash
# Reassemble every test ROM (NAME.asm -> NAME.bin, 64 KiB) with NASM.
# Usage: test-roms/build.sh [NAME.asm ...]
set -euo pipefail
cd "$(dirname "$0")"
command -v nasm >/dev/null || { echo "build.sh: nasm is not installed" >&2; exit 1; }
if [ $# -eq 0 ]; then set -- *.asm; fi
for src in "$@"; do
    bin="${src%.asm}.bin"
    nasm -f bin -Werror -o "$bin" "$src"
    size=$(stat -c %s "$bin")
    if [ "$size" -ne 65536 ]; then
        echo "build.sh: $bin is $size bytes, expected 65536" >&2
        exit 1
    fi
    echo "built $bin"
done
