//! The processor states the boot protocols enter kernels in, and the
//! tables they need in guest memory (a GDT; identity-mapped page tables for
//! 64-bit entry).
//!
//! * Linux 32-bit boot protocol (Documentation/arch/x86/boot.rst, "32-bit
//!   Boot Protocol"): protected mode, paging off, a GDT with flat 4 GiB
//!   __BOOT_CS (0x10, execute/read) and __BOOT_DS (0x18, read/write), CS =
//!   __BOOT_CS, DS = ES = SS = __BOOT_DS, interrupts off, ESI = boot_params,
//!   EBP = EDI = EBX = 0.
//! * Linux 64-bit boot protocol (same file, "64-bit Boot Protocol"): 64-bit
//!   mode with paging, the kernel, boot_params and the command line
//!   identity-mapped, the same GDT selectors (CS with L = 1), interrupts
//!   off, RSI = boot_params.
//! * Multiboot 0.6.96 §3.2 "Machine state": EAX = 0x2BADB002, EBX = the
//!   info structure, CS a flat 32-bit execute/read segment, DS/ES/FS/GS/SS
//!   flat 32-bit read/write, A20 on, CR0.PG = 0 and PE = 1, EFLAGS.VM = IF
//!   = 0.
//!
//! Descriptor formats: SDM Vol. 3A §3.4.5; IA-32e paging with 2-MiB pages:
//! SDM Vol. 3A §4.5.

use crate::plan::{EntryMode, EntryState};
use cpu_model::flags;
use cpu_model::state::{cr0, cr4, efer, reg, DescriptorTable, Segment};

/// Where the GDT goes: 0x500, the first byte after the real-mode IVT and
/// the BIOS data area that nothing else claims.
pub const GDT_ADDR: u64 = 0x500;
/// __BOOT_CS of the Linux boot protocol.
pub const BOOT_CS: u16 = 0x10;
/// __BOOT_DS of the Linux boot protocol.
pub const BOOT_DS: u16 = 0x18;
/// Where the page tables for 64-bit entry go: PML4, PDPT, then four page
/// directories (4 GiB in 2-MiB pages), 24 KiB below the zero page's
/// neighbourhood and the command line.
pub const PAGE_TABLES_ADDR: u64 = 0x9000;
/// Bytes of the page tables: six 4-KiB tables.
pub const PAGE_TABLES_LEN: u64 = 6 * 4096;

/// Flat 4-GiB code segment, execute/read, accessed, DPL 0, 32-bit (D = 1,
/// G = 1).
const CODE32_DESCRIPTOR: u64 = 0x00cf_9b00_0000_ffff;
/// The same for 64-bit mode: L = 1, D = 0.
const CODE64_DESCRIPTOR: u64 = 0x00af_9b00_0000_ffff;
/// Flat 4-GiB data segment, read/write, accessed, DPL 0, B = 1, G = 1.
const DATA_DESCRIPTOR: u64 = 0x00cf_9300_0000_ffff;

/// The GDT's bytes: null, unused, __BOOT_CS, __BOOT_DS.
pub fn gdt(mode: EntryMode) -> Vec<u8> {
    let code = match mode {
        EntryMode::Protected32 => CODE32_DESCRIPTOR,
        EntryMode::Long64 => CODE64_DESCRIPTOR,
    };
    [0, 0, code, DATA_DESCRIPTOR]
        .iter()
        .flat_map(|d: &u64| d.to_le_bytes())
        .collect()
}

/// The segment register contents a load of `selector` with `descriptor`
/// gives: base, byte-granular limit and the attribute bytes 5 and 6
/// without the limit's high nibble, as [`Segment::attrs`] packs them.
fn segment(selector: u16, descriptor: u64) -> Segment {
    let base = ((descriptor >> 16) & 0xff_ffff) | (((descriptor >> 56) & 0xff) << 24);
    let raw_limit = (descriptor & 0xffff) | (((descriptor >> 48) & 0xf) << 16);
    let attrs = ((descriptor >> 40) as u16) & 0xf0ff;
    let limit = if attrs & cpu_model::state::attr::G != 0 {
        (raw_limit << 12) | 0xfff
    } else {
        raw_limit
    };
    Segment {
        base,
        limit: limit as u32,
        selector,
        attrs,
    }
}

/// Page tables mapping the first 4 GiB of linear addresses to the same
/// physical addresses with 2-MiB pages, for a PML4 at
/// [`PAGE_TABLES_ADDR`]. Present and writable, supervisor, write-back.
pub fn identity_page_tables() -> Vec<u8> {
    const PRESENT_WRITABLE: u64 = 0x3;
    const PAGE_SIZE_2M: u64 = 0x80;
    let table = |i: u64| PAGE_TABLES_ADDR + i * 4096;
    let mut entries = vec![0u64; 6 * 512];
    // PML4[0] → PDPT; PDPT[0..4] → the four page directories.
    entries[0] = table(1) | PRESENT_WRITABLE;
    for gib in 0..4u64 {
        entries[512 + gib as usize] = table(2 + gib) | PRESENT_WRITABLE;
        for mib2 in 0..512u64 {
            let phys = (gib << 30) | (mib2 << 21);
            entries[(2 + gib as usize) * 512 + mib2 as usize] =
                phys | PRESENT_WRITABLE | PAGE_SIZE_2M;
        }
    }
    entries.iter().flat_map(|e| e.to_le_bytes()).collect()
}

fn base_state(mode: EntryMode, rip: u64, gdt_base: u64) -> EntryState {
    let (code, cr0, cr3, cr4, efer) = match mode {
        EntryMode::Protected32 => (CODE32_DESCRIPTOR, cr0::PE | cr0::ET, 0, 0, 0),
        EntryMode::Long64 => (
            CODE64_DESCRIPTOR,
            cr0::PE | cr0::ET | cr0::PG,
            PAGE_TABLES_ADDR,
            cr4::PAE,
            efer::LME | efer::LMA,
        ),
    };
    EntryState {
        mode,
        rip,
        gpr: [0; 16],
        // IF = 0 (interrupts off), VM = 0: only the fixed bit 1.
        rflags: flags::FIXED,
        cr0,
        cr3,
        cr4,
        efer,
        cs: segment(BOOT_CS, code),
        data: segment(BOOT_DS, DATA_DESCRIPTOR),
        gdtr: DescriptorTable {
            base: gdt_base,
            limit: 4 * 8 - 1,
        },
        idtr: DescriptorTable { base: 0, limit: 0 },
        a20_enabled: true,
    }
}

/// Linux's entry: `rip` is startup_32 (32-bit) or startup_64 (64-bit);
/// RSI/ESI = the zero page; the GDT at [`GDT_ADDR`].
pub fn linux(mode: EntryMode, rip: u64, boot_params: u64) -> EntryState {
    let mut s = base_state(mode, rip, GDT_ADDR);
    s.gpr[reg::RSI] = boot_params;
    s
}

/// The value Multiboot puts in EAX (§3.2).
pub const MULTIBOOT_BOOTLOADER_MAGIC: u32 = 0x2bad_b002;

/// Multiboot's entry at `rip` with EBX = the info structure and the GDT
/// ([`gdt`] of [`EntryMode::Protected32`]) at `gdt_base`.
pub fn multiboot(rip: u64, info: u64, gdt_base: u64) -> EntryState {
    let mut s = base_state(EntryMode::Protected32, rip, gdt_base);
    s.gpr[reg::RAX] = u64::from(MULTIBOOT_BOOTLOADER_MAGIC);
    s.gpr[reg::RBX] = info;
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpu_model::state::attr;

    #[test]
    fn descriptors_decode_flat() {
        let cs = segment(BOOT_CS, CODE64_DESCRIPTOR);
        assert_eq!((cs.base, cs.limit), (0, 0xffff_ffff));
        assert!(cs.is_code() && cs.long() && !cs.big() && cs.present());
        let cs = segment(BOOT_CS, CODE32_DESCRIPTOR);
        assert!(cs.is_code() && !cs.long() && cs.big());
        let ds = segment(BOOT_DS, DATA_DESCRIPTOR);
        assert!(!ds.is_code() && ds.attrs & attr::RW != 0 && ds.big());
        assert_eq!(ds.limit, 0xffff_ffff);
    }

    #[test]
    fn gdt_selectors_index_the_descriptors() {
        let g = gdt(EntryMode::Long64);
        assert_eq!(g.len(), 32);
        let at =
            |sel: u16| u64::from_le_bytes(g[sel as usize..sel as usize + 8].try_into().unwrap());
        assert_eq!(at(BOOT_CS), CODE64_DESCRIPTOR);
        assert_eq!(at(BOOT_DS), DATA_DESCRIPTOR);
        assert_eq!(at(0), 0);
    }

    #[test]
    fn page_tables_identity_map_4gib() {
        let t = identity_page_tables();
        assert_eq!(t.len() as u64, PAGE_TABLES_LEN);
        let entry = |table_addr: u64, index: u64| {
            let off = (table_addr - PAGE_TABLES_ADDR + index * 8) as usize;
            u64::from_le_bytes(t[off..off + 8].try_into().unwrap())
        };
        // Walk a few linear addresses the way the MMU does.
        for linear in [0u64, 0x1234_5678, 0x7fff_ffff, 0xfee0_0000, 0xffff_ffff] {
            let pml4e = entry(PAGE_TABLES_ADDR, (linear >> 39) & 0x1ff);
            assert_eq!(pml4e & 1, 1);
            let pdpte = entry(pml4e & !0xfff, (linear >> 30) & 0x1ff);
            assert_eq!(pdpte & 0x81, 1, "PDPTE present, not a 1-GiB page");
            let pde = entry(pdpte & !0xfff, (linear >> 21) & 0x1ff);
            assert_eq!(pde & 0x83, 0x83);
            assert_eq!(
                (pde & !0x1f_ffff & 0xf_ffff_ffff_f000) | (linear & 0x1f_ffff),
                linear
            );
        }
        // Beyond 4 GiB: not present.
        assert_eq!(entry(PAGE_TABLES_ADDR + 4096, 4), 0);
    }
}
