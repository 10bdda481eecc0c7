//! The static ACPI tables (ACPI 6.5 §5.2): RSDP (§5.2.5), RSDT (§5.2.7),
//! XSDT (§5.2.8), FADT (§5.2.9), FACS (§5.2.10), MADT (§5.2.12) and MCFG
//! (PCI Firmware Specification 3.0 §4.1.2). See the module notes of
//! `acpi` for what comes from `acpi_tables` and the values chosen.

use super::{Ecam, IsaDevice, PlatformConfig, IOAPIC_ADDR, IOAPIC_ID, LAPIC_ADDR};
use super::{OEM_ID, OEM_REVISION, OEM_TABLE_ID};
use crate::devices::acpi_pm::{TimerWidth, PM1_CNT, PM1_CNT_LEN, PM1_EVT_LEN, PM_TMR, PM_TMR_LEN};
use acpi_tables::fadt::{FADTBuilder, Flags};
use acpi_tables::gas::{AccessSize, AddressSpace, GAS};
use acpi_tables::madt::{EnabledStatus, IoApic, ProcessorLocalApic};
use acpi_tables::mcfg::MCFG;
use acpi_tables::sdt::Sdt;
use acpi_tables::xsdt::XSDT;
use acpi_tables::{facs::FACS, Aml};

/// The table header's length (§5.2.6).
pub const HEADER_LEN: usize = 36;
/// The ACPI 2.0+ RSDP's length.
pub const RSDP_LEN: usize = 36;
/// The PIIX reset control register and the hard-reset value written to it.
pub const RESET_PORT: u16 = 0xcf9;
pub const RESET_VALUE: u8 = 0x06;
/// The RTC's century byte (the FADT's CENTURY field).
pub const RTC_CENTURY_INDEX: u8 = 0x32;
/// IAPC_BOOT_ARCH bits (§5.2.9.3).
pub const BOOT_ARCH_LEGACY_DEVICES: u16 = 1 << 0;
pub const BOOT_ARCH_8042: u16 = 1 << 1;
/// The MADT's flag: the PC's dual 8259s are present (§5.2.12).
pub const MADT_PCAT_COMPAT: u32 = 1;
/// MADT entry types written here (§5.2.12.5, §5.2.12.7).
pub const MADT_SOURCE_OVERRIDE: u8 = 2;
pub const MADT_LOCAL_APIC_NMI: u8 = 4;
/// MPS INTI flags (§5.2.12.5, table 5.50): polarity in bits 1:0 (01 active
/// high), trigger mode in bits 3:2 (11 level).
pub const INTI_ACTIVE_HIGH_LEVEL: u16 = 0x000d;

/// The bytes `acpi_tables` emits for a table or an entry.
fn as_bytes(item: &dyn Aml) -> Vec<u8> {
    let mut bytes = Vec::new();
    item.to_aml_bytes(&mut bytes);
    bytes
}

fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

/// The RSDP, revision 2: both the RSDT and the XSDT address, the checksum
/// of its first 20 bytes and the extended checksum of all 36.
pub fn build_rsdp(rsdt: u32, xsdt: u32) -> [u8; RSDP_LEN] {
    let mut r = [0u8; RSDP_LEN];
    r[0..8].copy_from_slice(b"RSD PTR ");
    r[9..15].copy_from_slice(&OEM_ID);
    r[15] = 2;
    r[16..20].copy_from_slice(&rsdt.to_le_bytes());
    r[20..24].copy_from_slice(&(RSDP_LEN as u32).to_le_bytes());
    r[24..32].copy_from_slice(&u64::from(xsdt).to_le_bytes());
    r[8] = sum(&r[..20]).wrapping_neg();
    r[32] = sum(&r).wrapping_neg();
    r
}

/// The RSDT: 32-bit pointers to `tables`.
pub fn build_rsdt(tables: &[u32]) -> Vec<u8> {
    let mut rsdt = Sdt::new(
        *b"RSDT",
        HEADER_LEN as u32,
        1,
        OEM_ID,
        OEM_TABLE_ID,
        OEM_REVISION,
    );
    for &t in tables {
        rsdt.append_slice(&t.to_le_bytes());
    }
    rsdt.as_slice().to_vec()
}

/// The XSDT: 64-bit pointers to `tables`.
pub fn build_xsdt(tables: &[u32]) -> Vec<u8> {
    let mut xsdt = XSDT::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION);
    for &t in tables {
        xsdt.add_entry(t.into());
    }
    as_bytes(&xsdt)
}

/// The FACS (64 bytes, version 2; must be 64-byte aligned).
pub fn build_facs() -> Vec<u8> {
    let mut facs = FACS::new();
    facs.version = 2;
    as_bytes(&facs)
}

fn io_gas(port: u16, bytes: u8) -> GAS {
    let size = match bytes {
        1 => AccessSize::ByteAccess,
        2 => AccessSize::WordAccess,
        _ => AccessSize::DwordAccess,
    };
    GAS::new(AddressSpace::SystemIo, bytes * 8, 0, size, port.into())
}

/// The FADT, pointing at the FACS and the DSDT.
pub fn build_fadt(config: &PlatformConfig, facs: u32, dsdt: u32) -> Vec<u8> {
    let pm = config.pm;
    let evt = pm.pm_base;
    let cnt = pm.pm_base.wrapping_add(PM1_CNT);
    let tmr = pm.pm_base.wrapping_add(PM_TMR);
    let mut f = FADTBuilder::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION)
        .flag(Flags::Wbinvd)
        .flag(Flags::ProcC1)
        .flag(Flags::SlpButton)
        .flag(Flags::RtcS4)
        .flag(Flags::ResetRegSup)
        .flag(Flags::UsePlatformClock);
    if pm.timer_width == TimerWidth::Bits32 {
        f = f.flag(Flags::TmrValExt);
    }
    // The FACS by its 32-bit pointer only: a non-zero X_FIRMWARE_CTRL
    // requires FIRMWARE_CTRL to be 0 (§5.2.9). The DSDT and the blocks in
    // both forms (QEMU does the same).
    f.firmware_ctrl = facs.into();
    f.dsdt = dsdt.into();
    f.x_dsdt = u64::from(dsdt).into();
    f.sci_int = u16::from(pm.sci_irq).into();
    f.pm1a_evt_blk = u32::from(evt).into();
    f.pm1a_cnt_blk = u32::from(cnt).into();
    f.pm_tmr_blk = u32::from(tmr).into();
    f.pm1_evt_len = PM1_EVT_LEN;
    f.pm1_cnt_len = PM1_CNT_LEN;
    f.pm_tmr_len = PM_TMR_LEN;
    f.x_pm1a_evt_blk = io_gas(evt, PM1_EVT_LEN);
    f.x_pm1a_cnt_blk = io_gas(cnt, PM1_CNT_LEN);
    f.x_pm_tmr_blk = io_gas(tmr, PM_TMR_LEN);
    if let Some(gpe0) = pm.gpe0_base {
        let len = crate::devices::acpi_pm::GPE0_LEN as u8;
        f.gpe0_blk = u32::from(gpe0).into();
        f.gpe0_blk_len = len;
        f.x_gpe0_blk = io_gas(gpe0, len);
    }
    // No C2 or C3 (latencies above 100 and 1000 µs say so, §5.2.9).
    f.p_lvl2_lat = 0x0fff_u16.into();
    f.p_lvl3_lat = 0x0fff_u16.into();
    f.century = RTC_CENTURY_INDEX;
    let mut boot_arch = BOOT_ARCH_LEGACY_DEVICES;
    if config.has(IsaDevice::Keyboard) {
        boot_arch |= BOOT_ARCH_8042;
    }
    f.iapc_boot_arch = boot_arch.into();
    f.reset_reg = io_gas(RESET_PORT, 1);
    f.reset_value = RESET_VALUE;
    as_bytes(&f.finalize())
}

/// An interrupt source override entry (§5.2.12.5): ISA `irq` is `gsi`.
fn source_override(irq: u8, gsi: u32, flags: u16) -> [u8; 10] {
    let mut e = [0u8; 10];
    e[0] = MADT_SOURCE_OVERRIDE;
    e[1] = 10;
    e[2] = 0; // bus: ISA
    e[3] = irq;
    e[4..8].copy_from_slice(&gsi.to_le_bytes());
    e[8..10].copy_from_slice(&flags.to_le_bytes());
    e
}

/// The MADT (revision 3).
pub fn build_madt(config: &PlatformConfig) -> Vec<u8> {
    let mut madt = Sdt::new(
        *b"APIC",
        HEADER_LEN as u32 + 8,
        3,
        OEM_ID,
        OEM_TABLE_ID,
        OEM_REVISION,
    );
    madt.write_u32(HEADER_LEN, LAPIC_ADDR);
    madt.write_u32(HEADER_LEN + 4, MADT_PCAT_COMPAT);
    for id in 0..config.cpus {
        madt.append_slice(&as_bytes(&ProcessorLocalApic::new(
            id,
            id,
            EnabledStatus::Enabled,
        )));
    }
    madt.append_slice(&as_bytes(&IoApic::new(IOAPIC_ID, IOAPIC_ADDR, 0)));
    madt.append_slice(&source_override(0, 2, 0));
    for irq in 1..16u8 {
        if config.level_irq(irq) {
            madt.append_slice(&source_override(irq, irq.into(), INTI_ACTIVE_HIGH_LEVEL));
        }
    }
    // Local APIC NMI (§5.2.12.7): every processor (UID 0xFF), flags
    // conforming, on LINT1.
    madt.append_slice(&[MADT_LOCAL_APIC_NMI, 6, 0xff, 0, 0, 1]);
    madt.as_slice().to_vec()
}

/// The MCFG with one ECAM region on segment 0.
pub fn build_mcfg(ecam: &Ecam) -> Vec<u8> {
    let mut mcfg = MCFG::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION);
    mcfg.add_ecam(ecam.base, 0, ecam.start_bus, ecam.end_bus);
    as_bytes(&mcfg)
}
