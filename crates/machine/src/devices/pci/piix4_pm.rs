//! The PIIX4 power management function, 00:01.3 on QEMU's `pc` (Intel
//! 82371AB PIIX4, datasheet 290562: "Power Management Configuration
//! Registers (Function 3)": PMBA 40h, DEVRESx, PMREGMISC 80h, SMBBA 90h,
//! SMBHSTCFG D2h).
//!
//! * PMBA (40h): bits 15:6 the I/O base of the 64-byte PM block, bit 0
//!   hardwired 1 (I/O space), the rest 0. PMREGMISC (80h) bit 0 (PMIOSE)
//!   enables it; the function's command register does not (datasheet and
//!   QEMU `pm_io_space_update`). SeaBIOS puts the block at 0x600.
//! * SMBBA (90h): bits 15:4 the base of the 16-byte SMBus block, bit 0
//!   hardwired 1; SMBHSTCFG (D2h) bit 0 enables it, bits 3:1 pick its
//!   interrupt. QEMU keeps every bit of SMBBA and decodes `& 0xFFC0`; here
//!   the datasheet's bits 15:4 are writable. QEMU's `pc` starts it at
//!   0xB100, enabled (D2h = 09h), as here.
//! * The other device-specific registers are plain bytes writable as in
//!   QEMU (`hw/acpi/piix4.c`), with its values: 5Bh = 02h (QEMU's "SMM
//!   already initialised" mark when SMM is off), DEVRESD 5Fh = 10h and
//!   DEVRESG 67h = 98h as QEMU computes them for a machine with COM1 and
//!   COM2 and no parallel port (xlat's), DEVRESE 63h = 60h.
//! * Interrupt pin INTA# (3Dh = 01h), as QEMU; the SCI itself is wired to
//!   ISA IRQ 9 by the machine, not through the pin.
//!
//! Reset restores all of these (QEMU `piix4_pm_reset` does the same for
//! PMBA, PMREGMISC and DEVACTB; it leaves SMBBA as the guest left it).

use super::config::{ConfigSpace, ConfigWriteEffect, PciDevice, PciIds};
use super::{QEMU_SUBSYSTEM, QEMU_SUBSYSTEM_VENDOR};

pub const PMBA: u8 = 0x40;
pub const PMREGMISC: u8 = 0x80;
pub const SMBBA: u8 = 0x90;
pub const SMBHSTCFG: u8 = 0xd2;
/// Bytes of the PM I/O block.
pub const PM_IO_SIZE: u16 = 64;
/// Bytes of the SMBus I/O block.
pub const SMBUS_IO_SIZE: u16 = 16;
/// Where QEMU's `pc` puts the SMBus block.
pub const QEMU_SMBUS_BASE: u16 = 0xb100;

/// The 82371AB's power management function.
#[derive(Clone, Debug)]
pub struct Piix4Pm {
    config: ConfigSpace,
}

impl Default for Piix4Pm {
    fn default() -> Piix4Pm {
        Piix4Pm::new()
    }
}

impl Piix4Pm {
    pub const VENDOR: u16 = 0x8086;
    pub const DEVICE: u16 = 0x7113;

    /// Power-on, as QEMU's `pc`: revision 03h, class 068000h ("other
    /// bridge"), subsystem 1AF4:1100, status 0280h (fast back-to-back,
    /// DEVSEL# medium), PM block disabled at 0, SMBus at 0xB100 enabled.
    pub fn new() -> Piix4Pm {
        let mut config = ConfigSpace::new(PciIds {
            vendor: Piix4Pm::VENDOR,
            device: Piix4Pm::DEVICE,
            revision: 0x03,
            class: 0x06_80_00,
            header_type: 0x00,
            subsystem_vendor: QEMU_SUBSYSTEM_VENDOR,
            subsystem: QEMU_SUBSYSTEM,
        });
        config.init_register(super::config::STATUS, &[0x80, 0x02], &[0, 0]);
        config.init_register(super::config::INTERRUPT_PIN, &[0x01], &[0]);
        for offset in 0x40..=0xffu8 {
            config.init_register(offset, &[0], &[0xff]);
        }
        for (offset, value) in [(0x5b, 0x02), (0x5f, 0x10), (0x63, 0x60), (0x67, 0x98)] {
            config.init_register(offset, &[value], &[0xff]);
        }
        config.init_register(PMBA, &[0x01, 0, 0, 0], &[0xc0, 0xff, 0, 0]);
        config.init_register(PMREGMISC, &[0], &[0x01]);
        let smb = (QEMU_SMBUS_BASE | 1).to_le_bytes();
        config.init_register(SMBBA, &[smb[0], smb[1], 0, 0], &[0xf0, 0xff, 0, 0]);
        config.init_register(SMBHSTCFG, &[0x09], &[0x0f]);
        Piix4Pm { config }
    }

    /// The PM block's I/O base if PMIOSE enables it.
    pub fn pm_io_base(&self) -> Option<u16> {
        let base = self.config.word(PMBA) & 0xffc0;
        (self.config.byte(PMREGMISC) & 1 != 0).then_some(base)
    }

    /// The SMBus block's I/O base if SMBHSTCFG enables it.
    pub fn smbus_io_base(&self) -> Option<u16> {
        let base = self.config.word(SMBBA) & 0xfff0;
        (self.config.byte(SMBHSTCFG) & 1 != 0).then_some(base)
    }

    fn pm_registers(&self) -> (u32, u8) {
        (self.config.dword(PMBA), self.config.byte(PMREGMISC))
    }

    fn smbus_registers(&self) -> (u32, u8) {
        (self.config.dword(SMBBA), self.config.byte(SMBHSTCFG))
    }
}

impl PciDevice for Piix4Pm {
    fn config(&self) -> &ConfigSpace {
        &self.config
    }

    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn write_config(&mut self, offset: u8, data: &[u8]) -> ConfigWriteEffect {
        let (pm, smbus) = (self.pm_registers(), self.smbus_registers());
        let effect = self.config.write(offset, data);
        if self.pm_registers() != pm {
            ConfigWriteEffect::PmIoChanged
        } else if self.smbus_registers() != smbus {
            ConfigWriteEffect::SmbusIoChanged
        } else {
            effect
        }
    }
}
