//! The i440FX host bridge's PCI function, 00:00.0 (Intel 440FX PCIset,
//! 82441FX PMC, datasheet 290549: "PCI Configuration Registers", PAM0..PAM6
//! at 59h–5Fh and SMRAM at 72h).
//!
//! PAM: each register holds two 4-bit fields, RE in bit 0 (4) and WE in
//! bit 1 (5); bits 3:2 and 7:6 are reserved (the 82441FX leaves
//! cacheability to the processor's MTRRs), and so is PAM0's low field.
//! Here reserved bits read 0; QEMU stores every bit and decodes only RE/WE
//! (`hw/pci-host/pam.c`). SeaBIOS writes 0x30 to PAM0 and 0x33 to the
//! others to make its shadow writable, which reads back the same either
//! way.
//!
//! SMRAM: bits 2:0 (C_BASE_SEG) are hardwired to 010 (the A0000–BFFFF
//! segment), bit 7 is reserved. Setting D_LCK clears D_OPEN and makes
//! both read-only; G_SMRAME and D_CLS stay writable (datasheet, as Bochs
//! `iodev/pci.cc` quotes and implements it; later Intel hosts lock
//! G_SMRAME too). QEMU does not implement D_LCK ("XXX: implement
//! SMRAM.D_LOCK"). The datasheet clears D_LCK only at power-on; here any
//! [`PciDevice::reset`] does, since the machine's reset is a full one
//! (QEMU's system reset).
//!
//! The command register is QEMU's: 0000h at power-on and writable. The
//! datasheet hardwires memory access and bus master enable to 1 (PCICMD
//! 0006h, as Bochs has it); nothing decodes through the host bridge's own
//! command register, so only what a guest reads differs.
//! Reset returns PAM and SMRAM to their defaults (0 and 02h, datasheet).
//! QEMU's i440FX has no reset handler for them, so after a guest reboot
//! under QEMU the shadow RAM stays mapped as the firmware left it; SeaBIOS
//! copes with both. QEMU's byte 57h (the RAM size for old coreboot, "a
//! config register that doesn't exist in real hardware") is not provided.

use super::config::{ConfigImage, ConfigSpace, ConfigWriteEffect, PciDevice, PciIds};
use super::{QEMU_SUBSYSTEM, QEMU_SUBSYSTEM_VENDOR};

/// PAM0's offset; PAM1..PAM6 follow.
pub const PAM0: u8 = 0x59;
/// Number of PAM registers.
pub const PAM_COUNT: usize = 7;
pub const SMRAM: u8 = 0x72;

/// SMRAM bits (datasheet, SMRAM register).
pub const SMRAM_D_OPEN: u8 = 1 << 6;
pub const SMRAM_D_CLS: u8 = 1 << 5;
pub const SMRAM_D_LCK: u8 = 1 << 4;
pub const SMRAM_G_SMRAME: u8 = 1 << 3;
/// C_BASE_SEG, hardwired to 010: SMRAM at 0xA0000.
pub const SMRAM_DEFAULT: u8 = 0x02;

/// One PAM segment of the 0xC0000..=0xFFFFF range and where host accesses
/// to it go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PamSegment {
    pub base: u32,
    pub size: u32,
    /// RE: reads come from DRAM (else from PCI, i.e. the BIOS ROM).
    pub read_dram: bool,
    /// WE: writes go to DRAM (else to PCI, where the ROM drops them).
    pub write_dram: bool,
}

/// Number of PAM segments: twelve of 16 KiB from 0xC0000, one of 64 KiB
/// at 0xF0000.
pub const PAM_SEGMENTS: usize = 13;

/// The 82441FX's PCI function.
#[derive(Clone, Debug)]
pub struct I440fx {
    config: ConfigSpace,
}

impl Default for I440fx {
    fn default() -> I440fx {
        I440fx::new()
    }
}

impl I440fx {
    pub const VENDOR: u16 = 0x8086;
    pub const DEVICE: u16 = 0x1237;

    /// Power-on: IDs as QEMU's `pc` (revision 02h, host bridge class
    /// 060000h, single function, subsystem 1AF4:1100), PAM all disabled,
    /// SMRAM 02h.
    pub fn new() -> I440fx {
        let mut config = ConfigSpace::new(PciIds {
            vendor: I440fx::VENDOR,
            device: I440fx::DEVICE,
            revision: 0x02,
            class: 0x06_00_00,
            header_type: 0x00,
            subsystem_vendor: QEMU_SUBSYSTEM_VENDOR,
            subsystem: QEMU_SUBSYSTEM,
        });
        config.init_register(PAM0, &[0], &[0x30]);
        for i in 1..PAM_COUNT as u8 {
            config.init_register(PAM0 + i, &[0], &[0x33]);
        }
        config.init_register(
            SMRAM,
            &[SMRAM_DEFAULT],
            &[SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME],
        );
        I440fx { config }
    }

    /// The seven PAM registers as stored.
    pub fn pam_registers(&self) -> [u8; PAM_COUNT] {
        std::array::from_fn(|i| self.config.byte(PAM0 + i as u8))
    }

    /// The PAM decode in address order: 0xC0000, 0xC4000, ... 0xEC000
    /// (16 KiB each, the low then high field of PAM1..PAM6), then 0xF0000
    /// (64 KiB, PAM0's high field).
    pub fn pam(&self) -> [PamSegment; PAM_SEGMENTS] {
        let pam = self.pam_registers();
        std::array::from_fn(|i| {
            let (base, size, field) = if i < 12 {
                let reg = pam[1 + i / 2];
                let field = if i % 2 == 0 { reg } else { reg >> 4 };
                (0xc_0000 + 0x4000 * i as u32, 0x4000, field)
            } else {
                (0xf_0000, 0x1_0000, pam[0] >> 4)
            };
            PamSegment {
                base,
                size,
                read_dram: field & 1 != 0,
                write_dram: field & 2 != 0,
            }
        })
    }

    /// The SMRAM register as stored.
    pub fn smram(&self) -> u8 {
        self.config.byte(SMRAM)
    }
}

impl PciDevice for I440fx {
    fn config(&self) -> &ConfigSpace {
        &self.config
    }

    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn write_config(&mut self, offset: u8, data: &[u8]) -> ConfigWriteEffect {
        let (pam, smram) = (self.pam_registers(), self.smram());
        let effect = self.config.write(offset, data);
        if smram & SMRAM_D_LCK != 0 {
            // Locked: D_OPEN stays 0 and D_LCK 1.
            let kept = SMRAM_D_OPEN | SMRAM_D_LCK;
            let now = self.smram();
            self.config.set_byte(SMRAM, smram & kept | now & !kept);
        } else if self.smram() & SMRAM_D_LCK != 0 {
            // Setting D_LCK closes SMRAM.
            self.config.set_byte(SMRAM, self.smram() & !SMRAM_D_OPEN);
        }
        if self.pam_registers() != pam {
            ConfigWriteEffect::PamChanged
        } else if self.smram() != smram {
            ConfigWriteEffect::SmramChanged
        } else {
            effect
        }
    }

    fn restore_config(&mut self, image: &ConfigImage) {
        self.config.restore(image);
        if self.smram() & SMRAM_D_LCK != 0 {
            self.config.set_byte(SMRAM, self.smram() & !SMRAM_D_OPEN);
        }
    }
}
