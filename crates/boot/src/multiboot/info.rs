//! The Multiboot information structure (Multiboot Specification 0.6.96,
//! §3.3 "Boot information format") with what it points to, built as one
//! blob: the structure, the memory map (§3.3, `mmap_*`: entries of size,
//! base_addr, length, type), the GDT the entry state loads, the command
//! line, the boot loader's name, the module list (§3.3, `mods_*`: 16-byte
//! entries mod_start, mod_end, string, reserved) and the modules' strings.
//! The modules themselves are separate blobs placed after this one.

use crate::entry;
use crate::layout::{E820Entry, E820Kind, HIGH_MEMORY_START};
use crate::plan::EntryMode;

/// `flags` bits (§3.3).
const INFO_MEMORY: u32 = 1 << 0;
const INFO_CMDLINE: u32 = 1 << 2;
const INFO_MODS: u32 = 1 << 3;
const INFO_MEM_MAP: u32 = 1 << 6;
const INFO_BOOT_LOADER_NAME: u32 = 1 << 9;

/// Bytes reserved for the structure: it ends at 116 with the framebuffer
/// fields of 0.6.96, which stay zero (flags 11 and 12 clear).
const INFO_LEN: usize = 0x80;
const MMAP_ENTRY_LEN: usize = 24;
const MODULE_ENTRY_LEN: usize = 16;
const BOOT_LOADER_NAME: &[u8] = b"xlat\0";

/// Where each part of the blob lies, relative to its start.
#[derive(Debug)]
pub(crate) struct InfoLayout {
    mmap: usize,
    gdt: usize,
    cmdline: usize,
    loader_name: usize,
    mods: usize,
    mod_strings: Vec<usize>,
    pub(crate) len: usize,
}

impl InfoLayout {
    pub(crate) fn new(map_entries: usize, cmdline: &str, module_cmdlines: &[&str]) -> InfoLayout {
        let mmap = INFO_LEN;
        let gdt = (mmap + map_entries * MMAP_ENTRY_LEN).next_multiple_of(8);
        let cmdline_off = gdt + entry::gdt(EntryMode::Protected32).len();
        let loader_name = cmdline_off + cmdline.len() + 1;
        let mods = (loader_name + BOOT_LOADER_NAME.len()).next_multiple_of(4);
        let mut at = mods + module_cmdlines.len() * MODULE_ENTRY_LEN;
        let mut mod_strings = Vec::with_capacity(module_cmdlines.len());
        for s in module_cmdlines {
            mod_strings.push(at);
            at += s.len() + 1;
        }
        InfoLayout {
            mmap,
            gdt,
            cmdline: cmdline_off,
            loader_name,
            mods,
            mod_strings,
            len: at,
        }
    }

    /// Absolute address of the GDT when the blob is at `base`.
    pub(crate) fn gdt_addr(&self, base: u64) -> u64 {
        base + self.gdt as u64
    }
}

/// A loaded module: where it is and its string.
pub(crate) struct PlacedModule<'s> {
    pub start: u64,
    pub end: u64,
    pub cmdline: &'s str,
}

/// The blob's bytes for `base`, every pointer in it absolute. All
/// addresses are below 4 GiB (the placer keeps everything in RAM, which
/// ends at or below 4 GiB), so the 32-bit fields hold them exactly.
pub(crate) fn build(
    layout: &InfoLayout,
    base: u64,
    map: &[E820Entry],
    cmdline: &str,
    modules: &[PlacedModule<'_>],
) -> Vec<u8> {
    let mut b = vec![0u8; layout.len];
    let abs = |off: usize| (base + off as u64) as u32;
    let put32 =
        |b: &mut Vec<u8>, off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    let put64 =
        |b: &mut Vec<u8>, off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_le_bytes());

    // mem_lower: KiB of RAM from 0 (at most 640); mem_upper: KiB of RAM
    // from 1 MiB up to the first hole (§3.3).
    let kib_from = |start: u64| {
        map.iter()
            .find(|e| e.kind == E820Kind::Ram && e.addr == start)
            .map_or(0, |e| (e.size / 1024) as u32)
    };
    put32(
        &mut b,
        0,
        INFO_MEMORY | INFO_CMDLINE | INFO_MODS | INFO_MEM_MAP | INFO_BOOT_LOADER_NAME,
    );
    put32(&mut b, 4, kib_from(0).min(640));
    put32(&mut b, 8, kib_from(HIGH_MEMORY_START));
    put32(&mut b, 16, abs(layout.cmdline));
    put32(&mut b, 20, modules.len() as u32);
    put32(&mut b, 24, abs(layout.mods));
    put32(&mut b, 44, (map.len() * MMAP_ENTRY_LEN) as u32);
    put32(&mut b, 48, abs(layout.mmap));
    put32(&mut b, 64, abs(layout.loader_name));

    for (i, e) in map.iter().enumerate() {
        let off = layout.mmap + i * MMAP_ENTRY_LEN;
        // `size` counts the entry without itself.
        put32(&mut b, off, (MMAP_ENTRY_LEN - 4) as u32);
        put64(&mut b, off + 4, e.addr);
        put64(&mut b, off + 12, e.size);
        put32(&mut b, off + 20, e.kind as u32);
    }
    let gdt = entry::gdt(EntryMode::Protected32);
    b[layout.gdt..layout.gdt + gdt.len()].copy_from_slice(&gdt);
    b[layout.cmdline..layout.cmdline + cmdline.len()].copy_from_slice(cmdline.as_bytes());
    b[layout.loader_name..layout.loader_name + BOOT_LOADER_NAME.len()]
        .copy_from_slice(BOOT_LOADER_NAME);
    for (i, (m, &string_off)) in modules.iter().zip(&layout.mod_strings).enumerate() {
        let off = layout.mods + i * MODULE_ENTRY_LEN;
        put32(&mut b, off, m.start as u32);
        put32(&mut b, off + 4, m.end as u32);
        put32(&mut b, off + 8, abs(string_off));
        b[string_off..string_off + m.cmdline.len()].copy_from_slice(m.cmdline.as_bytes());
    }
    b
}
