//! One function's 256-byte configuration space (PCI Local Bus
//! Specification 3.0, §6.1 "Configuration Space Organization", §6.2
//! "Configuration Space Functions" and §6.2.5 "Base Addresses"): the
//! bytes, a write mask (which bits a write changes), a write-1-to-clear
//! mask (status bits a write of 1 clears) and the power-on image a reset
//! returns to; the base address registers declared with their kind and
//! size; and the [`PciDevice`] trait the host bridge talks to.
//!
//! Every write goes through the masks byte by byte, so BAR sizing needs no
//! special case: writing all-ones to a BAR stores the bits its size lets
//! through, and the read-back shows the size mask with the read-only type
//! bits below it (§6.2.5.1).

use thiserror::Error;

/// Bytes in a conventional PCI function's configuration space.
pub const CONFIG_SPACE_SIZE: usize = 256;
/// A configuration space as bytes (what a snapshot saves).
pub type ConfigImage = [u8; CONFIG_SPACE_SIZE];

// Type 0 header offsets (§6.1, Figure 6-1).
pub const VENDOR_ID: u8 = 0x00;
pub const DEVICE_ID: u8 = 0x02;
pub const COMMAND: u8 = 0x04;
pub const STATUS: u8 = 0x06;
pub const REVISION_ID: u8 = 0x08;
pub const CLASS_PROG_IF: u8 = 0x09;
pub const CACHE_LINE_SIZE: u8 = 0x0c;
pub const HEADER_TYPE: u8 = 0x0e;
pub const BAR0: u8 = 0x10;
pub const SUBSYSTEM_VENDOR_ID: u8 = 0x2c;
pub const SUBSYSTEM_ID: u8 = 0x2e;
pub const INTERRUPT_LINE: u8 = 0x3c;
pub const INTERRUPT_PIN: u8 = 0x3d;

/// Header type bit 7: the device has more functions than function 0.
pub const HEADER_MULTI_FUNCTION: u8 = 0x80;

// Command register bits (§6.2.2).
pub const COMMAND_IO: u16 = 1 << 0;
pub const COMMAND_MEMORY: u16 = 1 << 1;
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
pub const COMMAND_SERR: u16 = 1 << 8;
pub const COMMAND_INTX_DISABLE: u16 = 1 << 10;
/// The command bits a write can change (as QEMU's `pci_init_wmask` with
/// SERR# enable): the three decode/master enables, SERR# enable and INTx
/// disable. Parity error response, VGA snooping, memory write and
/// invalidate and the other optional bits read as 0 (§6.2.2 lets a
/// function hardwire what it does not implement).
pub const COMMAND_WRITABLE: u16 =
    COMMAND_IO | COMMAND_MEMORY | COMMAND_BUS_MASTER | COMMAND_SERR | COMMAND_INTX_DISABLE;

// Status register bits (§6.2.3).
pub const STATUS_INTERRUPT: u16 = 1 << 3;
/// The error bits a write of 1 clears (§6.2.3: master data parity error,
/// signaled and received target abort, received master abort, signaled
/// system error, detected parity error).
pub const STATUS_WRITE_1_TO_CLEAR: u16 = 0xf900;

/// Number of base address registers in a type 0 header.
pub const BAR_COUNT: usize = 6;

/// What a base address register decodes (§6.2.5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarKind {
    /// I/O space: bit 0 reads 1.
    Io,
    /// Memory anywhere in 32-bit space: bits 2:1 read 00.
    Memory32 { prefetchable: bool },
    /// Memory anywhere in 64-bit space: bits 2:1 read 10, and the next
    /// BAR holds the upper 32 bits.
    Memory64 { prefetchable: bool },
}

impl BarKind {
    /// The read-only low bits that say the kind (§6.2.5.1).
    fn type_bits(self) -> u32 {
        match self {
            BarKind::Io => 0x1,
            BarKind::Memory32 { prefetchable } => u32::from(prefetchable) << 3,
            BarKind::Memory64 { prefetchable } => 0x4 | u32::from(prefetchable) << 3,
        }
    }
}

/// A BAR a function declares: its kind and its size in bytes (a power of
/// two: at least 4 for I/O, at most 256 (§6.2.5.1), at least 16 for
/// memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarDefinition {
    pub kind: BarKind,
    pub size: u64,
}

/// Where a BAR decodes now, as the machine should map it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarRegion {
    /// The BAR's number (0..6; a 64-bit BAR is named by its low half).
    pub index: usize,
    pub kind: BarKind,
    pub base: u64,
    pub size: u64,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum BarError {
    #[error("BAR {index} does not exist (a type 0 header has 6, a 64-bit BAR takes two)")]
    NoSuchBar { index: usize },
    #[error("BAR {index} overlaps one declared before")]
    Taken { index: usize },
    #[error("BAR size {size:#x} is not a power of two in the range its kind allows")]
    BadSize { size: u64 },
}

/// What a configuration write changed that the machine has to act on. A
/// write reaches at most one dword, and in the functions here no dword
/// holds registers of two of these kinds, so one value says it all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConfigWriteEffect {
    /// Nothing the machine maps or routes changed.
    #[default]
    None,
    /// The command register changed: with its I/O or memory enable every
    /// BAR of the function may appear or disappear
    /// ([`ConfigSpace::bar_regions`]), with bus master DMA may start or
    /// stop, with INTx disable the pin may fall or rise.
    CommandChanged,
    /// A BAR's value changed: remap the function's regions.
    BarsChanged,
    /// An i440FX PAM register changed (`I440fx::pam`).
    PamChanged,
    /// The i440FX SMRAM register changed (`I440fx::smram`).
    SmramChanged,
    /// A PIIX3 PIRQ route register changed (`Piix3::pirq_route`).
    PirqRoutesChanged,
    /// The PIIX4 PM base or its enable changed (`Piix4Pm::pm_io_base`).
    PmIoChanged,
    /// The PIIX4 SMBus base or its enable changed (`Piix4Pm::smbus_io_base`).
    SmbusIoChanged,
}

/// The identity bytes of a type 0 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciIds {
    pub vendor: u16,
    pub device: u16,
    pub revision: u8,
    /// Base class, subclass, programming interface (bits 23:16, 15:8, 7:0).
    pub class: u32,
    pub header_type: u8,
    pub subsystem_vendor: u16,
    pub subsystem: u16,
}

/// One function's configuration space with its masks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigSpace {
    bytes: ConfigImage,
    /// What reset returns to.
    power_on: ConfigImage,
    /// Bits a write stores.
    write_mask: ConfigImage,
    /// Bits a write of 1 clears.
    clear_mask: ConfigImage,
    bars: [Option<BarDefinition>; BAR_COUNT],
}

impl ConfigSpace {
    /// A type 0 header with `ids`, the header registers' usual masks (as
    /// QEMU's `pci_init_wmask`/`pci_init_w1cmask`: command enables, cache
    /// line size, interrupt line, the status error bits) and nothing else
    /// writable; device-specific registers are then declared with
    /// [`ConfigSpace::init_register`].
    pub fn new(ids: PciIds) -> ConfigSpace {
        let mut c = ConfigSpace {
            bytes: [0; CONFIG_SPACE_SIZE],
            power_on: [0; CONFIG_SPACE_SIZE],
            write_mask: [0; CONFIG_SPACE_SIZE],
            clear_mask: [0; CONFIG_SPACE_SIZE],
            bars: [None; BAR_COUNT],
        };
        c.init_bytes(VENDOR_ID, &ids.vendor.to_le_bytes(), &[0; 2]);
        c.init_bytes(DEVICE_ID, &ids.device.to_le_bytes(), &[0; 2]);
        c.init_bytes(COMMAND, &[0; 2], &COMMAND_WRITABLE.to_le_bytes());
        c.init_bytes(REVISION_ID, &[ids.revision], &[0]);
        c.init_bytes(CLASS_PROG_IF, &ids.class.to_le_bytes()[..3], &[0; 3]);
        c.init_bytes(CACHE_LINE_SIZE, &[0], &[0xff]);
        c.init_bytes(HEADER_TYPE, &[ids.header_type], &[0]);
        c.init_bytes(
            SUBSYSTEM_VENDOR_ID,
            &ids.subsystem_vendor.to_le_bytes(),
            &[0; 2],
        );
        c.init_bytes(SUBSYSTEM_ID, &ids.subsystem.to_le_bytes(), &[0; 2]);
        c.init_bytes(INTERRUPT_LINE, &[0], &[0xff]);
        c.clear_mask[usize::from(STATUS)..usize::from(STATUS) + 2]
            .copy_from_slice(&STATUS_WRITE_1_TO_CLEAR.to_le_bytes());
        c
    }

    /// Declare the power-on value and write mask of the bytes at `offset`
    /// (the function's own registers; also to change a header default).
    /// Offsets past the end are ignored.
    pub fn init_register(&mut self, offset: u8, value: &[u8], write_mask: &[u8]) {
        self.init_bytes(offset, value, write_mask);
    }

    fn init_bytes(&mut self, offset: u8, value: &[u8], write_mask: &[u8]) {
        for (i, (&v, &m)) in value.iter().zip(write_mask).enumerate() {
            if let Some(at) = usize::from(offset).checked_add(i) {
                if at < CONFIG_SPACE_SIZE {
                    self.bytes[at] = v;
                    self.power_on[at] = v;
                    self.write_mask[at] = m;
                }
            }
        }
    }

    /// Declare BAR `index` (a 64-bit BAR also takes `index + 1`): its type
    /// bits become read-only, the bits below its size read 0, the rest
    /// are writable, and it resets to address 0.
    pub fn define_bar(&mut self, index: usize, bar: BarDefinition) -> Result<(), BarError> {
        let wide = matches!(bar.kind, BarKind::Memory64 { .. });
        let last = index + usize::from(wide);
        if last >= BAR_COUNT {
            return Err(BarError::NoSuchBar { index });
        }
        let taken = |i: usize| {
            self.bars[i].is_some()
                || (i > 0
                    && matches!(self.bars[i - 1], Some(b) if matches!(b.kind, BarKind::Memory64 { .. })))
        };
        if taken(index) || (wide && taken(last)) {
            return Err(BarError::Taken { index });
        }
        let size_ok = bar.size.is_power_of_two()
            && match bar.kind {
                BarKind::Io => (4..=256).contains(&bar.size),
                BarKind::Memory32 { .. } => (16..=1 << 31).contains(&bar.size),
                BarKind::Memory64 { .. } => bar.size >= 16,
            };
        if !size_ok {
            return Err(BarError::BadSize { size: bar.size });
        }
        let low_bits: u64 = if bar.kind == BarKind::Io { 0x3 } else { 0xf };
        let mask = !(bar.size - 1) & !low_bits;
        let value = u64::from(bar.kind.type_bits());
        let len = if wide { 8 } else { 4 };
        let offset = BAR0 + 4 * index as u8;
        self.init_bytes(
            offset,
            &value.to_le_bytes()[..len],
            &mask.to_le_bytes()[..len],
        );
        self.bars[index] = Some(bar);
        Ok(())
    }

    /// The bytes at `offset`, as many as `data` holds; bytes past the end
    /// of the space read as 0xFF (the caller keeps accesses inside one
    /// dword, so this does not happen through the host bridge).
    pub fn read(&self, offset: u8, data: &mut [u8]) {
        for (i, d) in data.iter_mut().enumerate() {
            *d = usize::from(offset)
                .checked_add(i)
                .and_then(|at| self.bytes.get(at))
                .copied()
                .unwrap_or(0xff);
        }
    }

    /// Write `data` at `offset` through the masks, and say what changed:
    /// the command register's enables or a BAR.
    pub fn write(&mut self, offset: u8, data: &[u8]) -> ConfigWriteEffect {
        let command = self.command();
        let bar_bytes = usize::from(BAR0)..usize::from(BAR0) + 4 * BAR_COUNT;
        let mut bars = [0u8; 4 * BAR_COUNT];
        bars.copy_from_slice(&self.bytes[bar_bytes.clone()]);
        for (i, &v) in data.iter().enumerate() {
            let Some(at) = usize::from(offset)
                .checked_add(i)
                .filter(|&at| at < CONFIG_SPACE_SIZE)
            else {
                break;
            };
            let (w, c) = (self.write_mask[at], self.clear_mask[at]);
            self.bytes[at] = (self.bytes[at] & !w | v & w) & !(v & c);
        }
        if self.command() != command {
            ConfigWriteEffect::CommandChanged
        } else if self.bytes[bar_bytes] != bars {
            ConfigWriteEffect::BarsChanged
        } else {
            ConfigWriteEffect::None
        }
    }

    /// A byte as stored.
    pub fn byte(&self, offset: u8) -> u8 {
        self.bytes[usize::from(offset)]
    }

    /// Store `value` at `offset` bypassing the masks: for the function's
    /// own logic (a lock bit, a status bit the hardware sets).
    pub fn set_byte(&mut self, offset: u8, value: u8) {
        self.bytes[usize::from(offset)] = value;
    }

    /// The little-endian word at `offset` (wrapping at the end of the space).
    pub fn word(&self, offset: u8) -> u16 {
        u16::from_le_bytes([self.byte(offset), self.byte(offset.wrapping_add(1))])
    }

    /// The little-endian dword at `offset` (wrapping at the end of the space).
    pub fn dword(&self, offset: u8) -> u32 {
        u32::from_le_bytes([0u8, 1, 2, 3].map(|i| self.byte(offset.wrapping_add(i))))
    }

    pub fn command(&self) -> u16 {
        self.word(COMMAND)
    }

    /// The function drives its INTx# pin (`level`): the status register's
    /// interrupt status bit follows it (§6.2.3), whatever INTx disable says.
    pub fn set_interrupt_status(&mut self, level: bool) {
        let s = usize::from(STATUS);
        let bit = STATUS_INTERRUPT as u8;
        self.bytes[s] = if level {
            self.bytes[s] | bit
        } else {
            self.bytes[s] & !bit
        };
    }

    /// The INTx# pin as the bus sees it: the interrupt status bit, unless
    /// the command register's INTx disable masks it (§6.2.2, bit 10).
    pub fn intx_asserted(&self) -> bool {
        self.word(STATUS) & STATUS_INTERRUPT != 0 && self.command() & COMMAND_INTX_DISABLE == 0
    }

    /// The interrupt pin register: 1..=4 for INTA#..INTD#, None if the
    /// function uses no pin (0) or holds a value no pin has.
    pub fn interrupt_pin(&self) -> Option<u8> {
        Some(self.byte(INTERRUPT_PIN)).filter(|p| (1..=4).contains(p))
    }

    pub fn bar_definition(&self, index: usize) -> Option<BarDefinition> {
        self.bars.get(index).copied().flatten()
    }

    /// The BAR's address as programmed (type bits removed), whether or not
    /// it decodes.
    pub fn bar_address(&self, index: usize) -> Option<u64> {
        let bar = self.bar_definition(index)?;
        let offset = BAR0 + 4 * index as u8;
        let low = u64::from(self.dword(offset));
        Some(match bar.kind {
            BarKind::Io => low & !0x3,
            BarKind::Memory32 { .. } => low & !0xf,
            BarKind::Memory64 { .. } => (u64::from(self.dword(offset + 4)) << 32 | low) & !0xf,
        })
    }

    /// Where BAR `index` decodes, or None if it does not: its space's
    /// enable in the command register is off, its address is 0, or the
    /// range would end at or past the top of its space (all-ones while a
    /// driver sizes it, and I/O past port 0xFFFF). QEMU
    /// (`pci_bar_address`) unmaps in the same cases.
    pub fn bar_region(&self, index: usize) -> Option<BarRegion> {
        let bar = self.bar_definition(index)?;
        let base = self.bar_address(index)?;
        let (enable, top) = match bar.kind {
            BarKind::Io => (COMMAND_IO, 0xffff),
            BarKind::Memory32 { .. } => (COMMAND_MEMORY, u64::from(u32::MAX) - 1),
            BarKind::Memory64 { .. } => (COMMAND_MEMORY, u64::MAX - 1),
        };
        let last = base.checked_add(bar.size - 1)?;
        (self.command() & enable != 0 && base != 0 && last <= top).then_some(BarRegion {
            index,
            kind: bar.kind,
            base,
            size: bar.size,
        })
    }

    /// Every BAR that decodes now.
    pub fn bar_regions(&self) -> Vec<BarRegion> {
        (0..BAR_COUNT).filter_map(|i| self.bar_region(i)).collect()
    }

    /// Back to the power-on image (RST#).
    pub fn reset(&mut self) {
        self.bytes = self.power_on;
    }

    pub fn image(&self) -> ConfigImage {
        self.bytes
    }

    /// Resume from `image`: only bits a write or the hardware can change
    /// are taken from it (writable bits, write-1-to-clear bits, the
    /// interrupt status bit); every read-only bit keeps its power-on
    /// value, so a damaged image cannot change IDs, BAR types or sizes.
    pub fn restore(&mut self, image: &ConfigImage) {
        let mut variable = self.write_mask;
        for (v, c) in variable.iter_mut().zip(&self.clear_mask) {
            *v |= c;
        }
        variable[usize::from(STATUS)] |= STATUS_INTERRUPT as u8;
        for (at, byte) in self.bytes.iter_mut().enumerate() {
            *byte = self.power_on[at] & !variable[at] | image[at] & variable[at];
        }
    }
}

/// A PCI function as the host bridge sees it: a configuration space, and
/// hooks for functions whose registers do more than store bits. New
/// devices (virtio-pci) implement this, declare their BARs with
/// [`ConfigSpace::define_bar`] and map them where
/// [`ConfigSpace::bar_regions`] says after each write that reports
/// [`ConfigWriteEffect::CommandChanged`] or
/// [`ConfigWriteEffect::BarsChanged`].
pub trait PciDevice: Send + std::fmt::Debug {
    fn config(&self) -> &ConfigSpace;
    fn config_mut(&mut self) -> &mut ConfigSpace;

    /// A configuration read of `data.len()` bytes (1 to 4, inside one
    /// dword) at `offset`.
    fn read_config(&self, offset: u8, data: &mut [u8]) {
        self.config().read(offset, data);
    }

    /// A configuration write of `data` (1 to 4 bytes, inside one dword) at
    /// `offset`.
    fn write_config(&mut self, offset: u8, data: &[u8]) -> ConfigWriteEffect {
        self.config_mut().write(offset, data)
    }

    /// RST#: the function's power-on state.
    fn reset(&mut self) {
        self.config_mut().reset();
    }

    /// Resume from a saved configuration image; a function with lock bits
    /// or other rules extends the sanitizing of [`ConfigSpace::restore`].
    fn restore_config(&mut self, image: &ConfigImage) {
        self.config_mut().restore(image);
    }
}
