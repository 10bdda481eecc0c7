//! The firmware tables a directly booted kernel reads to find the PC's
//! devices, as QEMU's `pc` machine (i440FX with the PIIX3/PIIX4 functions)
//! presents them to Linux: the ACPI tables (ACPI 6.5 specification, chapter
//! 5 "ACPI Software Programming Model": RSDP, RSDT, XSDT, FADT, FACS, MADT,
//! MCFG and the DSDT's AML) and the legacy MP table (Intel MultiProcessor
//! Specification 1.4, order 242016, chapter 4 "MP Configuration Table").
//!
//! [`build`] turns a [`PlatformConfig`] and an [`AcpiLayout`] into
//! [`FirmwareTables`]: blobs with their guest physical addresses, for the
//! machine to copy into guest memory, and the RSDP's address for
//! `boot_params.acpi_rsdp_addr`. Every table's length and checksum are
//! filled in; all pointers between the tables are 32-bit (RSDT, the FADT's
//! DSDT and FIRMWARE_CTRL, the MP table) and 64-bit (XSDT, X_DSDT,
//! X_FIRMWARE_CTRL) alike, so the layout must stay below 4 GiB.
//!
//! The default layout is what Linux scans for without being told: the ACPI
//! tables from 0xE0000, the RSDP at 0xF0000 (16-byte aligned in
//! 0xE0000..=0xFFFFF) and the MP floating pointer at 0xF0100 (in
//! 0xF0000..=0xFFFFF, where Linux looks for it).
//!
//! rust-vmm's `acpi_tables` crate encodes the FADT, FACS, XSDT, MCFG, the
//! MADT's local APIC and I/O APIC entries, the generic table header (`Sdt`)
//! and the DSDT's AML. Where it is not used, and why:
//!
//! * The RSDP is written here: the crate's `Rsdp` leaves the RSDT address
//!   at 0 and has no way to set it, and QEMU and this builder give both.
//! * The RSDT and the MADT are built on the crate's generic `Sdt`: the
//!   crate has no RSDT, its `MADT` keeps the flags (PCAT_COMPAT) at 0, and it
//!   lacks the interrupt source override and local APIC NMI entries.
//! * The AML `IRQNoFlags` descriptor (the crate has only the extended
//!   interrupt descriptor) is encoded in `dsdt.rs`, as QEMU uses it for the
//!   ISA devices.
//! * The MP table (`mptable.rs`) is not ACPI; no crate of rust-vmm's builds
//!   it for x86 outside its VMM code.
//!
//! Choices where the specifications leave a gap or this differs from QEMU
//! (`hw/i386/acpi-build.c`, `hw/acpi/aml-build.c`) and SeaBIOS
//! (`src/fw/mptable.c`, which builds the MP table under QEMU):
//!
//! * FADT revision 6 (ACPI 6.5, 276 bytes), what the crate emits. QEMU's
//!   pc FADT is older (revision 1, 116 bytes, in QEMU's own expected
//!   tables `tests/data/acpi/pc/FACP`), without X_ fields, boot flags or a
//!   reset register; Linux reads any revision the same way, but from
//!   revision 2 on it believes IAPC_BOOT_ARCH (below). The 32-bit and the
//!   X_ (GAS) forms of the PM1a event and control blocks, the PM timer, GPE0
//!   and the DSDT are all filled; the FACS only by the 32-bit
//!   FIRMWARE_CTRL, since a non-zero X_FIRMWARE_CTRL requires it to be 0.
//!   Flags as QEMU's (WBINVD, PROC_C1, SLP_BUTTON, RTC_S4,
//!   USE_PLATFORM_CLOCK) plus RESET_REG_SUP; no C2/C3 (latencies 0xFFF).
//! * No SMI_CMD (0): the platform is ACPI-only (ACPI §4.8.2.1.1), so OSPM
//!   does not try to switch modes and the PM block starts with SCI_EN set
//!   (`devices::acpi_pm`, `AcpiPmConfig::acpi_only`). QEMU gives SMI_CMD
//!   0xB2 with ACPI_ENABLE 0xF1, which SeaBIOS and the APM port handle.
//! * Reset register: 0xCF9 in system I/O, value 0x06 (the PIIX's reset
//!   control register, SYS_RST + RST_CPU: a hard reset), flag RESET_REG_SUP.
//! * IAPC_BOOT_ARCH: LEGACY_DEVICES, and 8042 only when the platform has
//!   the keyboard controller ([`IsaDevice::Keyboard`]): Linux does not
//!   probe an 8042 the FADT leaves out. VGA_NOT_PRESENT stays clear, as in
//!   QEMU.
//! * MADT revision 3 (QEMU's expected pc table says 1; the entries used
//!   are the same in both), PCAT_COMPAT set (there are 8259s), one local
//!   APIC per processor with UID = APIC ID = index, the I/O APIC (ID 0, as
//!   QEMU's pc numbers it) at GSI base 0, interrupt source overrides IRQ 0 →
//!   GSI 2 (conforming) and, for each IRQ in
//!   [`PlatformConfig::level_irqs`] (QEMU: 5, 9, 10, 11, the PCI interrupt
//!   lines, with the SCI on 9), IRQ n → GSI n level/active-high, and one
//!   local APIC NMI entry for all processors on LINT1.
//! * The DSDT (`dsdt.rs`) has what Linux uses to find the devices: `\_S5`,
//!   `\_SB.PCI0` (PNP0A03) with its resources and the ISA bridge's devices.
//!   The resources are QEMU's (`tests/data/acpi/pc/DSDT`), the RTC's I/O
//!   range 0x70..=0x77 included. QEMU's also has the PCI interrupt links
//!   and `_PRT`, the 64-bit PCI window, CPU and PCI hotplug, the HPET,
//!   floppy, parallel port and fw_cfg; those are left out until the machine
//!   has them.
//! * The MP table lists the processors, the PCI bus 0 and the ISA bus 1,
//!   the I/O APIC, an I/O interrupt entry per ISA IRQ (IRQ 0 to INTIN2, no
//!   entry for IRQ 2, as SeaBIOS with QEMU's IRQ 0 override; the level IRQs
//!   level/active-high as in the MADT, which SeaBIOS leaves conforming), and
//!   the local interrupts ExtINT on the bootstrap processor's LINT0 and NMI
//!   on every processor's LINT1 (SeaBIOS). No PCI interrupt entries: there
//!   are no PCI devices yet.

mod dsdt;
mod mptable;
mod tables;

#[cfg(test)]
mod reader;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dsdt;
#[cfg(test)]
mod tests_mptable;

pub use dsdt::build_dsdt;
pub use mptable::build_mptable;
pub use tables::{
    build_facs, build_fadt, build_madt, build_mcfg, build_rsdp, build_rsdt, build_xsdt,
};

use crate::devices::acpi_pm::TimerWidth;
use cpu_model::CpuModel;
use thiserror::Error;

/// The OEM ID of every table (QEMU's is "BOCHS ").
pub const OEM_ID: [u8; 6] = *b"XLAT  ";
/// The OEM table ID of every table.
pub const OEM_TABLE_ID: [u8; 8] = *b"XLATPC  ";
pub const OEM_REVISION: u32 = 1;

/// The local APIC's default base address.
pub const LAPIC_ADDR: u32 = 0xfee0_0000;
/// The I/O APIC's base address and ID on QEMU's pc.
pub const IOAPIC_ADDR: u32 = 0xfec0_0000;
pub const IOAPIC_ID: u8 = 0;
/// The ISA IRQs QEMU's pc routes PCI interrupts to (level, active high).
pub const QEMU_PCI_IRQS: u16 = 1 << 5 | 1 << 9 | 1 << 10 | 1 << 11;
/// The most processors: xAPIC IDs 0..=254 (0xFF is the broadcast ID).
pub const MAX_CPUS: u8 = 255;

/// An ISA device the DSDT (and the MP table's view of the ISA bus) lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsaDevice {
    /// 16550A at 0x3F8, IRQ 4 (PNP0501, `_UID` 1).
    Com1,
    /// 16550A at 0x2F8, IRQ 3 (PNP0501, `_UID` 2).
    Com2,
    /// MC146818 at 0x70, IRQ 8 (PNP0B00).
    Rtc,
    /// The 8042: keyboard at 0x60/0x64, IRQ 1 (PNP0303) and its mouse
    /// port, IRQ 12 (PNP0F13). Also sets the FADT's 8042 flag.
    Keyboard,
}

/// The ACPI power-management I/O resources (the PIIX4 PM function).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PmResources {
    /// PM1a_EVT (4 bytes), PM1a_CNT at +4 (2 bytes), PM_TMR at +8 (4).
    pub pm_base: u16,
    /// GPE0 block (4 bytes: status and enable), if the platform has one.
    pub gpe0_base: Option<u16>,
    /// The SCI's ISA IRQ.
    pub sci_irq: u8,
    /// The PM timer's width; 32 bits sets the FADT's TMR_VAL_EXT. The PM
    /// device must be built with the same (`AcpiPmConfig::timer_width`).
    pub timer_width: TimerWidth,
}

impl Default for PmResources {
    /// QEMU's pc: PM block at 0x600, GPE0 at 0xAFE0, SCI on IRQ 9, a
    /// 24-bit timer.
    fn default() -> PmResources {
        PmResources {
            pm_base: crate::devices::acpi_pm::QEMU_PM_BASE,
            gpe0_base: Some(crate::devices::acpi_pm::QEMU_GPE0_BASE),
            sci_irq: crate::devices::acpi_pm::SCI_IRQ,
            timer_width: TimerWidth::Bits24,
        }
    }
}

/// A PCI Express enhanced configuration (ECAM) region for the MCFG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ecam {
    pub base: u64,
    pub start_bus: u8,
    pub end_bus: u8,
}

/// What the tables describe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformConfig {
    /// Processors, 1..=[`MAX_CPUS`]; APIC IDs 0..cpus, the first is the BSP.
    pub cpus: u8,
    /// The end of RAM below 4 GiB: the PCI root's 32-bit memory window runs
    /// from here to just below the I/O APIC (QEMU's pci hole).
    pub low_ram_end: u32,
    /// The ISA devices present, in the order the DSDT lists them.
    pub isa_devices: Vec<IsaDevice>,
    pub pm: PmResources,
    /// ISA IRQs that are level-triggered, active high at the I/O APIC.
    pub level_irqs: u16,
    /// An MCFG for this ECAM region (none on the i440FX).
    pub ecam: Option<Ecam>,
    /// CPUID.1 EAX and EDX for the MP table's processor entries.
    pub cpu_signature: u32,
    pub cpu_features: u32,
}

impl PlatformConfig {
    /// QEMU's pc with `cpus` processors of `model` and `low_ram_end` bytes
    /// of RAM below 4 GiB, COM1, COM2 and the RTC, and no 8042.
    pub fn qemu_pc(cpus: u8, low_ram_end: u32, model: &CpuModel) -> PlatformConfig {
        // CPUID.1 as the processor answers it at reset (CR4 and XCR0 0).
        let (signature, _, _, features) = model.cpuid(1, 0, 0, 0);
        PlatformConfig {
            cpus,
            low_ram_end,
            isa_devices: vec![IsaDevice::Rtc, IsaDevice::Com1, IsaDevice::Com2],
            pm: PmResources::default(),
            level_irqs: QEMU_PCI_IRQS,
            ecam: None,
            cpu_signature: signature,
            cpu_features: features,
        }
    }

    pub fn has(&self, device: IsaDevice) -> bool {
        self.isa_devices.contains(&device)
    }

    /// ISA `irq` is level-triggered and active high. Only the IRQs whose
    /// ELCR bit exists can be (the PIIX keeps 0, 1, 2, 8 and 13 edge, and
    /// IRQ 0's override already names GSI 2); other bits of
    /// [`PlatformConfig::level_irqs`] are ignored.
    pub fn level_irq(&self, irq: u8) -> bool {
        let [low, high] = crate::devices::pic::ELCR_MASKS;
        let capable = u16::from_le_bytes([low, high]);
        irq < 16 && (self.level_irqs & capable) >> irq & 1 != 0
    }
}

/// Where the tables go in guest physical memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcpiLayout {
    /// The first ACPI table (the FACS, 64-byte aligned); the others follow.
    pub tables_base: u32,
    /// The ACPI tables must end at or below this address.
    pub tables_limit: u32,
    /// The RSDP, 16-byte aligned.
    pub rsdp_addr: u32,
    /// The MP floating pointer (16-byte aligned), followed by the MP
    /// configuration table; None for no MP table.
    pub mp_addr: Option<u32>,
}

impl Default for AcpiLayout {
    fn default() -> AcpiLayout {
        AcpiLayout {
            tables_base: 0xe_0000,
            tables_limit: 0xf_0000,
            rsdp_addr: 0xf_0000,
            mp_addr: Some(0xf_0100),
        }
    }
}

/// Bytes to copy to a guest physical address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    pub addr: u64,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn end(&self) -> u64 {
        self.addr + self.bytes.len() as u64
    }
}

/// The built tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirmwareTables {
    /// FACS, DSDT, FADT, MADT, MCFG if any, XSDT, RSDT, from `tables_base`.
    pub acpi: Blob,
    /// The RSDP (36 bytes).
    pub rsdp: Blob,
    /// The MP floating pointer and configuration table.
    pub mp: Option<Blob>,
}

impl FirmwareTables {
    /// The address for `boot_params.acpi_rsdp_addr`.
    pub fn rsdp_addr(&self) -> u64 {
        self.rsdp.addr
    }

    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        [&self.acpi, &self.rsdp].into_iter().chain(self.mp.as_ref())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AcpiError {
    #[error("{0} processors: the tables describe 1 to 255")]
    Cpus(u8),
    #[error("{what} at {addr:#x} is not {align}-byte aligned")]
    Misaligned {
        what: &'static str,
        addr: u32,
        align: u32,
    },
    #[error("the ACPI tables need {len:#x} bytes from {base:#x}, past the limit {limit:#x}")]
    TablesTooLarge { base: u32, len: usize, limit: u32 },
    #[error("{0} overlaps another table")]
    Overlap(&'static str),
    #[error("the low RAM end {0:#x} leaves no PCI memory window below the I/O APIC")]
    NoPciWindow(u32),
}

/// Where each ACPI table went (guest physical addresses).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableAddrs {
    pub facs: u32,
    pub dsdt: u32,
    pub fadt: u32,
    pub madt: u32,
    pub mcfg: Option<u32>,
    pub xsdt: u32,
    pub rsdt: u32,
}

/// Appends tables to one blob, each at an aligned offset.
struct Packer {
    base: u32,
    bytes: Vec<u8>,
}

impl Packer {
    /// Put `table` at the next multiple of `align`; returns its address.
    fn put(&mut self, table: &[u8], align: usize) -> u32 {
        let offset = self.bytes.len().next_multiple_of(align);
        self.bytes.resize(offset, 0);
        self.bytes.extend_from_slice(table);
        // Sizes are checked against the limit below 4 GiB by `build`.
        self.base.wrapping_add(offset as u32)
    }
}

fn check_align(what: &'static str, addr: u32, align: u32) -> Result<(), AcpiError> {
    if addr % align == 0 {
        Ok(())
    } else {
        Err(AcpiError::Misaligned { what, addr, align })
    }
}

/// Build every table for `config` at the addresses `layout` gives.
pub fn build(config: &PlatformConfig, layout: &AcpiLayout) -> Result<FirmwareTables, AcpiError> {
    if config.cpus == 0 {
        return Err(AcpiError::Cpus(config.cpus));
    }
    if config.low_ram_end >= IOAPIC_ADDR {
        return Err(AcpiError::NoPciWindow(config.low_ram_end));
    }
    check_align("the ACPI tables", layout.tables_base, 64)?;
    check_align("the RSDP", layout.rsdp_addr, 16)?;
    if let Some(mp) = layout.mp_addr {
        check_align("the MP floating pointer", mp, 16)?;
    }

    let mut packer = Packer {
        base: layout.tables_base,
        bytes: Vec::new(),
    };
    let mut addrs = TableAddrs {
        facs: packer.put(&build_facs(), 64),
        dsdt: packer.put(&build_dsdt(config), 8),
        ..TableAddrs::default()
    };
    addrs.fadt = packer.put(&build_fadt(config, addrs.facs, addrs.dsdt), 8);
    addrs.madt = packer.put(&build_madt(config), 8);
    addrs.mcfg = config.ecam.map(|ecam| packer.put(&build_mcfg(&ecam), 8));
    let mut pointed = vec![addrs.fadt, addrs.madt];
    pointed.extend(addrs.mcfg);
    addrs.xsdt = packer.put(&build_xsdt(&pointed), 8);
    addrs.rsdt = packer.put(&build_rsdt(&pointed), 8);

    let end = u64::from(layout.tables_base) + packer.bytes.len() as u64;
    if end > u64::from(layout.tables_limit) {
        return Err(AcpiError::TablesTooLarge {
            base: layout.tables_base,
            len: packer.bytes.len(),
            limit: layout.tables_limit,
        });
    }
    let acpi = Blob {
        addr: layout.tables_base.into(),
        bytes: packer.bytes,
    };
    let rsdp = Blob {
        addr: layout.rsdp_addr.into(),
        bytes: build_rsdp(addrs.rsdt, addrs.xsdt).to_vec(),
    };
    let mp = layout.mp_addr.map(|addr| Blob {
        addr: addr.into(),
        bytes: build_mptable(config, addr),
    });
    if mp.as_ref().is_some_and(|mp| mp.end() > 1 << 32) {
        return Err(AcpiError::Overlap("the MP table (past 4 GiB)"));
    }
    let overlaps = |a: &Blob, b: &Blob| a.addr < b.end() && b.addr < a.end();
    if overlaps(&acpi, &rsdp) {
        return Err(AcpiError::Overlap("the RSDP"));
    }
    if let Some(mp) = &mp {
        if overlaps(mp, &acpi) || overlaps(mp, &rsdp) {
            return Err(AcpiError::Overlap("the MP table"));
        }
    }
    Ok(FirmwareTables { acpi, rsdp, mp })
}
