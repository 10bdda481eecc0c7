#!/usr/bin/env bash
# Prepares the Linux guest of issue #11 from Debian's packages only:
#
#   * the kernel: the package `linux-image-amd64` depends on (the current
#     versioned `linux-image-X.Y.Z-N-amd64`), fetched with `apt-get download`
#     and unpacked with `dpkg-deb -x`; its /boot/vmlinuz-* is the bzImage;
#   * an initramfs (cpio "newc", gzip) holding `busybox-static` and an /init
#     that mounts proc, sysfs and devtmpfs and starts a shell on the console.
#
# No root is needed: `apt-get download` writes into the current directory and
# nothing is installed. When `cpio` is not installed, the `cpio` package is
# downloaded and unpacked into the cache the same way and its binary used.
#
# Everything lands in a cache directory ($XLAT_GUEST_CACHE, by default
# ~/.cache/xlat/debian) and a second run reuses it: packages are downloaded
# only when the version apt resolves to is not unpacked there yet (the .deb
# files are not kept), and the initramfs is rebuilt only when busybox or the
# /init below changed.
#
# Output (stdout), one `name=path` line each, for scripts:
#   kernel=/…/vmlinuz-6.1.0-NN-amd64
#   initrd=/…/initramfs-busybox-VERSION.cpio.gz
#   kernel_version=6.1.0-NN-amd64
# Progress and errors go to stderr. It does not boot anything.
#
# Usage: tools/debian-guest.sh [--cache DIR]

set -euo pipefail

die() {
    echo "debian-guest: error: $*" >&2
    exit 1
}

note() {
    echo "debian-guest: $*" >&2
}

cache="${XLAT_GUEST_CACHE:-${HOME:-}/.cache/xlat/debian}"
while [ $# -gt 0 ]; do
    case "$1" in
    --cache)
        [ $# -ge 2 ] || die "--cache needs a directory"
        cache="$2"
        shift 2
        ;;
    -h | --help)
        sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        die "unknown argument '$1' (usage: $0 [--cache DIR])"
        ;;
    esac
done
[ -n "$cache" ] || die "no cache directory: set XLAT_GUEST_CACHE or HOME"

for tool in apt-get apt-cache dpkg-deb gzip find sort sha256sum; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' is missing; this script needs a Debian (or derived) system with apt and dpkg"
done

# apt-get download run by root warns that its sandbox user (_apt) cannot
# write into the cache; a user's cache is not for _apt to write anyway.
apt_options=()
[ "$(id -u)" != 0 ] || apt_options=(-o APT::Sandbox::User=root)

mkdir -p "$cache/debs" "$cache/unpacked" || die "cannot create the cache directory $cache"
cache="$(cd "$cache" && pwd)"

# The version apt would install for PACKAGE (its candidate), or nothing.
candidate_version() {
    apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '^(none)$' || true
}

# Makes sure PACKAGE at its candidate version is unpacked in
# $cache/unpacked/PACKAGE_VERSION (downloaded with apt-get download, unpacked
# with dpkg-deb -x, the .deb then deleted); prints that directory. With a
# second argument, only that top-level directory of the package is kept
# (the kernel package's /boot: its 400 MiB of modules are not needed).
fetch_unpacked() {
    local package="$1" keep="${2:-}" version dir deb
    version="$(candidate_version "$package")"
    [ -n "$version" ] ||
        die "apt knows no package '$package'; run 'apt-get update' (as root) so the package lists are current"
    # The epoch's ':' would be awkward in paths (apt-get download writes
    # it as '%3a').
    dir="$cache/unpacked/${package}_${version//:/_}"
    if [ ! -e "$dir/.complete" ]; then
        note "downloading $package $version"
        rm -rf "$dir" "$cache/debs/$package"
        mkdir -p "$dir" "$cache/debs/$package"
        (cd "$cache/debs/$package" && apt-get download -q "${apt_options[@]}" "$package=$version" >&2) ||
            die "apt-get download $package=$version failed (network, or stale lists: 'apt-get update')"
        deb="$(find "$cache/debs/$package" -maxdepth 1 -name '*.deb' | head -n 1)"
        [ -n "$deb" ] && [ -s "$deb" ] || die "apt-get download left no .deb for $package $version"
        dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x $deb failed"
        if [ -n "$keep" ]; then
            find "$dir" -mindepth 1 -maxdepth 1 ! -name "$keep" -exec rm -rf {} +
        fi
        rm -rf "$cache/debs/$package"
        touch "$dir/.complete"
    fi
    echo "$dir"
}

# --- the kernel -------------------------------------------------------------

# linux-image-amd64 is a metapackage: its Depends names the versioned image.
kernel_package="$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)"
[ -n "$kernel_package" ] ||
    die "cannot resolve linux-image-amd64 to a versioned kernel package; run 'apt-get update' (as root)"
kernel_dir="$(fetch_unpacked "$kernel_package" boot)"
kernel="$(find "$kernel_dir/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | head -n 1)"
[ -n "$kernel" ] && [ -s "$kernel" ] || die "$kernel_package holds no /boot/vmlinuz-*"
kernel_version="$(basename "$kernel")"
kernel_version="${kernel_version#vmlinuz-}"

# --- busybox and cpio -------------------------------------------------------

busybox_dir="$(fetch_unpacked busybox-static)"
busybox="$busybox_dir/bin/busybox"
[ -x "$busybox" ] || die "busybox-static holds no executable /bin/busybox"

if command -v cpio >/dev/null 2>&1; then
    cpio_bin="$(command -v cpio)"
else
    note "cpio is not installed; using Debian's cpio package unpacked in the cache"
    cpio_bin="$(fetch_unpacked cpio)/bin/cpio"
    [ -x "$cpio_bin" ] || die "the cpio package holds no executable /bin/cpio"
    "$cpio_bin" --version >/dev/null 2>&1 || die "the unpacked $cpio_bin does not run on this system"
fi

# --- the initramfs ----------------------------------------------------------

# /init runs as PID 1. The kernel's built-in initramfs already provides
# /dev/console (usr/default_cpio_list), so the kernel can open the console
# before this runs; devtmpfs then provides the rest of /dev. `cttyhack`
# gives the shell the console as its controlling terminal (Ctrl-C works), in
# a new session (setsid). If the shell exits, the machine powers off rather
# than letting PID 1 die (which would panic the kernel).
init_script='#!/bin/sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /root /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
hostname xlat-guest
export HOME=/root PATH=/sbin:/usr/sbin:/bin:/usr/bin
cd /root
echo "xlat-guest: init ready ($(uname -r))"
setsid cttyhack sh -l
poweroff -f
'

busybox_version="$(basename "$busybox_dir")"
busybox_version="${busybox_version#busybox-static_}"
busybox_version="${busybox_version#*_}" # the epoch only makes the name odd
recipe_hash="$( (sha256sum "$busybox" | cut -d' ' -f1; printf '%s' "$init_script") | sha256sum | cut -c1-12)"
initrd="$cache/initramfs-busybox-${busybox_version}-${recipe_hash}.cpio.gz"

if [ ! -s "$initrd" ]; then
    note "building $initrd"
    staging="$(mktemp -d "$cache/initramfs.XXXXXX")"
    trap 'rm -rf "$staging"' EXIT
    mkdir -p "$staging/bin" "$staging/dev" "$staging/proc" "$staging/sys" \
        "$staging/tmp" "$staging/root" "$staging/etc"
    cp "$busybox" "$staging/bin/busybox"
    ln -s busybox "$staging/bin/sh"
    printf '%s' "$init_script" >"$staging/init"
    chmod 0755 "$staging/init" "$staging/bin/busybox"
    chmod 1777 "$staging/tmp"
    # Files owned by root in the archive whoever runs this (-R 0:0), in a
    # fixed order and with fixed times, so the same inputs give the same
    # archive.
    find "$staging" -exec touch -h -d @0 {} +
    # GNU cpio 2.13 and later also zero the inode and device numbers.
    reproducible=()
    "$cpio_bin" --help 2>/dev/null | grep -q -- --reproducible && reproducible=(--reproducible)
    (cd "$staging" && find . -mindepth 1 | LC_ALL=C sort |
        "$cpio_bin" --quiet -o -H newc -R 0:0 "${reproducible[@]}") | gzip -9 -n >"$initrd.tmp" ||
        die "building the initramfs failed"
    mv "$initrd.tmp" "$initrd"
fi

note "kernel $kernel_version ($(stat -c %s "$kernel") bytes), initramfs $(stat -c %s "$initrd") bytes"
echo "kernel=$kernel"
echo "initrd=$initrd"
echo "kernel_version=$kernel_version"
