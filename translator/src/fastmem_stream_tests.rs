//! Streaming micro slots (`FastMem::stream_range`): a slot whose misses
//! walk forward page by page spans twice as many pages at each miss, only
//! within one mapping page and over host-contiguous memory, and loses its
//! write range when a page in it becomes code.

use super::*;
use cpu_model::memory::FlatBus;
use cpu_model::state::{cr4, Segment};

fn prot32() -> Cpu {
    let mut cpu = Cpu::new();
    cpu.state.cr0 |= cr0::PE;
    for s in SegReg::ALL {
        *cpu.state.segment_mut(s) = Segment {
            base: 0,
            limit: 0xffff_ffff,
            selector: 0x10,
            attrs: attr::P | attr::S | attr::RW | attr::DB | attr::G,
        };
    }
    cpu
}

/// Fill slot 3 for a 16-byte access at `lin`; the micro entry.
fn fill(f: &mut FastMem, cpu: &mut Cpu, bus: &mut FlatBus, lin: u64, write: bool) -> FastEntry {
    let host = f.fill_for_access(cpu, bus, lin, 16, write, 3);
    assert!(host.is_some(), "{lin:#x}");
    f.micro[3]
}

/// (tag, pages) of the slot's read (or write) range.
fn range(e: &FastEntry, write: bool) -> (u64, u64) {
    let (tag, hi) = if write {
        (e.write_tag, e.write_hi)
    } else {
        (e.read_tag, e.read_hi)
    };
    (tag, (hi + MAX_INLINE_ACCESS - tag) >> 12)
}

#[test]
fn a_forward_walk_doubles_the_range_up_to_the_end_of_ram() {
    let mut cpu = prot32();
    let mut bus = FlatBus::new(64 << 12);
    let mut f = FastMem::default();
    f.sync(&cpu);
    let mut page = 0x1000;
    let mut seen = Vec::new();
    while page < 64 << 12 {
        let e = fill(&mut f, &mut cpu, &mut bus, page + 8, true);
        let (tag, pages) = range(&e, true);
        assert_eq!(tag, page);
        assert_eq!(range(&e, false), (tag, pages), "a write range reads too");
        assert_eq!(e.pages, pages);
        // Every byte of the range is the host byte of the same address.
        let host = bus.ram.as_ptr() as u64;
        assert_eq!(tag.wrapping_add(e.addend), host + tag);
        seen.push(pages);
        page += pages << 12;
    }
    // 1, 2, 4, ... and the rest of the 64 pages (RAM ends there).
    assert_eq!(seen, [1, 2, 4, 8, 16, 32]);
    assert_eq!(page, 64 << 12);
    // A jump elsewhere starts over with one page.
    let e = fill(&mut f, &mut cpu, &mut bus, 0x3000, false);
    assert_eq!(range(&e, false), (0x3000, 1));
}

#[test]
fn a_read_range_keeps_the_write_tag_to_its_page_and_code_pages_end_write_ranges() {
    let mut cpu = prot32();
    let mut bus = FlatBus::new(64 << 12);
    let mut f = FastMem::default();
    f.sync(&cpu);
    fill(&mut f, &mut cpu, &mut bus, 0x1000, false);
    let e = fill(&mut f, &mut cpu, &mut bus, 0x2000, false);
    assert_eq!(range(&e, false), (0x2000, 2));
    assert_eq!(e.write_tag, INVALID_TAG);
    // Write ranges: 0x4000 (1), 0x5000-0x6fff (2), 0x7000-0xafff (4).
    for p in [0x4000, 0x5000, 0x7000] {
        fill(&mut f, &mut cpu, &mut bus, p, true);
    }
    let e = f.micro[3];
    assert_eq!(range(&e, true), (0x7000, 4));
    // A block translated from page 9 (inside the range): no more writes
    // through the slot; reads go on.
    f.forget_code_page(9);
    let e = f.micro[3];
    assert_eq!((e.write_tag, e.write_hi), (INVALID_TAG, 0));
    assert_eq!(range(&e, false), (0x7000, 4));
    // A page outside leaves a range alone.
    fill(&mut f, &mut cpu, &mut bus, 0x20000, true);
    fill(&mut f, &mut cpu, &mut bus, 0x21000, true);
    f.forget_code_page(0x23);
    assert_eq!(range(&f.micro[3], true), (0x21000, 2));
}

/// 32-bit paging with a 4 MiB page at 0 (PSE) and 4 KiB pages at 4 MiB.
fn paged() -> (Cpu, FlatBus) {
    let mut cpu = prot32();
    let mut bus = FlatBus::new(12 << 20);
    let pd = 0x9000usize;
    let pt = 0xa000usize;
    let pde = |v: u32| v.to_le_bytes();
    bus.ram[pd..pd + 4].copy_from_slice(&pde(0x83)); // 4 MiB at 0, P RW PS
    bus.ram[pd + 4..pd + 8].copy_from_slice(&pde(pt as u32 | 3));
    for i in 0..1024usize {
        let pte = (0x40_0000 + (i as u32) * 0x1000) | 3;
        bus.ram[pt + 4 * i..pt + 4 * i + 4].copy_from_slice(&pte.to_le_bytes());
    }
    cpu.state.cr3 = pd as u64;
    cpu.state.cr4 |= cr4::PSE;
    cpu.state.cr0 |= cr0::PG;
    (cpu, bus)
}

#[test]
fn ranges_stay_inside_one_large_page_and_4k_pages_never_stream() {
    let (mut cpu, mut bus) = paged();
    let mut f = FastMem::default();
    f.sync(&cpu);
    // Walk the last 8 pages of the 4 MiB page: 1, 2, 4, then the one
    // page left before 4 MiB (not 8).
    let mut seen = Vec::new();
    let mut page = 0x3f_8000;
    while page < 0x40_0000 {
        let e = fill(&mut f, &mut cpu, &mut bus, page, true);
        let (tag, pages) = range(&e, true);
        assert_eq!(tag, page);
        seen.push(pages);
        page += pages << 12;
    }
    assert_eq!(seen, [1, 2, 4, 1]);
    // The next page is a 4 KiB mapping: one page at a time.
    for p in 0..4u64 {
        let e = fill(&mut f, &mut cpu, &mut bus, 0x40_0000 + (p << 12), true);
        assert_eq!(range(&e, true), (0x40_0000 + (p << 12), 1));
    }
}
