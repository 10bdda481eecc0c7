//! The Linux loaders against synthetic bzImages and vmlinux files: where
//! everything lands, the zero page as the kernel reads it (offsets from
//! Documentation/arch/x86/zero-page.rst and boot.rst, read here by hand,
//! not through the loader's structures), the entry state, and each
//! rejection.

mod common;

use boot::linux::{bzimage, vmlinux, LinuxParams, CMDLINE_ADDR, ZERO_PAGE_ADDR};
use boot::{
    BzImageError, EntryMode, KernelFormat, LayoutError, LinuxError, MemoryLayout, VmlinuxError,
};
use common::*;
use cpu_model::{CpuMode, CpuState};

const MIB: u64 = 1 << 20;

fn layout(ram: u64) -> MemoryLayout {
    MemoryLayout::new(ram, Some(0xe0000..0x100000)).unwrap()
}

fn zero_page(plan: &boot::BootPlan<'_>) -> Vec<u8> {
    read(plan, ZERO_PAGE_ADDR, 4096)
}

#[test]
fn bzimage_64bit_entry_at_pref_address() {
    let spec = BzSpec::default();
    let image = spec.build();
    let initrd = pattern(100 << 10, 9);
    let params = LinuxParams {
        cmdline: "console=ttyS0 quiet",
        initrd: Some(&initrd),
        acpi_rsdp: Some(0xf_0000),
    };
    let layout = layout(64 * MIB);
    let plan = bzimage::load(&image, &layout, &params).unwrap();
    check_plan_invariants(&plan, &layout);
    assert_eq!(plan.format, KernelFormat::BzImage { protocol: 0x020f });

    // The protected-mode kernel, without setup or trailer, at pref_address.
    let kernel = plan.blob("kernel").unwrap();
    assert_eq!(kernel.addr, 0x100_0000);
    assert_eq!(
        &kernel.bytes[..],
        &image[spec.setup_len()..spec.setup_len() + spec.kernel_len]
    );

    // Entry: startup_64 in long mode, RSI = zero page, interrupts off.
    let e = &plan.entry;
    assert_eq!(e.mode, EntryMode::Long64);
    assert_eq!(e.rip, 0x100_0200);
    assert_eq!(e.rsi(), ZERO_PAGE_ADDR);
    assert_eq!(e.rflags & (1 << 9), 0);
    assert_eq!((e.cs.selector, e.data.selector), (0x10, 0x18));
    assert!(e.cs.long() && e.cs.is_code());
    assert_eq!(e.cr3, 0x9000);
    let mut state = CpuState::reset();
    e.apply(&mut state);
    assert_eq!(state.mode(), CpuMode::Long64);
    assert_eq!(state.gpr[6], ZERO_PAGE_ADDR);
    // The GDT in memory holds what the segment registers were loaded with.
    let gdt = read(&plan, e.gdtr.base, usize::from(e.gdtr.limit) + 1);
    assert_eq!(get64(&gdt, 0x10), 0x00af_9b00_0000_ffff);
    assert_eq!(get64(&gdt, 0x18), 0x00cf_9300_0000_ffff);
    // The page tables map 2 MiB pages from the PML4 at CR3.
    let pml4e = get64(&read(&plan, e.cr3, 8), 0);
    let pdpte = get64(&read(&plan, pml4e & !0xfff, 8), 0);
    let pde8 = get64(&read(&plan, (pdpte & !0xfff) + 8 * 8, 8), 0);
    assert_eq!(pde8, 0x100_0000 | 0x83);

    // The zero page.
    let zp = zero_page(&plan);
    assert_eq!(get16(&zp, 0x1fe), 0xaa55);
    assert_eq!(&zp[0x202..0x206], b"HdrS");
    assert_eq!(get16(&zp, 0x20e), 0x1234, "setup header copied");
    assert_eq!(zp[0x210], 0xff, "type_of_loader");
    assert_eq!(get16(&zp, 0x1fa), 0xffff, "vid_mode");
    assert_eq!(get32(&zp, 0x214), 0x100_0000, "code32_start");
    assert_eq!(get64(&zp, 0x250), 0, "setup_data cleared");
    assert_eq!(get32(&zp, 0x228) as u64, CMDLINE_ADDR);
    assert_eq!(read_cstr(&plan, CMDLINE_ADDR), "console=ttyS0 quiet");
    assert_eq!(get64(&zp, 0x070), 0xf_0000, "acpi_rsdp_addr");
    // The initrd as high as RAM allows, page-aligned.
    let ramdisk = u64::from(get32(&zp, 0x218));
    assert_eq!(ramdisk, (64 * MIB - initrd.len() as u64) & !0xfff);
    assert_eq!(get32(&zp, 0x21c) as usize, initrd.len());
    assert_eq!(read(&plan, ramdisk, initrd.len()), initrd);
    // e820: RAM, the reserved BIOS area (with the ACPI tables in it), RAM.
    assert_eq!(zp[0x1e8], 3);
    let entry = |i: usize| {
        let o = 0x2d0 + 20 * i;
        (get64(&zp, o), get64(&zp, o + 8), get32(&zp, o + 16))
    };
    assert_eq!(entry(0), (0, 0x9fc00, 1));
    assert_eq!(entry(1), (0x9fc00, 0x60400, 2));
    assert_eq!(entry(2), (MIB, 63 * MIB, 1));
}

#[test]
fn bzimage_32bit_entry_without_xlf_kernel_64() {
    let spec = BzSpec {
        xloadflags: 0,
        ..BzSpec::default()
    };
    let image = spec.build();
    let layout = layout(64 * MIB);
    let plan = bzimage::load(&image, &layout, &LinuxParams::default()).unwrap();
    check_plan_invariants(&plan, &layout);
    let e = &plan.entry;
    assert_eq!(e.mode, EntryMode::Protected32);
    assert_eq!(e.rip, 0x100_0000);
    assert!(plan.blob("page tables").is_none());
    let mut state = CpuState::reset();
    e.apply(&mut state);
    assert_eq!(state.mode(), CpuMode::Protected32);
    assert_eq!(state.cr0 & (1 << 31), 0, "paging off");
    assert_eq!(state.gpr[6], ZERO_PAGE_ADDR);
    assert_eq!((state.gpr[3], state.gpr[5], state.gpr[7]), (0, 0, 0));
    // No initrd: the fields say so.
    let zp = zero_page(&plan);
    assert_eq!((get32(&zp, 0x218), get32(&zp, 0x21c)), (0, 0));
    // An older protocol (2.12 has xloadflags, not acpi_rsdp_addr).
    let image = BzSpec {
        protocol: 0x020c,
        ..BzSpec::default()
    }
    .build();
    let params = LinuxParams {
        acpi_rsdp: Some(0xf0000),
        ..LinuxParams::default()
    };
    let plan = bzimage::load(&image, &layout, &params).unwrap();
    assert_eq!(
        get64(&zero_page(&plan), 0x070),
        0,
        "no acpi_rsdp_addr before 2.14"
    );
    assert_eq!(plan.entry.mode, EntryMode::Long64);
}

#[test]
fn bzimage_not_relocatable_loads_at_1mib_and_reserves_its_runtime_area() {
    let spec = BzSpec {
        relocatable: false,
        ..BzSpec::default()
    };
    let image = spec.build();
    // 26 MiB: the kernel runs at 16 MiB and needs 8 MiB there; everything
    // from its load address at 1 MiB to 24 MiB is kept for it, and the
    // 2-MiB initrd goes in the last 2 MiB.
    let initrd = pattern(2 << 20, 3);
    let params = LinuxParams {
        initrd: Some(&initrd),
        ..LinuxParams::default()
    };
    let layout = layout(26 * MIB);
    let plan = bzimage::load(&image, &layout, &params).unwrap();
    check_plan_invariants(&plan, &layout);
    assert_eq!(plan.blob("kernel").unwrap().addr, MIB);
    assert_eq!(plan.entry.rip, MIB + 0x200);
    let initrd_at = plan.blob("initrd").unwrap().addr;
    assert_eq!(initrd_at, 24 * MIB);
    // 25 MiB: 1 MiB is left above the kernel's area; no room.
    let layout = MemoryLayout::new(25 * MIB, None).unwrap();
    let err = bzimage::load(&image, &layout, &params).unwrap_err();
    assert_eq!(
        err,
        BzImageError::Linux(LinuxError::InitrdTooLarge {
            len: 2 << 20,
            limit: 25 * MIB
        })
    );
}

#[test]
fn bzimage_too_little_ram_for_init_size() {
    let image = BzSpec::default().build();
    let layout = layout(20 * MIB);
    let err = bzimage::load(&image, &layout, &LinuxParams::default()).unwrap_err();
    match err {
        BzImageError::Linux(LinuxError::Layout(LayoutError::OutsideRam { what, .. })) => {
            assert_eq!(what, "kernel")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn initrd_stays_below_initrd_addr_max() {
    let image = BzSpec {
        initrd_addr_max: 0x1ff_ffff,
        ..BzSpec::default()
    }
    .build();
    let initrd = pattern(0x1800, 2);
    let params = LinuxParams {
        initrd: Some(&initrd),
        ..LinuxParams::default()
    };
    let plan = bzimage::load(&image, &layout(128 * MIB), &params).unwrap();
    // Highest page-aligned start with the last byte at or below 0x1ffffff.
    assert_eq!(plan.blob("initrd").unwrap().addr, 0x200_0000 - 0x2000);
}

#[test]
fn setup_sects_zero_means_four() {
    let spec = BzSpec {
        setup_sects: 0,
        ..BzSpec::default()
    };
    assert_eq!(spec.setup_len(), 5 * 512);
    let image = spec.build();
    let plan = bzimage::load(&image, &layout(64 * MIB), &LinuxParams::default()).unwrap();
    assert_eq!(
        &plan.blob("kernel").unwrap().bytes[..],
        &image[5 * 512..5 * 512 + spec.kernel_len]
    );
}

#[test]
fn bad_bzimages() {
    let layout = layout(64 * MIB);
    let none = LinuxParams::default();
    let load = |image: &[u8]| {
        bzimage::load(image, &layout, &none)
            .map(|_| ())
            .unwrap_err()
    };

    let good = BzSpec::default().build();
    assert_eq!(load(&good[..0x100]), BzImageError::NotBzImage);
    assert_eq!(load(&[]), BzImageError::NotBzImage);
    assert_eq!(
        load(&good[..0x210]),
        BzImageError::Truncated {
            len: 0x210,
            need: 0x26c
        }
    );
    let mut bad_flag = good.clone();
    put16(&mut bad_flag, 0x1fe, 0x55aa);
    assert_eq!(load(&bad_flag), BzImageError::BadBootFlag(0x55aa));
    let old = BzSpec {
        protocol: 0x0205,
        ..BzSpec::default()
    }
    .build();
    assert_eq!(load(&old), BzImageError::ProtocolTooOld(0x0205));
    let zimage = BzSpec {
        loadflags: 0,
        ..BzSpec::default()
    }
    .build();
    assert_eq!(load(&zimage), BzImageError::NotLoadedHigh);
    // Setup sectors beyond the file: a header claiming 200 sectors.
    let mut long_setup = good.clone();
    long_setup[0x1f1] = 200;
    assert_eq!(
        load(&long_setup),
        BzImageError::SetupBeyondFile {
            sects: 200,
            offset: 201 * 512,
            len: good.len()
        }
    );
    // A kernel larger than the file; a huge syssize.
    let mut short = good.clone();
    short.truncate(BzSpec::default().setup_len() + 0x1000);
    assert_eq!(
        load(&short),
        BzImageError::KernelBeyondFile {
            declared: 0x3000,
            available: 0x1000
        }
    );
    let mut huge = good.clone();
    put32(&mut huge, 0x1f4, u32::MAX);
    assert!(matches!(load(&huge), BzImageError::KernelBeyondFile { .. }));
    let tiny = BzSpec {
        kernel_len: 0x200,
        ..BzSpec::default()
    }
    .build();
    assert_eq!(load(&tiny), BzImageError::NoRoomFor64BitEntry(0x200));
    let mut empty = good.clone();
    put32(&mut empty, 0x1f4, 0);
    assert_eq!(load(&empty), BzImageError::EmptyKernel);
    // init_size of 4 GiB: no RAM can hold it.
    let mut greedy = good.clone();
    put32(&mut greedy, 0x260, u32::MAX);
    assert!(matches!(
        load(&greedy),
        BzImageError::Linux(LinuxError::Layout(LayoutError::OutsideRam { .. }))
    ));
}

#[test]
fn bad_command_lines_and_initrds() {
    let image = BzSpec {
        cmdline_size: 16,
        ..BzSpec::default()
    }
    .build();
    let layout = layout(64 * MIB);
    let with = |cmdline, initrd| LinuxParams {
        cmdline,
        initrd,
        acpi_rsdp: None,
    };
    assert!(bzimage::load(&image, &layout, &with("0123456789abcdef", None)).is_ok());
    assert_eq!(
        bzimage::load(&image, &layout, &with("0123456789abcdefg", None)).unwrap_err(),
        BzImageError::Linux(LinuxError::CmdlineTooLong { len: 17, max: 16 })
    );
    assert_eq!(
        bzimage::load(&image, &layout, &with("a\0b", None)).unwrap_err(),
        BzImageError::Linux(LinuxError::CmdlineNul)
    );
    assert_eq!(
        bzimage::load(&image, &layout, &with("", Some(&[]))).unwrap_err(),
        BzImageError::Linux(LinuxError::EmptyInitrd)
    );
    let big = vec![0u8; 64 << 20];
    assert!(matches!(
        bzimage::load(&image, &layout, &with("", Some(&big))).unwrap_err(),
        BzImageError::Linux(LinuxError::InitrdTooLarge { .. })
    ));
}

/// A vmlinux as Linux links it: virtual addresses in the top 2 GiB,
/// physical from 16 MiB, a BSS, entry at the physical startup_64.
fn vmlinux_image(entry: u64) -> Vec<u8> {
    elf64(
        entry,
        &[
            (
                0xffff_ffff_8100_0000,
                0x100_0000,
                pattern(0x3000, 4),
                0x3000,
            ),
            (
                0xffff_ffff_8140_0000,
                0x140_0000,
                pattern(0x1000, 5),
                0x5000,
            ),
        ],
    )
}

#[test]
fn vmlinux_segments_at_physical_addresses() {
    let image = vmlinux_image(0x100_0000);
    let initrd = pattern(0x2345, 6);
    let params = LinuxParams {
        cmdline: "console=ttyS0",
        initrd: Some(&initrd),
        acpi_rsdp: Some(0xe0000),
    };
    let layout = layout(64 * MIB);
    let plan = vmlinux::load(&image, &layout, &params).unwrap();
    check_plan_invariants(&plan, &layout);
    assert_eq!(plan.format, KernelFormat::Vmlinux);
    let text = plan.blob("kernel segment 0").unwrap();
    assert_eq!(
        (text.addr, text.bytes.len(), text.zero_fill),
        (0x100_0000, 0x3000, 0)
    );
    assert_eq!(&text.bytes[..], &pattern(0x3000, 4)[..]);
    let data = plan.blob("kernel segment 1").unwrap();
    assert_eq!(
        (data.addr, data.bytes.len(), data.zero_fill),
        (0x140_0000, 0x1000, 0x4000)
    );
    assert_eq!(plan.entry.mode, EntryMode::Long64);
    assert_eq!(plan.entry.rip, 0x100_0000);
    assert_eq!(plan.entry.rsi(), ZERO_PAGE_ADDR);
    let zp = zero_page(&plan);
    assert_eq!(get16(&zp, 0x1fe), 0xaa55);
    assert_eq!(&zp[0x202..0x206], b"HdrS");
    assert_eq!(zp[0x210], 0xff);
    assert_eq!(get64(&zp, 0x070), 0xe0000);
    assert_eq!(
        read_cstr(&plan, u64::from(get32(&zp, 0x228))),
        "console=ttyS0"
    );
    assert_eq!(get32(&zp, 0x21c) as usize, initrd.len());
    // A virtual entry point is translated through its segment.
    let virtual_entry = vmlinux_image(0xffff_ffff_8100_0100);
    let plan = vmlinux::load(&virtual_entry, &layout, &params).unwrap();
    assert_eq!(plan.entry.rip, 0x100_0100);
    // A 32-bit vmlinux enters in protected mode.
    let image32 = elf32(
        3,
        0x100_0000,
        &[(0xc100_0000, 0x100_0000, pattern(0x800, 1), 0x800)],
    );
    let plan = vmlinux::load(&image32, &layout, &params).unwrap();
    assert_eq!(plan.entry.mode, EntryMode::Protected32);
}

#[test]
fn bad_vmlinux_files() {
    let layout = layout(64 * MIB);
    let none = LinuxParams::default();
    let load = |image: &[u8]| {
        vmlinux::load(image, &layout, &none)
            .map(|_| ())
            .unwrap_err()
    };
    let elf_err = |e: boot::elf::ElfError| VmlinuxError::Elf(e);

    assert_eq!(load(b"MZ\x90\x00"), elf_err(boot::elf::ElfError::NotElf));
    assert!(matches!(
        load(&vmlinux_image(0x100_0000)[..40]),
        VmlinuxError::Elf(boot::elf::ElfError::Malformed(_))
    ));
    // Entry in no segment.
    assert_eq!(
        load(&vmlinux_image(0x50_0000)),
        elf_err(boot::elf::ElfError::EntryOutsideSegments(0x50_0000))
    );
    // Overlapping segments.
    let overlap = elf64(
        0x100_0000,
        &[
            (0, 0x100_0000, pattern(0x2000, 1), 0x2000),
            (0, 0x100_1000, pattern(0x2000, 1), 0x2000),
        ],
    );
    assert!(matches!(
        load(&overlap),
        VmlinuxError::Linux(LinuxError::Layout(LayoutError::Overlap { .. }))
    ));
    // A segment over the fixed low-memory pieces (the zero page).
    let low = elf64(0x7000, &[(0, 0x7000, pattern(0x100, 1), 0x100)]);
    assert!(matches!(
        load(&low),
        VmlinuxError::Linux(LinuxError::Layout(LayoutError::Overlap { .. }))
    ));
    // Beyond RAM; in the BIOS hole.
    let high = elf64(0x400_0000, &[(0, 0x400_0000, pattern(0x100, 1), 0x100)]);
    assert!(matches!(
        load(&high),
        VmlinuxError::Linux(LinuxError::Layout(LayoutError::OutsideRam { .. }))
    ));
    let hole = elf64(0xa0000, &[(0, 0xa0000, pattern(0x100, 1), 0x100)]);
    assert!(matches!(
        load(&hole),
        VmlinuxError::Linux(LinuxError::Layout(LayoutError::OutsideRam { .. }))
    ));
    // File bytes beyond the end; filesz > memsz; wrapping addresses.
    let mut beyond = vmlinux_image(0x100_0000);
    put64(&mut beyond, 64 + 8, 0xffff_ffff_0000);
    assert!(matches!(
        load(&beyond),
        VmlinuxError::Elf(boot::elf::ElfError::BadSegment { index: 0, .. })
    ));
    let mut fat = vmlinux_image(0x100_0000);
    put64(&mut fat, 64 + 40, 0x10);
    assert!(matches!(
        load(&fat),
        VmlinuxError::Elf(boot::elf::ElfError::BadSegment { index: 0, .. })
    ));
    let mut wrap = vmlinux_image(0x100_0000);
    put64(&mut wrap, 64 + 24, u64::MAX - 0x10);
    assert!(matches!(
        load(&wrap),
        VmlinuxError::Elf(boot::elf::ElfError::BadSegment { index: 0, .. })
    ));
    // Wrong program header size; huge program header count.
    let mut phent = vmlinux_image(0x100_0000);
    put16(&mut phent, 54, 32);
    assert!(matches!(
        load(&phent),
        VmlinuxError::Elf(boot::elf::ElfError::Malformed(_))
    ));
    let mut phnum = vmlinux_image(0x100_0000);
    put16(&mut phnum, 56, 0xffff);
    assert!(matches!(
        load(&phnum),
        VmlinuxError::Elf(boot::elf::ElfError::Malformed(_))
    ));
    // A 64-bit file for i386, a non-x86 machine, big-endian.
    let mut class = vmlinux_image(0x100_0000);
    put16(&mut class, 18, 3);
    assert_eq!(
        load(&class),
        VmlinuxError::WrongClass {
            class: 64,
            machine: 3
        }
    );
    let mut arm = vmlinux_image(0x100_0000);
    put16(&mut arm, 18, 183);
    assert_eq!(load(&arm), elf_err(boot::elf::ElfError::WrongMachine(183)));
    let mut be = vmlinux_image(0x100_0000);
    be[5] = 2;
    assert!(matches!(load(&be), VmlinuxError::Elf(_)));
    // No PT_LOAD at all.
    let mut no_load = vmlinux_image(0x100_0000);
    put32(&mut no_load, 64, 4);
    put32(&mut no_load, 64 + 56, 4);
    assert_eq!(
        load(&no_load),
        elf_err(boot::elf::ElfError::NoLoadableSegment)
    );
}

#[test]
fn format_detection() {
    let layout = layout(64 * MIB);
    let params = boot::KernelParams::default();
    assert_eq!(
        boot::load(&[], &layout, &params).unwrap_err(),
        boot::BootError::Empty
    );
    assert_eq!(
        boot::load(&[0u8; 4096], &layout, &params).unwrap_err(),
        boot::BootError::UnknownFormat
    );
    let bz = BzSpec::default().build();
    assert!(matches!(
        boot::load(&bz, &layout, &params).unwrap().format,
        KernelFormat::BzImage { .. }
    ));
    let vm = vmlinux_image(0x100_0000);
    assert_eq!(
        boot::load(&vm, &layout, &params).unwrap().format,
        KernelFormat::Vmlinux
    );
    // One module given to a Linux kernel is its initrd; two are an error.
    let m = [boot::MultibootModule {
        bytes: &[1, 2, 3],
        cmdline: "x",
    }; 2];
    let one = boot::KernelParams {
        modules: &m[..1],
        ..params
    };
    let plan = boot::load(&bz, &layout, &one).unwrap();
    assert_eq!(&plan.blob("initrd").unwrap().bytes[..], &[1, 2, 3]);
    let two = boot::KernelParams {
        modules: &m,
        ..params
    };
    assert_eq!(
        boot::load(&bz, &layout, &two).unwrap_err(),
        boot::BootError::ModulesForLinux
    );
}
