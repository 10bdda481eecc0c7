//! The Multiboot loader against synthetic ELF32 and a.out-kludge kernels:
//! the information structure read back by hand at the offsets of the
//! Multiboot Specification 0.6.96 §3.3, the entry state of §3.2, and each
//! rejection.

mod common;

use boot::multiboot::{self, parse_module_list, ModuleSpec};
use boot::{
    EntryMode, KernelFormat, LayoutError, MemoryLayout, MultibootError, MultibootModule,
    MultibootParams,
};
use common::*;
use cpu_model::{CpuMode, CpuState};

const MIB: u64 = 1 << 20;

/// An ELF32 Multiboot kernel at 1 MiB: the header first in its text, the
/// entry 0x40 bytes in, 0x3000 bytes of BSS after 0x1000 of data.
fn elf_kernel(flags: u32) -> Vec<u8> {
    let mut text = multiboot_header(flags, None);
    text.extend(pattern(0x1000 - text.len(), 7));
    elf32(3, 0x10_0040, &[(0x10_0000, 0x10_0000, text, 0x4000)])
}

fn layout() -> MemoryLayout {
    MemoryLayout::new(32 * MIB, Some(0xe0000..0x100000)).unwrap()
}

#[test]
fn elf_kernel_with_modules() {
    let image = elf_kernel(0x3);
    let m0 = pattern(0x1234, 1);
    let m1 = pattern(0x10, 2);
    let modules = [
        MultibootModule {
            bytes: &m0,
            cmdline: "mod0.bin arg=1",
        },
        MultibootModule {
            bytes: &m1,
            cmdline: "mod1.bin",
        },
    ];
    let params = MultibootParams {
        cmdline: "kernel.elf console=com1",
        modules: &modules,
    };
    let layout = layout();
    let plan = multiboot::load(&image, &layout, &params).unwrap();
    check_plan_invariants(&plan, &layout);
    assert_eq!(plan.format, KernelFormat::Multiboot { aout_kludge: false });
    let k = plan.blob("kernel segment 0").unwrap();
    assert_eq!(
        (k.addr, k.bytes.len() as u64, k.zero_fill),
        (0x10_0000, 0x1000, 0x3000)
    );

    // §3.2: EAX magic, EBX info, flat 32-bit protected mode, paging and
    // interrupts off.
    let e = &plan.entry;
    assert_eq!(e.mode, EntryMode::Protected32);
    assert_eq!(e.rip, 0x10_0040);
    assert_eq!(e.gpr[0], 0x2bad_b002);
    let info_addr = e.gpr[3];
    assert!(e.a20_enabled);
    let mut state = CpuState::reset();
    e.apply(&mut state);
    assert_eq!(state.mode(), CpuMode::Protected32);
    assert_eq!(state.cr0 & 0x8000_0001, 1);
    assert_eq!(state.rflags & ((1 << 9) | (1 << 17)), 0);
    // The GDT the segments came from is in memory, with the selectors used.
    let gdt = read(&plan, e.gdtr.base, usize::from(e.gdtr.limit) + 1);
    assert_eq!(
        get64(&gdt, usize::from(e.cs.selector)),
        0x00cf_9b00_0000_ffff
    );
    assert_eq!(
        get64(&gdt, usize::from(e.data.selector)),
        0x00cf_9300_0000_ffff
    );

    // The information structure, after the kernel (including its BSS).
    assert!(info_addr >= 0x10_4000);
    let info = read(&plan, info_addr, 0x80);
    let flags = get32(&info, 0);
    assert_eq!(flags, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9));
    assert_eq!(get32(&info, 4), 639, "mem_lower");
    assert_eq!(get32(&info, 8), 31 * 1024, "mem_upper");
    assert_eq!(
        read_cstr(&plan, u64::from(get32(&info, 16))),
        "kernel.elf console=com1"
    );
    assert_eq!(read_cstr(&plan, u64::from(get32(&info, 64))), "xlat");
    // Modules: page-aligned, after the info, contents and strings.
    assert_eq!(get32(&info, 20), 2);
    let mods = u64::from(get32(&info, 24));
    let mut prev_end = info_addr;
    for (i, (bytes, name)) in [(&m0, "mod0.bin arg=1"), (&m1, "mod1.bin")]
        .iter()
        .enumerate()
    {
        let entry = read(&plan, mods + 16 * i as u64, 16);
        let (start, end) = (u64::from(get32(&entry, 0)), u64::from(get32(&entry, 4)));
        assert_eq!(start % 4096, 0);
        assert!(start >= prev_end);
        assert_eq!(end - start, bytes.len() as u64);
        assert_eq!(&read(&plan, start, bytes.len()), *bytes);
        assert_eq!(read_cstr(&plan, u64::from(get32(&entry, 8))), *name);
        prev_end = end;
    }
    // The memory map: size-prefixed entries equal to the layout's E820.
    let mmap_len = get32(&info, 44) as usize;
    let mmap = read(&plan, u64::from(get32(&info, 48)), mmap_len);
    let mut off = 0;
    let mut entries = Vec::new();
    while off < mmap_len {
        let size = get32(&mmap, off) as usize;
        entries.push((
            get64(&mmap, off + 4),
            get64(&mmap, off + 12),
            get32(&mmap, off + 20),
        ));
        off += size + 4;
    }
    let expect: Vec<_> = layout
        .e820()
        .iter()
        .map(|e| (e.addr, e.size, e.kind as u32))
        .collect();
    assert_eq!(entries, expect);
    assert_eq!(entries[2], (MIB, 31 * MIB, 1));
}

#[test]
fn aout_kludge_kernel() {
    // A flat binary loaded at 1 MiB with the header 0x20 bytes in; 0x800
    // bytes of file, BSS up to 0x2000.
    let load = 0x10_0000u32;
    let addresses = [load + 0x20, load, 0, load + 0x2000, load + 0x100];
    let mut image = pattern(0x20, 3);
    image.extend(multiboot_header(0x1_0002, Some(addresses)));
    image.resize(0x800, 0xcc);
    let layout = layout();
    let plan = multiboot::load(&image, &layout, &MultibootParams::default()).unwrap();
    check_plan_invariants(&plan, &layout);
    assert_eq!(plan.format, KernelFormat::Multiboot { aout_kludge: true });
    let k = plan.blob("kernel segment 0").unwrap();
    assert_eq!((k.addr, k.zero_fill), (0x10_0000, 0x2000 - 0x800));
    assert_eq!(&k.bytes[..], &image[..]);
    assert_eq!(plan.entry.rip, 0x10_0100);
    let info = read(&plan, plan.entry.gpr[3], 0x80);
    assert_eq!(get32(&info, 20), 0, "no modules");
    assert_eq!(read_cstr(&plan, u64::from(get32(&info, 16))), "");

    // load_end_addr given: only that much of the file; the text starts
    // header_addr - load_addr before the header (here 0x10 into the file).
    let addresses = [load + 0x10, load, load + 0x400, 0, load];
    let mut image = pattern(0x20, 3);
    image.extend(multiboot_header(0x1_0000, Some(addresses)));
    image.resize(0x800, 0xcc);
    let plan = multiboot::load(&image, &layout, &MultibootParams::default()).unwrap();
    let k = plan.blob("kernel segment 0").unwrap();
    assert_eq!(&k.bytes[..], &image[0x10..0x410]);
    assert_eq!(k.zero_fill, 0);
}

#[test]
fn header_search() {
    // At the last aligned place within 8192 bytes: found; past it: not.
    let mut image = vec![0u8; 8192 - 12];
    image.extend(multiboot_header(0, None));
    assert_eq!(multiboot::find_header(&image).unwrap().offset, 8192 - 12);
    let mut image = vec![0u8; 8192];
    image.extend(multiboot_header(0, None));
    assert_eq!(
        multiboot::find_header(&image).unwrap_err(),
        MultibootError::NoHeader
    );
    // Not 4-byte aligned: not a header.
    let mut image = vec![0u8; 2];
    image.extend(multiboot_header(0, None));
    assert_eq!(
        multiboot::find_header(&image).unwrap_err(),
        MultibootError::NoHeader
    );
    // A bad checksum is reported; a later good header is still found.
    let mut bad = multiboot_header(0, None);
    bad[8] ^= 1;
    assert_eq!(
        multiboot::find_header(&bad).unwrap_err(),
        MultibootError::BadChecksum { offset: 0 }
    );
    let mut image = bad.clone();
    image.extend(multiboot_header(2, None));
    assert_eq!(multiboot::find_header(&image).unwrap().offset, 12);
    // The address fields cut off by the end of the window.
    let mut image = vec![0u8; 8192 - 16];
    image.extend(multiboot_header(0x1_0000, Some([0; 5])));
    assert_eq!(
        multiboot::find_header(&image).unwrap_err(),
        MultibootError::TruncatedHeader { offset: 8192 - 16 }
    );
}

#[test]
fn bad_multiboot_kernels() {
    let layout = layout();
    let none = MultibootParams::default();
    let load = |image: &[u8]| {
        multiboot::load(image, &layout, &none)
            .map(|_| ())
            .unwrap_err()
    };
    let aout = |a: [u32; 5], file_len: usize| {
        let mut image = multiboot_header(0x1_0000, Some(a));
        image.resize(file_len, 0x90);
        image
    };
    let m = 0x10_0000u32;

    // Requirements xlat does not meet (bits 3..15); bit 2 (video) is fine.
    assert_eq!(
        load(&elf_kernel(1 << 3)),
        MultibootError::UnsupportedRequirements(1 << 3)
    );
    assert_eq!(
        load(&elf_kernel(0x8004)),
        MultibootError::UnsupportedRequirements(0x8000)
    );
    assert!(multiboot::load(&elf_kernel(0x4), &layout, &none).is_ok());
    // Neither ELF nor address fields.
    let mut flat = multiboot_header(0, None);
    flat.resize(0x100, 0);
    assert_eq!(load(&flat), MultibootError::NotElfNoAddresses);
    // A 64-bit ELF file.
    let mut text = multiboot_header(0, None);
    text.resize(0x100, 0);
    let elf64_kernel = elf64(0x10_0000, &[(0x10_0000, 0x10_0000, text, 0x100)]);
    assert_eq!(load(&elf64_kernel), MultibootError::WrongElfClass(64, 62));
    // a.out: load_addr above header_addr; the text before the file start;
    // load_end before load_addr; more to load than the file has; BSS end
    // before the load end; entry outside.
    assert!(matches!(
        load(&aout([m, m + 4, 0, 0, m + 4], 0x100)),
        MultibootError::BadAddresses(_)
    ));
    assert!(matches!(
        load(&aout([m + 0x40, m, 0, 0, m], 0x100)),
        MultibootError::BadAddresses(_)
    ));
    assert!(matches!(
        load(&aout([m, m, m, 0, m], 0x100)),
        MultibootError::BadAddresses(_)
    ));
    assert!(matches!(
        load(&aout([m, m, m + 0x200, 0, m], 0x100)),
        MultibootError::BadAddresses(_)
    ));
    assert!(matches!(
        load(&aout([m, m, m + 0x80, m + 0x40, m], 0x100)),
        MultibootError::BadAddresses(_)
    ));
    assert!(matches!(
        load(&aout([m, m, 0, 0, m + 0x100], 0x100)),
        MultibootError::BadAddresses(_)
    ));
    assert!(matches!(
        load(&aout([m, m, 0, 0, m - 1], 0x100)),
        MultibootError::BadAddresses(_)
    ));
    // Where RAM is not: in the BIOS hole, beyond RAM, a BSS to 4 GiB.
    assert!(matches!(
        load(&aout([0xa_0000, 0xa_0000, 0, 0, 0xa_0000], 0x100)),
        MultibootError::Layout(LayoutError::OutsideRam { .. })
    ));
    assert!(matches!(
        load(&aout([0x400_0000, 0x400_0000, 0, 0, 0x400_0000], 0x100)),
        MultibootError::Layout(LayoutError::OutsideRam { .. })
    ));
    assert!(matches!(
        load(&aout([m, m, 0, u32::MAX, m], 0x100)),
        MultibootError::Layout(LayoutError::OutsideRam { .. })
    ));
    // Overlapping ELF segments.
    let mut text = multiboot_header(0, None);
    text.resize(0x1000, 0);
    let overlap = elf32(
        3,
        0x10_0000,
        &[
            (0x10_0000, 0x10_0000, text.clone(), 0x1000),
            (0, 0x10_0800, text, 0x1000),
        ],
    );
    assert!(matches!(
        load(&overlap),
        MultibootError::Layout(LayoutError::Overlap { .. })
    ));
    // A module larger than RAM; a NUL in a command line.
    let big = vec![0u8; 32 << 20];
    let modules = [MultibootModule {
        bytes: &big,
        cmdline: "big",
    }];
    let params = MultibootParams {
        cmdline: "",
        modules: &modules,
    };
    assert!(matches!(
        multiboot::load(&elf_kernel(0), &layout, &params).unwrap_err(),
        MultibootError::Layout(LayoutError::NoRoom { .. })
    ));
    let params = MultibootParams {
        cmdline: "k\0",
        modules: &[],
    };
    assert!(matches!(
        multiboot::load(&elf_kernel(0), &layout, &params).unwrap_err(),
        MultibootError::CmdlineNul { .. }
    ));
}

#[test]
fn module_lists_as_qemu_splits_them() {
    let spec = |path: &str, cmdline: &str| ModuleSpec {
        path: path.into(),
        cmdline: cmdline.into(),
    };
    assert_eq!(
        parse_module_list("a.bin arg1 arg2,b.bin"),
        vec![spec("a.bin", "a.bin arg1 arg2"), spec("b.bin", "b.bin")]
    );
    assert_eq!(parse_module_list("x,,y z"), vec![spec("x,y", "x,y z")]);
    assert_eq!(parse_module_list(""), vec![]);
    assert_eq!(
        parse_module_list("a,,,b"),
        vec![spec("a,", "a,"), spec("b", "b")]
    );
    assert_eq!(parse_module_list("a,,b,"), vec![spec("a,b", "a,b")]);
}

#[test]
fn multiboot_is_detected_before_elf() {
    let layout = layout();
    let image = elf_kernel(0);
    let params = boot::KernelParams {
        multiboot_cmdline: "k",
        ..Default::default()
    };
    let plan = boot::load(&image, &layout, &params).unwrap();
    assert_eq!(plan.format, KernelFormat::Multiboot { aout_kludge: false });
    assert_eq!(plan.entry.gpr[0], 0x2bad_b002);
}
