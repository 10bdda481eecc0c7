//! Segment and gate descriptors in the GDT/LDT/IDT. SDM Vol. 3 §3.4.5
//! (segment descriptors), §3.5 (system descriptor types), §5.8.3 (call
//! gates), §6.11 and §6.14.1 (IDT gates, 64-bit forms).

use crate::exception::Exception;
use crate::memory::Bus;
use crate::state::{attr, Segment};
use crate::Cpu;

/// System-descriptor and gate types (the 4-bit type field with S = 0).
pub mod sys_type {
    pub const TSS16_AVAIL: u8 = 0x1;
    pub const LDT: u8 = 0x2;
    pub const TSS16_BUSY: u8 = 0x3;
    pub const CALL_GATE16: u8 = 0x4;
    pub const TASK_GATE: u8 = 0x5;
    pub const INT_GATE16: u8 = 0x6;
    pub const TRAP_GATE16: u8 = 0x7;
    pub const TSS_AVAIL: u8 = 0x9;
    pub const TSS_BUSY: u8 = 0xb;
    pub const CALL_GATE: u8 = 0xc;
    pub const INT_GATE: u8 = 0xe;
    pub const TRAP_GATE: u8 = 0xf;
}

/// The low 8 bytes of a descriptor (all of a legacy one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor(pub u64);

impl Descriptor {
    pub fn base(self) -> u64 {
        let d = self.0;
        ((d >> 16) & 0xff_ffff) | (((d >> 56) & 0xff) << 24)
    }

    /// Byte-granular limit (G applied).
    pub fn limit(self) -> u32 {
        let d = self.0;
        let raw = ((d & 0xffff) | (((d >> 48) & 0xf) << 16)) as u32;
        if d & (1 << 55) != 0 {
            (raw << 12) | 0xfff
        } else {
            raw
        }
    }

    /// Attributes packed as in [`attr`] (bytes 5 and 6 minus the limit nibble).
    pub fn attrs(self) -> u16 {
        (((self.0 >> 40) & 0xff) | (((self.0 >> 52) & 0xf) << 12)) as u16
    }

    pub fn typ(self) -> u8 {
        ((self.0 >> 40) & 0xf) as u8
    }
    /// Code/data descriptor (S = 1).
    pub fn is_segment(self) -> bool {
        self.0 & (1 << 44) != 0
    }
    pub fn is_code(self) -> bool {
        self.is_segment() && self.typ() & 0x8 != 0
    }
    pub fn dpl(self) -> u8 {
        ((self.0 >> 45) & 3) as u8
    }
    pub fn present(self) -> bool {
        self.0 & (1 << 47) != 0
    }

    /// The hidden-cache form of this descriptor, loaded with `selector`.
    pub fn to_segment(self, selector: u16) -> Segment {
        Segment {
            base: self.base(),
            limit: self.limit(),
            selector,
            attrs: self.attrs(),
        }
    }

    /// Gate: target code-segment selector.
    pub fn gate_selector(self) -> u16 {
        (self.0 >> 16) as u16
    }
    /// Gate: target offset bits 0..32 (16-bit gates use only bits 0..16).
    pub fn gate_offset(self) -> u64 {
        (self.0 & 0xffff) | ((self.0 >> 32) & 0xffff_0000)
    }
    /// Call gate: parameter count.
    pub fn gate_param_count(self) -> u8 {
        ((self.0 >> 32) & 0x1f) as u8
    }
    /// 64-bit interrupt/trap gate: interrupt stack table index (0 = none).
    pub fn gate_ist(self) -> u8 {
        ((self.0 >> 32) & 0x7) as u8
    }
}

/// The attribute bits of a descriptor's accessed flag.
pub const ACCESSED_BIT: u64 = 1 << 40;

impl Cpu {
    /// Linear address of the descriptor for `selector` in the GDT or LDT,
    /// or `None` if it lies beyond the table limit (or the LDT is unusable).
    /// `size` is 8 or 16 (64-bit system descriptors).
    pub fn descriptor_address(&self, selector: u16, size: u32) -> Option<u64> {
        let index = u64::from(selector & !7);
        let (base, limit) = if selector & 4 != 0 {
            let ldt = &self.state.ldtr;
            if ldt.unusable() || ldt.selector & !3 == 0 {
                return None;
            }
            (ldt.base, u64::from(ldt.limit))
        } else {
            (self.state.gdtr.base, u64::from(self.state.gdtr.limit))
        };
        (index + u64::from(size) - 1 <= limit).then(|| base.wrapping_add(index))
    }

    /// Read the 8-byte descriptor for `selector`. `Ok(None)` when outside
    /// the table limit: the caller raises the #GP/#TS its instruction calls for.
    pub fn read_descriptor(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
    ) -> Result<Option<Descriptor>, Exception> {
        match self.descriptor_address(selector, 8) {
            Some(lin) => Ok(Some(Descriptor(self.read_system(bus, lin, 8)?))),
            None => Ok(None),
        }
    }

    /// Read bytes 8..16 of a 16-byte (long-mode system) descriptor.
    pub fn read_descriptor_high(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
    ) -> Result<Option<u64>, Exception> {
        match self.descriptor_address(selector, 16) {
            Some(lin) => Ok(Some(self.read_system(bus, lin + 8, 8)?)),
            None => Ok(None),
        }
    }

    /// Set the accessed bit of a code/data descriptor in memory if clear.
    pub fn mark_descriptor_accessed(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        desc: Descriptor,
    ) -> Result<(), Exception> {
        if desc.0 & ACCESSED_BIT == 0 {
            if let Some(lin) = self.descriptor_address(selector, 8) {
                let byte5 = ((desc.0 | ACCESSED_BIT) >> 40) & 0xff;
                self.write_system(bus, lin + 5, 1, byte5)?;
            }
        }
        Ok(())
    }
}

/// True if `attrs` describe a usable writable data segment (SS rules).
pub fn writable_data(attrs: u16) -> bool {
    attrs & (attr::S | attr::CODE | attr::RW) == attr::S | attr::RW
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_code_descriptor() {
        // 0x00cf9a000000ffff: base 0, limit 4 GiB, 32-bit code, DPL 0.
        let d = Descriptor(0x00cf_9a00_0000_ffff);
        assert_eq!(d.base(), 0);
        assert_eq!(d.limit(), 0xffff_ffff);
        assert!(d.is_code() && d.present());
        assert_eq!(d.dpl(), 0);
        let s = d.to_segment(0x08);
        assert!(s.big() && !s.long());
        // 64-bit code: 0x00af9a000000ffff.
        assert!(Descriptor(0x00af_9a00_0000_ffff).to_segment(8).long());
    }

    #[test]
    fn gate_fields() {
        // 32-bit interrupt gate: selector 0x08, offset 0x12345678, DPL 3.
        let d = Descriptor(0x1234_ee00_0008_5678);
        assert_eq!(d.gate_selector(), 8);
        assert_eq!(d.gate_offset(), 0x1234_5678);
        assert_eq!(d.typ(), sys_type::INT_GATE);
        assert_eq!(d.dpl(), 3);
    }
}
