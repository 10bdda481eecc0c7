//! The ACPI tables read back with the independent reader (`reader.rs`):
//! found by a scan as Linux finds them, every checksum and length right,
//! the FADT's PM blocks and reset register, the MADT's entries, the MCFG
//! when asked, and the layout's checks.

use super::reader::{checksum, Memory};
use super::*;
use crate::devices::acpi_pm::{PM1_CNT, PM_TMR};
use cpu_model::model::XLAT;

fn pc(cpus: u8) -> FirmwareTables {
    build(
        &PlatformConfig::qemu_pc(cpus, 0x0800_0000, &XLAT),
        &AcpiLayout::default(),
    )
    .unwrap()
}

fn find<'a>(mem: &'a Memory, sig: &str) -> reader::Table<'a> {
    let rsdp = mem.scan_rsdp(0xe_0000..0x10_0000).expect("RSDP");
    let (_, addr) = mem
        .root_tables(rsdp)
        .into_iter()
        .find(|(s, _)| s == sig)
        .unwrap_or_else(|| panic!("no {sig}"));
    mem.table(addr)
}

#[test]
fn rsdp_is_found_where_linux_scans_and_points_at_both_roots() {
    let t = pc(1);
    let mem = Memory(&t);
    let rsdp = mem.scan_rsdp(0xe_0000..0x10_0000).unwrap();
    assert_eq!(rsdp, t.rsdp_addr());
    assert_eq!(rsdp % 16, 0);
    let r = mem.bytes(rsdp, 36);
    assert_eq!(&r[9..15], b"XLAT  ");
    let roots = mem.root_tables(rsdp);
    let sigs: Vec<&str> = roots.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sigs, ["FACP", "APIC"], "no MCFG on the i440FX");
}

#[test]
fn every_table_has_its_length_and_a_zero_checksum() {
    let t = pc(4);
    let mem = Memory(&t);
    let fadt = find(&mem, "FACP");
    let dsdt = mem.table(u64::from(fadt.u32(40)));
    assert_eq!(dsdt.signature(), "DSDT");
    let facs_addr = u64::from(fadt.u32(36));
    let facs = mem.bytes(facs_addr, 64);
    assert_eq!(&facs[0..4], b"FACS");
    assert_eq!(u32::from_le_bytes(facs[4..8].try_into().unwrap()), 64);
    assert_eq!(facs[32], 2, "FACS version");
    assert_eq!(facs_addr % 64, 0, "the FACS is 64-byte aligned");
    // The whole RSDP and the first 20 bytes each sum to zero.
    assert_eq!(checksum(&t.rsdp.bytes[..20]), 0);
    assert_eq!(checksum(&t.rsdp.bytes), 0);
}

#[test]
fn fadt_has_the_piix4_pm_blocks_sci_and_reset_register() {
    let t = pc(1);
    let mem = Memory(&t);
    let f = find(&mem, "FACP");
    assert_eq!(f.bytes.len(), 276);
    assert_eq!(f.revision(), 6);
    assert_eq!(f.u16(46), 9, "SCI_INT");
    assert_eq!(f.u32(48), 0, "SMI_CMD: ACPI-only");
    assert_eq!(f.u32(56), 0x600, "PM1a_EVT_BLK");
    assert_eq!(f.u32(60), 0, "PM1b_EVT_BLK");
    assert_eq!(f.u32(64), 0x600 + u32::from(PM1_CNT), "PM1a_CNT_BLK");
    assert_eq!(f.u32(76), 0x600 + u32::from(PM_TMR), "PM_TMR_BLK");
    assert_eq!(f.u32(80), 0xafe0, "GPE0_BLK");
    assert_eq!((f.u8(88), f.u8(89), f.u8(91), f.u8(92)), (4, 2, 4, 4));
    assert_eq!(f.u8(108), 0x32, "CENTURY");
    assert_eq!(f.u16(109), 1, "IAPC_BOOT_ARCH: legacy devices, no 8042");
    let flags = f.u32(112);
    assert_eq!(flags & 1 << 10, 1 << 10, "RESET_REG_SUP");
    assert_eq!(flags & 1 << 8, 0, "TMR_VAL_EXT: a 24-bit timer");
    assert_eq!(flags & 1 << 20, 0, "not hardware-reduced");
    assert_eq!(f.gas(116), (1, 8, 0xcf9), "RESET_REG in system I/O");
    assert_eq!(f.u8(128), 0x06, "RESET_VALUE");
    assert_eq!(f.u64(132), 0, "X_FIRMWARE_CTRL (FIRMWARE_CTRL used)");
    assert_eq!(f.u64(140), u64::from(f.u32(40)), "X_DSDT = DSDT");
    assert_eq!(f.gas(148), (1, 32, 0x600), "X_PM1a_EVT_BLK");
    assert_eq!(f.gas(172), (1, 16, 0x604), "X_PM1a_CNT_BLK");
    assert_eq!(f.gas(208), (1, 32, 0x608), "X_PM_TMR_BLK");
    assert_eq!(f.gas(220), (1, 32, 0xafe0), "X_GPE0_BLK");
}

#[test]
fn fadt_announces_the_8042_only_when_the_platform_has_one() {
    let mut config = PlatformConfig::qemu_pc(1, 0x0800_0000, &XLAT);
    config.isa_devices.push(IsaDevice::Keyboard);
    config.pm.gpe0_base = None;
    let t = build(&config, &AcpiLayout::default()).unwrap();
    let mem = Memory(&t);
    let f = find(&mem, "FACP");
    assert_eq!(f.u16(109), 3);
    assert_eq!((f.u32(80), f.u8(92)), (0, 0), "no GPE0 block");
}

#[test]
fn fadt_says_tmr_val_ext_for_a_32_bit_timer() {
    let mut config = PlatformConfig::qemu_pc(1, 0x0800_0000, &XLAT);
    config.pm.timer_width = crate::devices::acpi_pm::TimerWidth::Bits32;
    let t = build(&config, &AcpiLayout::default()).unwrap();
    let mem = Memory(&t);
    assert_eq!(find(&mem, "FACP").u32(112) & 1 << 8, 1 << 8);
}

#[test]
fn madt_lists_each_cpu_the_ioapic_overrides_and_lint1_nmi() {
    let t = pc(3);
    let mem = Memory(&t);
    let m = find(&mem, "APIC");
    assert_eq!(m.u32(36), 0xfee0_0000, "local APIC address");
    assert_eq!(m.u32(40) & 1, 1, "PCAT_COMPAT");
    let entries = m.madt_entries();
    let cpus: Vec<(u8, u8, u32)> = entries
        .iter()
        .filter(|(k, _)| *k == 0)
        .map(|(_, e)| (e[2], e[3], u32::from_le_bytes(e[4..8].try_into().unwrap())))
        .collect();
    assert_eq!(
        cpus,
        [(0, 0, 1), (1, 1, 1), (2, 2, 1)],
        "UID, APIC ID, enabled"
    );
    let ioapics: Vec<&[u8]> = entries
        .iter()
        .filter(|(k, _)| *k == 1)
        .map(|(_, e)| *e)
        .collect();
    assert_eq!(ioapics.len(), 1);
    assert_eq!(ioapics[0][2], 0, "I/O APIC ID");
    assert_eq!(
        u32::from_le_bytes(ioapics[0][4..8].try_into().unwrap()),
        0xfec0_0000
    );
    assert_eq!(
        u32::from_le_bytes(ioapics[0][8..12].try_into().unwrap()),
        0,
        "GSI base"
    );
    // (bus, IRQ, GSI, flags)
    let overrides: Vec<(u8, u8, u32, u16)> = entries
        .iter()
        .filter(|(k, _)| *k == 2)
        .map(|(_, e)| {
            (
                e[2],
                e[3],
                u32::from_le_bytes(e[4..8].try_into().unwrap()),
                u16::from_le_bytes([e[8], e[9]]),
            )
        })
        .collect();
    assert_eq!(
        overrides,
        [
            (0, 0, 2, 0),
            (0, 5, 5, 0xd),
            (0, 9, 9, 0xd),
            (0, 10, 10, 0xd),
            (0, 11, 11, 0xd)
        ]
    );
    let nmis: Vec<&[u8]> = entries
        .iter()
        .filter(|(k, _)| *k == 4)
        .map(|(_, e)| *e)
        .collect();
    assert_eq!(
        nmis,
        [[4u8, 6, 0xff, 0, 0, 1].as_slice()],
        "all CPUs, LINT1"
    );
    assert_eq!(entries.len(), 3 + 1 + 5 + 1);
}

#[test]
fn madt_holds_255_processors() {
    let t = pc(255);
    let mem = Memory(&t);
    let m = find(&mem, "APIC");
    let ids: Vec<u8> = m
        .madt_entries()
        .iter()
        .filter(|(k, _)| *k == 0)
        .map(|(_, e)| e[3])
        .collect();
    assert_eq!(ids, (0..=254).collect::<Vec<u8>>());
}

#[test]
fn mcfg_only_when_asked() {
    let mut config = PlatformConfig::qemu_pc(1, 0x0800_0000, &XLAT);
    config.ecam = Some(Ecam {
        base: 0xb000_0000,
        start_bus: 0,
        end_bus: 0xff,
    });
    let t = build(&config, &AcpiLayout::default()).unwrap();
    let mem = Memory(&t);
    let m = find(&mem, "MCFG");
    assert_eq!(m.bytes.len(), 36 + 8 + 16);
    assert_eq!(m.u64(44), 0xb000_0000);
    assert_eq!(m.u16(52), 0, "segment");
    assert_eq!((m.u8(54), m.u8(55)), (0, 0xff));
}

#[test]
fn tables_stay_inside_the_layout_and_apart() {
    let t = pc(2);
    let layout = AcpiLayout::default();
    assert_eq!(t.acpi.addr, 0xe_0000);
    assert!(t.acpi.end() <= u64::from(layout.tables_limit));
    assert_eq!(t.rsdp.addr, 0xf_0000);
    assert_eq!(t.mp.as_ref().unwrap().addr, 0xf_0100);
    assert_eq!(t.blobs().count(), 3);
}

#[test]
fn a_layout_or_config_that_cannot_work_is_an_error() {
    let config = PlatformConfig::qemu_pc(1, 0x0800_0000, &XLAT);
    let layout = AcpiLayout::default();
    let err = |c: &PlatformConfig, l: AcpiLayout| build(c, &l).unwrap_err();
    assert_eq!(
        err(&PlatformConfig::qemu_pc(0, 0x100_0000, &XLAT), layout),
        AcpiError::Cpus(0)
    );
    assert_eq!(
        err(&PlatformConfig::qemu_pc(1, 0xfec0_0000, &XLAT), layout),
        AcpiError::NoPciWindow(0xfec0_0000)
    );
    assert!(matches!(
        err(
            &config,
            AcpiLayout {
                rsdp_addr: 0xf_0008,
                ..layout
            }
        ),
        AcpiError::Misaligned { .. }
    ));
    assert!(matches!(
        err(
            &config,
            AcpiLayout {
                tables_base: 0xe_0020,
                ..layout
            }
        ),
        AcpiError::Misaligned { .. }
    ));
    assert!(matches!(
        err(
            &config,
            AcpiLayout {
                tables_limit: 0xe_0100,
                ..layout
            }
        ),
        AcpiError::TablesTooLarge { .. }
    ));
    assert_eq!(
        err(
            &config,
            AcpiLayout {
                rsdp_addr: 0xe_0040,
                tables_limit: 0xf_ffff,
                ..layout
            }
        ),
        AcpiError::Overlap("the RSDP")
    );
    assert_eq!(
        err(
            &config,
            AcpiLayout {
                mp_addr: Some(0xf_0010),
                ..layout
            }
        ),
        AcpiError::Overlap("the MP table")
    );
    assert_eq!(
        err(
            &config,
            AcpiLayout {
                mp_addr: Some(0xffff_fff0),
                ..layout
            }
        ),
        AcpiError::Overlap("the MP table (past 4 GiB)")
    );
    // Without an MP table.
    let t = build(
        &config,
        &AcpiLayout {
            mp_addr: None,
            ..layout
        },
    )
    .unwrap();
    assert!(t.mp.is_none());
}

#[test]
fn level_irqs_only_where_the_elcr_allows_and_extremes_do_not_panic() {
    let mut config = PlatformConfig::qemu_pc(255, 0, &XLAT);
    config.level_irqs = 0xffff;
    let t = build(&config, &AcpiLayout::default()).unwrap();
    let mem = Memory(&t);
    let m = find(&mem, "APIC");
    let level: Vec<u8> = m
        .madt_entries()
        .iter()
        .filter(|(k, e)| *k == 2 && e[8] == 0xd)
        .map(|(_, e)| e[3])
        .collect();
    assert_eq!(level, [3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15]);
    // Layouts at the top of the 32-bit space are refused, not wrapped.
    for base in [0xffff_ff00u32, 0xffff_ffc0] {
        let layout = AcpiLayout {
            tables_base: base,
            tables_limit: u32::MAX,
            rsdp_addr: 0xf_0000,
            mp_addr: Some(0xffff_fff0),
        };
        assert!(build(&config, &layout).is_err());
    }
}
