//! PCI configuration space as QEMU's `pc` machine presents it: the i440FX
//! host bridge's configuration mechanism #1 (PCI Local Bus Specification
//! 3.0, §3.2.2.3.2; 82441FX datasheet 290549, CONFADD/CONFDATA) at ports
//! 0xCF8 and 0xCFC..=0xCFF over bus 0, holding 00:00.0 the i440FX
//! ([`I440fx`], PAM and SMRAM), 00:01.0 the PIIX3 ISA bridge ([`Piix3`],
//! PIRQ routing) and 00:01.3 the PIIX4 power management function
//! ([`Piix4Pm`], PM and SMBus I/O bases), plus any function the machine
//! adds ([`PciHost::insert`], a [`PciDevice`]).
//!
//! [`PciHost::read`] and [`PciHost::write`] take absolute ports and the
//! access size (1, 2 or 4), like a [`crate::pio::PortDevice`] at base 0.
//! The host bridge decodes 0xCF8 only for dword accesses and 0xCFC..=0xCFF
//! for any; 0xCF9 is the PIIX reset control register, another device, so
//! the machine maps this one at 0xCF8 (one port: the bus hands a dword
//! there to it) and 0xCFC (four). A write returns what it changed
//! ([`ConfigWrite`]) so the machine can remap BARs, shadow RAM, the PM
//! block or the PCI interrupt routing. Nothing here depends on time:
//! there is no `now`, no event and no interrupt output of its own; the
//! PCI interrupt lines are levels the machine routes with
//! [`PciHost::intx_isa_irq`] / [`PciHost::isa_irq_levels`] (see
//! `piix3.rs` for the swizzle and the I/O APIC side).
//!
//! Choices where the specification leaves a gap or QEMU (`hw/pci/
//! pci_host.c`, `hw/pci/pci.c`) and Bochs (`iodev/pci.cc`) differ:
//!
//! * CONFIG_ADDRESS keeps bit 31 and bits 23:2; bits 30:24 (reserved) and
//!   1:0 read 0 (§3.2.2.3.2: "read-only and must return 0's"). QEMU and
//!   Bochs store and return all 32 bits.
//! * A byte or word access at 0xCF8..=0xCFB is not a CONFIG_ADDRESS access
//!   (§3.2.2.3.2: "executed as normal I/O transactions on the PCI bus"):
//!   nothing claims it, so a read returns all-ones and a write is dropped.
//!   QEMU drops such writes too but returns CONFIG_ADDRESS's low bytes on a
//!   narrow read (0xCF9 excepted: its reset control register overlaps).
//!   Linux's probe writes a byte to 0xCFB and then only uses dwords.
//! * CONFIG_DATA with the enable bit clear, a bus other than 0 (there is
//!   no PCI-to-PCI bridge, so a type 1 cycle ends in master abort), or an
//!   absent function: reads return all-ones (vendor 0xFFFF), writes are
//!   dropped (spec, QEMU and Bochs).
//! * An access at 0xCFC + n reaches register `(CONFIG_ADDRESS & 0xFC) +
//!   n`; bytes of it past 0xCFF belong to the next ports, not to
//!   CONFIG_DATA (the processor splits such an access at the dword
//!   boundary), so they read all-ones and are not written.
//! * Reset ([`PciHost::reset`], RST#) returns every function to its
//!   power-on configuration and clears CONFIG_ADDRESS (QEMU resets the
//!   functions but keeps CONFIG_ADDRESS; the spec leaves it undefined).
//! * The header registers of every function have QEMU's masks (command
//!   I/O, memory, bus master, SERR#, INTx disable; cache line size;
//!   interrupt line; status error bits write-1-to-clear); the latency
//!   timer reads 0 as in QEMU. The functions' own registers follow their
//!   datasheets where the machine uses them (PAM, SMRAM, PIRQRC, PMBA,
//!   PMREGMISC, SMBBA, SMBHSTCFG) and are plain bytes as in QEMU
//!   elsewhere. QEMU's `pc` also has the PIIX3 IDE function at 00:01.1
//!   (and UHCI at 00:01.2 with `-usb`); they are not modelled here.

pub mod config;
pub mod i440fx;
pub mod piix3;
pub mod piix4_pm;

pub use config::{
    BarDefinition, BarError, BarKind, BarRegion, ConfigImage, ConfigSpace, ConfigWriteEffect,
    PciDevice, PciIds,
};
pub use i440fx::{I440fx, PamSegment};
pub use piix3::{pirq_gsi, slot_pirq, Piix3, Pirq};
pub use piix4_pm::Piix4Pm;

use thiserror::Error;

/// CONFIG_ADDRESS (dword accesses only).
pub const CONFIG_ADDRESS_PORT: u16 = 0xcf8;
/// CONFIG_DATA: 0xCFC..=0xCFF.
pub const CONFIG_DATA_PORT: u16 = 0xcfc;
/// CONFIG_ADDRESS bit 31: CONFIG_DATA accesses become configuration cycles.
pub const CONFIG_ENABLE: u32 = 1 << 31;
/// The CONFIG_ADDRESS bits that hold a value: enable, bus, device,
/// function, register (dword).
pub const CONFIG_ADDRESS_MASK: u32 = 0x80ff_fffc;
/// The subsystem IDs QEMU gives its devices (Red Hat / Qumranet, QEMU).
pub const QEMU_SUBSYSTEM_VENDOR: u16 = 0x1af4;
pub const QEMU_SUBSYSTEM: u16 = 0x1100;

/// A device number (0..=31) and function number (0..=7) on bus 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevFn(u8);

impl DevFn {
    /// 00:00.0, the i440FX.
    pub const HOST_BRIDGE: DevFn = DevFn(0);
    /// 00:01.0, the PIIX3 ISA bridge.
    pub const ISA_BRIDGE: DevFn = DevFn(1 << 3);
    /// 00:01.3, the PIIX4 power management function.
    pub const POWER_MANAGEMENT: DevFn = DevFn(1 << 3 | 3);

    /// None if `device` > 31 or `function` > 7.
    pub fn new(device: u8, function: u8) -> Option<DevFn> {
        (device < 32 && function < 8).then_some(DevFn(device << 3 | function))
    }

    /// From CONFIG_ADDRESS bits 15:8 (device in 7:3, function in 2:0).
    pub fn from_bits(bits: u8) -> DevFn {
        DevFn(bits)
    }

    pub fn device(self) -> u8 {
        self.0 >> 3
    }

    pub fn function(self) -> u8 {
        self.0 & 7
    }

    /// Device in bits 7:3, function in bits 2:0 (CONFIG_ADDRESS 15:8).
    pub fn bits(self) -> u8 {
        self.0
    }
}

/// A configuration write the machine has to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigWrite {
    pub devfn: DevFn,
    pub effect: ConfigWriteEffect,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PciError {
    #[error("PCI function {device:02x}.{function} is already present")]
    Occupied { device: u8, function: u8 },
}

/// Everything needed to resume the host bridge and its functions'
/// configuration spaces (a function's other state is its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciHostState {
    pub config_address: u32,
    pub functions: Vec<(DevFn, ConfigImage)>,
}

/// The host bridge's configuration mechanism and the functions on bus 0.
#[derive(Debug)]
pub struct PciHost {
    config_address: u32,
    host_bridge: I440fx,
    isa_bridge: Piix3,
    power_management: Piix4Pm,
    /// Functions the machine added, sorted by DevFn.
    others: Vec<(DevFn, Box<dyn PciDevice>)>,
}

impl Default for PciHost {
    fn default() -> PciHost {
        PciHost::new()
    }
}

impl PciHost {
    /// Power-on: the three chipset functions, CONFIG_ADDRESS 0.
    pub fn new() -> PciHost {
        PciHost {
            config_address: 0,
            host_bridge: I440fx::new(),
            isa_bridge: Piix3::new(),
            power_management: Piix4Pm::new(),
            others: Vec::new(),
        }
    }

    /// Add a function at `devfn` (a virtio-pci device, say).
    pub fn insert(&mut self, devfn: DevFn, device: Box<dyn PciDevice>) -> Result<(), PciError> {
        if self.function(devfn).is_some() {
            return Err(PciError::Occupied {
                device: devfn.device(),
                function: devfn.function(),
            });
        }
        let at = self.others.partition_point(|(d, _)| *d < devfn);
        self.others.insert(at, (devfn, device));
        Ok(())
    }

    /// The function at `devfn` on bus 0, if present.
    pub fn function(&self, devfn: DevFn) -> Option<&dyn PciDevice> {
        match devfn {
            DevFn::HOST_BRIDGE => Some(&self.host_bridge),
            DevFn::ISA_BRIDGE => Some(&self.isa_bridge),
            DevFn::POWER_MANAGEMENT => Some(&self.power_management),
            _ => self
                .others
                .iter()
                .find(|(d, _)| *d == devfn)
                .map(|(_, f)| f.as_ref()),
        }
    }

    /// The function at `devfn` for the machine's own use (a device raising
    /// its INTx, say); guest accesses go through [`PciHost::write`].
    pub fn function_mut(&mut self, devfn: DevFn) -> Option<&mut dyn PciDevice> {
        match devfn {
            DevFn::HOST_BRIDGE => Some(&mut self.host_bridge),
            DevFn::ISA_BRIDGE => Some(&mut self.isa_bridge),
            DevFn::POWER_MANAGEMENT => Some(&mut self.power_management),
            _ => self
                .others
                .iter_mut()
                .find(|(d, _)| *d == devfn)
                .map(|(_, f)| f.as_mut() as &mut dyn PciDevice),
        }
    }

    /// Every present function, in DevFn order.
    pub fn functions(&self) -> Vec<(DevFn, &dyn PciDevice)> {
        let mut all: Vec<(DevFn, &dyn PciDevice)> = vec![
            (DevFn::HOST_BRIDGE, &self.host_bridge),
            (DevFn::ISA_BRIDGE, &self.isa_bridge),
            (DevFn::POWER_MANAGEMENT, &self.power_management),
        ];
        all.extend(self.others.iter().map(|(d, f)| (*d, f.as_ref())));
        all.sort_by_key(|(d, _)| *d);
        all
    }

    pub fn host_bridge(&self) -> &I440fx {
        &self.host_bridge
    }

    pub fn isa_bridge(&self) -> &Piix3 {
        &self.isa_bridge
    }

    pub fn power_management(&self) -> &Piix4Pm {
        &self.power_management
    }

    /// CONFIG_ADDRESS as stored.
    pub fn config_address(&self) -> u32 {
        self.config_address
    }

    /// The function and register CONFIG_DATA reaches now, None when an
    /// access there is no configuration cycle of a present function.
    fn target(&self) -> Option<(DevFn, u8)> {
        let a = self.config_address;
        let bus = (a >> 16) as u8;
        let devfn = DevFn((a >> 8) as u8);
        let present = self.function(devfn).is_some();
        (a & CONFIG_ENABLE != 0 && bus == 0 && present).then_some((devfn, a as u8 & 0xfc))
    }

    /// Port input of `size` bytes (1, 2 or 4) at absolute `port`.
    pub fn read(&mut self, port: u16, size: u32) -> u32 {
        let size = size.min(4) as usize;
        let all_ones = (u64::from(u32::MAX) >> (32 - 8 * size as u32)) as u32;
        if port == CONFIG_ADDRESS_PORT {
            return if size == 4 {
                self.config_address
            } else {
                all_ones
            };
        }
        let Some(lane) = port.checked_sub(CONFIG_DATA_PORT).filter(|&l| l < 4) else {
            return all_ones;
        };
        // The bytes of the access inside CONFIG_DATA; the rest float.
        let inside = size.min(4 - usize::from(lane));
        let mut bytes = [0xffu8; 4];
        if let Some((devfn, register)) = self.target() {
            if let Some(f) = self.function(devfn) {
                f.read_config(register | lane as u8, &mut bytes[..inside]);
            }
        }
        u32::from_le_bytes(bytes) & all_ones
    }

    /// Port output of the `size` low bytes of `value` at absolute `port`;
    /// returns what a configuration write changed, if anything.
    pub fn write(&mut self, port: u16, size: u32, value: u32) -> Option<ConfigWrite> {
        let size = size.min(4) as usize;
        if port == CONFIG_ADDRESS_PORT {
            if size == 4 {
                self.config_address = value & CONFIG_ADDRESS_MASK;
            }
            return None;
        }
        let lane = port.checked_sub(CONFIG_DATA_PORT).filter(|&l| l < 4)?;
        let inside = size.min(4 - usize::from(lane));
        let (devfn, register) = self.target()?;
        let bytes = value.to_le_bytes();
        let effect = self
            .function_mut(devfn)?
            .write_config(register | lane as u8, &bytes[..inside]);
        (effect != ConfigWriteEffect::None).then_some(ConfigWrite { devfn, effect })
    }

    /// RST#: every function to its power-on configuration, CONFIG_ADDRESS
    /// to 0.
    pub fn reset(&mut self) {
        self.config_address = 0;
        self.host_bridge.reset();
        self.isa_bridge.reset();
        self.power_management.reset();
        for (_, f) in &mut self.others {
            f.reset();
        }
    }

    /// The PIRQ a function's INTx pin drives, None if it has no pin.
    pub fn intx_pirq(&self, devfn: DevFn) -> Option<Pirq> {
        let pin = self.function(devfn)?.config().interrupt_pin()?;
        slot_pirq(devfn.device(), pin)
    }

    /// The ISA IRQ a function's INTx pin reaches through the PIIX3's
    /// routing, None if it has no pin or its PIRQ is not routed.
    pub fn intx_isa_irq(&self, devfn: DevFn) -> Option<u8> {
        self.isa_bridge.pirq_route(self.intx_pirq(devfn)?)
    }

    /// The I/O APIC input of a function's INTx pin on a board that wires
    /// PIRQA..D to pins 16..19 (see `piix3.rs`).
    pub fn intx_gsi(&self, devfn: DevFn) -> Option<u32> {
        Some(pirq_gsi(self.intx_pirq(devfn)?))
    }

    /// The levels of PIRQA..D: the wired-OR of the INTx pins the functions
    /// assert ([`ConfigSpace::intx_asserted`]).
    pub fn pirq_levels(&self) -> [bool; 4] {
        let mut levels = [false; 4];
        for (devfn, f) in self.functions() {
            if f.config().intx_asserted() {
                if let Some(p) = self.intx_pirq(devfn) {
                    levels[p.index()] = true;
                }
            }
        }
        levels
    }

    /// The ISA IRQs the PCI interrupts drive now (bit n = IRQ n).
    pub fn isa_irq_levels(&self) -> u16 {
        self.isa_bridge.isa_irq_levels(self.pirq_levels())
    }

    pub fn state(&self) -> PciHostState {
        PciHostState {
            config_address: self.config_address,
            functions: self
                .functions()
                .into_iter()
                .map(|(d, f)| (d, f.config().image()))
                .collect(),
        }
    }

    /// Resume from `s`: CONFIG_ADDRESS without its read-only bits, and each
    /// present function's configuration through its sanitizing restore
    /// (read-only bits keep their power-on values). Functions the state
    /// does not name are reset; entries for absent functions are ignored.
    pub fn restore(&mut self, s: &PciHostState) {
        self.reset();
        self.config_address = s.config_address & CONFIG_ADDRESS_MASK;
        for (devfn, image) in &s.functions {
            if let Some(f) = self.function_mut(*devfn) {
                f.restore_config(image);
            }
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_devices;
#[cfg(test)]
mod tests_random;
