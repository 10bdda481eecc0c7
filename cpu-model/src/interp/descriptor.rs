//! Segment and gate descriptors in the GDT/LDT/IDT. SDM Vol. 3 §3.4.5
//! (segment descriptors), §3.5 (system descriptor types), §5.8.3 (call
//! gates), §6.11 and §6.14.1 (IDT gates, 64-bit forms).

use crate::exception::Exception;
use crate::memory::Bus;
use crate::state::{attr, SegReg, Segment};
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

    /// Code segment with the conforming bit set.
    pub fn is_conforming(self) -> bool {
        self.is_code() && self.typ() & 0x4 != 0
    }
    /// Data segment, or readable code segment (what DS/ES/FS/GS accept).
    pub fn is_readable(self) -> bool {
        self.is_segment() && (!self.is_code() || self.typ() & 0x2 != 0)
    }
    /// Writable data segment (what SS accepts).
    pub fn is_writable_data(self) -> bool {
        self.is_segment() && !self.is_code() && self.typ() & 0x2 != 0
    }
    /// L bit: 64-bit code segment.
    pub fn long(self) -> bool {
        self.0 & (1 << 53) != 0
    }
    /// D/B bit.
    pub fn big(self) -> bool {
        self.0 & (1 << 54) != 0
    }
    /// A code segment that IA-32e mode accepts as a 64-bit one (L = 1, D = 0).
    pub fn is_code64(self) -> bool {
        self.is_code() && self.long() && !self.big()
    }
    /// L = 1 together with D = 1: reserved in IA-32e mode (#GP on load).
    /// SDM Vol. 3 §5.2.1.
    pub fn long_and_big(self) -> bool {
        self.long() && self.big()
    }
    /// Base of a 16-byte (IA-32e mode) system descriptor whose bytes 8..16
    /// are `high`. SDM Vol. 3 §8.2.3 (Figure 8-4).
    pub fn base64(self, high: u64) -> u64 {
        self.base() | ((high & 0xffff_ffff) << 32)
    }
    /// Target offset of a 64-bit call/interrupt/trap gate whose bytes 8..16
    /// are `high`. SDM Vol. 3 §5.8.3.1, §6.14.1.
    pub fn gate_offset64(self, high: u64) -> u64 {
        self.gate_offset() | ((high & 0xffff_ffff) << 32)
    }
}

/// The type field of the upper half of a 16-byte descriptor (bits 8..12 of
/// its last dword) must be zero. SDM Vol. 3 §5.8.3.1, Figure 5-9.
pub fn high_half_valid(high: u64) -> bool {
    (high >> 40) & 0x1f == 0
}

/// A null segment register as loaded by a null selector in protected mode:
/// unusable (P = 0), base and limit 0 (Intel clears them; AMD keeps the
/// base). SDM Vol. 3 §3.4.2, §5.4.1.
pub fn null_segment(selector: u16) -> Segment {
    Segment {
        base: 0,
        limit: 0,
        selector,
        attrs: 0,
    }
}

/// The null SS of IA-32e mode at CPL < 3 (interrupts and call gates to an
/// inner level, MOV/POP/LSS of a null selector in 64-bit mode, RETF/IRET
/// to 64-bit code at CPL < 3): selector = RPL = `cpl`, unusable, with
/// DPL = `cpl` so that SS.DPL keeps naming the CPL. SDM Vol. 3 §6.14.4,
/// §5.8.5.
pub fn null_stack_segment(cpl: u8) -> Segment {
    Segment {
        base: 0,
        limit: 0,
        selector: u16::from(cpl & 3),
        attrs: u16::from(cpl & 3) << attr::DPL_SHIFT,
    }
}

/// A segment cache after its descriptor's accessed bit has been set.
pub fn accessed_segment(desc: Descriptor, selector: u16) -> Segment {
    Descriptor(desc.0 | ACCESSED_BIT).to_segment(selector)
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
            Some(lin) => Ok(Some(self.read_system(bus, lin.wrapping_add(8), 8)?)),
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
                self.write_system(bus, lin.wrapping_add(5), 1, byte5)?;
            }
        }
        Ok(())
    }
}

impl Cpu {
    /// The stack for privilege level `dpl` from the current TSS: `(SS, SP)`.
    /// 32-bit TSS: ESP at `dpl * 8 + 4`, SS at `+ 8`; 16-bit TSS: SP at
    /// `dpl * 4 + 2`, SS at `+ 2`; 64-bit TSS (IA-32e mode): RSP at
    /// `dpl * 8 + 4` and SS = 0 (the caller loads a null SS with RPL =
    /// `dpl`). Beyond the TSS limit: #TS(TR selector) (callers delivering
    /// an external event add the EXT bit). The limit check is the SDM's for
    /// a 32-bit TSS (`off + 7`); for the 16-bit and 64-bit TSS it covers
    /// exactly the bytes read (`off + 3`, `off + 7`), where the CALL
    /// pseudo-code writes `+ 4` and `+ 8`. SDM Vol. 2 "CALL"
    /// (MORE-PRIVILEGE), Vol. 3 §6.12.1, §8.2.1, §8.7.
    pub fn tss_stack(&mut self, bus: &mut dyn Bus, dpl: u8) -> Result<(u16, u64), Exception> {
        let tr = self.state.tr;
        let ts = Exception::TS(tr.selector & 0xfffc);
        let dpl = u64::from(dpl & 3);
        let limit = u64::from(tr.limit);
        if self.state.long_mode_active() {
            let off = dpl * 8 + 4;
            if off + 7 > limit {
                return Err(ts);
            }
            let rsp = self.read_system(bus, tr.base.wrapping_add(off), 8)?;
            return Ok((0, rsp));
        }
        let is16 = matches!(tr.attrs & attr::TYPE_MASK, 0x1 | 0x3);
        if is16 {
            let off = dpl * 4 + 2;
            if off + 3 > limit {
                return Err(ts);
            }
            let sp = self.read_system(bus, tr.base.wrapping_add(off), 2)?;
            let ss = self.read_system(bus, tr.base.wrapping_add(off + 2), 2)?;
            Ok((ss as u16, sp))
        } else {
            let off = dpl * 8 + 4;
            if off + 7 > limit {
                return Err(ts);
            }
            let esp = self.read_system(bus, tr.base.wrapping_add(off), 4)?;
            let ss = self.read_system(bus, tr.base.wrapping_add(off + 4), 2)?;
            Ok((ss as u16, esp))
        }
    }

    /// Interrupt-stack-table entry `ist` (1..=7) of the 64-bit TSS, at
    /// `0x1c + ist * 8`. Beyond the TSS limit: #TS(TR selector).
    /// SDM Vol. 3 §6.14.5, §8.7.
    pub fn tss_ist(&mut self, bus: &mut dyn Bus, ist: u8) -> Result<u64, Exception> {
        let tr = self.state.tr;
        let off = 0x1c + u64::from(ist & 7) * 8;
        if off + 7 > u64::from(tr.limit) {
            return Err(Exception::TS(tr.selector & 0xfffc));
        }
        self.read_system(bus, tr.base.wrapping_add(off), 8)
    }

    /// Check the stack segment named by the TSS for a switch to privilege
    /// level `dpl` (legacy mode) and return its descriptor; the caller
    /// loads it with [`accessed_segment`] and sets the accessed bit with
    /// [`Cpu::mark_descriptor_accessed`] once every other check has passed.
    /// Null selector, beyond the table, RPL or DPL different from `dpl`,
    /// not a writable data segment: #TS(selector); not present:
    /// #SS(selector) (callers delivering an external event add the EXT
    /// bit). SDM Vol. 2 "CALL" (MORE-PRIVILEGE), Vol. 3 §6.12.1.
    pub fn check_inner_stack(
        &mut self,
        bus: &mut dyn Bus,
        selector: u16,
        dpl: u8,
    ) -> Result<Descriptor, Exception> {
        let code = selector & 0xfffc;
        if code == 0 {
            return Err(Exception::TS(0));
        }
        let desc = self
            .read_descriptor(bus, selector)?
            .ok_or(Exception::TS(code))?;
        if selector & 3 != u16::from(dpl) || desc.dpl() != dpl || !desc.is_writable_data() {
            return Err(Exception::TS(code));
        }
        if !desc.present() {
            return Err(Exception::SS(code));
        }
        Ok(desc)
    }

    /// After a return to an outer privilege level (RET far, IRET): null every
    /// data segment register (ES, FS, GS, DS) that the new CPL may not use:
    /// a data or non-conforming code segment with DPL < CPL becomes selector
    /// 0 and unusable (base and limit kept); a register already holding a
    /// null selector gets selector 0 (RPL cleared), its cache untouched, so
    /// an FS/GS base set through the MSRs survives. SDM Vol. 2 "RET"
    /// (RETURN-TO-OUTER-PRIVILEGE-LEVEL), "IRET".
    pub fn invalidate_outer_segments(&mut self) {
        let cpl = self.state.cpl();
        for s in [SegReg::Es, SegReg::Fs, SegReg::Gs, SegReg::Ds] {
            let seg = self.state.segment_mut(s);
            if seg.selector & 0xfffc == 0 {
                seg.selector = 0;
                continue;
            }
            let data_or_nonconforming = seg.attrs & attr::S != 0
                && (seg.attrs & attr::CODE == 0 || seg.attrs & attr::DC == 0);
            if data_or_nonconforming && seg.dpl() < cpl {
                seg.selector = 0;
                seg.attrs &= !attr::P;
            }
        }
    }
}

/// True if `attrs` describe a usable writable data segment (SS rules).
pub fn writable_data(attrs: u16) -> bool {
    attrs & (attr::S | attr::CODE | attr::RW) == attr::S | attr::RW
}

/// Helpers for the protection tests: descriptor builders, a GDT in
/// FlatBus memory, and single-instruction execution without exception
/// delivery (the fault is returned, registers rolled back as `step` does).
#[cfg(test)]
pub(crate) mod testutil {
    pub(crate) use super::Descriptor;
    use crate::interp::tests::{long64, prot32};
    pub(crate) use crate::memory::FlatBus;
    use crate::state::SegReg;
    use crate::Cpu;

    pub(crate) const GDT_BASE: usize = 0x10000;
    /// Base 0, 4 GiB, DPL 0, accessed: 32-bit code (exec/read), 64-bit
    /// code, writable data.
    pub(crate) const FLAT_CODE32: u64 = 0x00cf_9b00_0000_ffff;
    pub(crate) const FLAT_CODE64: u64 = 0x00af_9b00_0000_ffff;
    pub(crate) const FLAT_DATA: u64 = 0x00cf_9300_0000_ffff;

    /// A code/data/system descriptor: `access` is byte 5 (P, DPL, S,
    /// type), `flags` the nibble G, D/B, L, AVL; `limit` the raw 20 bits.
    pub(crate) fn seg_desc(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
        let base = u64::from(base);
        let limit = u64::from(limit);
        (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (u64::from(access) << 40)
            | (((limit >> 16) & 0xf) << 48)
            | (u64::from(flags & 0xf) << 52)
            | ((base >> 24) << 56)
    }

    /// A gate: `access` is byte 5, `params` the call-gate parameter count.
    pub(crate) fn gate_desc(selector: u16, offset: u32, access: u8, params: u8) -> u64 {
        let offset = u64::from(offset);
        (offset & 0xffff)
            | (u64::from(selector) << 16)
            | (u64::from(params & 0x1f) << 32)
            | (u64::from(access) << 40)
            | ((offset >> 16) << 48)
    }

    pub(crate) fn put(bus: &mut FlatBus, addr: usize, bytes: &[u8]) {
        bus.ram[addr..addr + bytes.len()].copy_from_slice(bytes);
    }

    pub(crate) fn get(bus: &FlatBus, addr: usize, size: usize) -> u64 {
        let mut b = [0u8; 8];
        b[..size].copy_from_slice(&bus.ram[addr..addr + size]);
        u64::from_le_bytes(b)
    }

    /// Write `entries` at [`GDT_BASE`] and point GDTR at them.
    pub(crate) fn setup_gdt(cpu: &mut Cpu, bus: &mut FlatBus, entries: &[u64]) {
        for (i, e) in entries.iter().enumerate() {
            put(bus, GDT_BASE + i * 8, &e.to_le_bytes());
        }
        cpu.state.gdtr.base = GDT_BASE as u64;
        cpu.state.gdtr.limit = (entries.len() * 8 - 1) as u16;
    }

    /// Legacy GDT for the far-transfer tests; TSS at 0x6000 with SS0:ESP0 = 0x10:0x9000.
    pub(crate) fn prot_setup(code: &[u8]) -> (Cpu, FlatBus) {
        let (mut cpu, mut bus) = prot32(code);
        let gdt = [
            0,
            FLAT_CODE32,                      // 0x08
            FLAT_DATA,                        // 0x10
            seg_desc(0, 0xfffff, 0xfa, 0xc),  // 0x18 code DPL3
            seg_desc(0, 0xfffff, 0xf2, 0xc),  // 0x20 data DPL3
            seg_desc(0x6000, 0x67, 0x8b, 0),  // 0x28 busy 32-bit TSS
            gate_desc(0x08, 0x2000, 0xec, 2), // 0x30 32-bit call gate DPL3, 2 params
            gate_desc(0x48, 0x2100, 0xe4, 3), // 0x38 16-bit call gate DPL3, 3 params
            seg_desc(0, 0xfffff, 0x9e, 0xc),  // 0x40 conforming code DPL0
            seg_desc(0, 0xffff, 0x9a, 0x0),   // 0x48 16-bit code DPL0
            seg_desc(0, 0xfffff, 0x1a, 0xc),  // 0x50 code not present
            gate_desc(0x08, 0x2000, 0x8c, 0), // 0x58 call gate DPL0
            gate_desc(0x28, 0, 0xe5, 0),      // 0x60 task gate DPL3
            seg_desc(0, 0xfff, 0x9a, 0x4),    // 0x68 code DPL0, limit 0xfff
            seg_desc(0, 0xfff, 0x92, 0x4),    // 0x70 data DPL0, limit 0xfff
            gate_desc(0x68, 0x2000, 0xec, 0), // 0x78 gate to 0x68:0x2000 (beyond limit)
            seg_desc(0, 0xfffff, 0x12, 0xc),  // 0x80 data DPL0 not present
        ];
        setup_gdt(&mut cpu, &mut bus, &gdt);
        cpu.state.tr = Descriptor(gdt[5]).to_segment(0x28);
        put(&mut bus, 0x6004, &0x9000u32.to_le_bytes());
        put(&mut bus, 0x6008, &0x10u16.to_le_bytes());
        (cpu, bus)
    }

    /// Switch the harness CPU to CPL 3 with flat DPL 3 code and stack.
    pub(crate) fn to_user(cpu: &mut Cpu) {
        cpu.state.seg[SegReg::Cs as usize] =
            Descriptor(seg_desc(0, 0xfffff, 0xfb, 0xc)).to_segment(0x1b);
        cpu.state.seg[SegReg::Ss as usize] =
            Descriptor(seg_desc(0, 0xfffff, 0xf3, 0xc)).to_segment(0x23);
        cpu.state.gpr[4] = 0x7000;
    }

    pub(crate) fn long_setup(code: &[u8]) -> (Cpu, FlatBus) {
        let (mut cpu, mut bus) = long64(code);
        let gdt = [
            0,
            FLAT_CODE64,                     // 0x08
            FLAT_DATA,                       // 0x10
            seg_desc(0, 0xfffff, 0xfa, 0xc), // 0x18 compat code DPL3
            seg_desc(0, 0xfffff, 0xf2, 0xc), // 0x20 data DPL3
            seg_desc(0, 0xfffff, 0xfa, 0xa), // 0x28 64-bit code DPL3
            seg_desc(0x6000, 0x67, 0x8b, 0), // 0x30 busy 64-bit TSS
            0,
            gate_desc(0x08, 0x3000, 0xec, 0), // 0x40 64-bit call gate DPL3
            0,
            gate_desc(0x08, 0x3000, 0xe4, 0), // 0x50 16-bit call gate: invalid
            seg_desc(0, 0xfffff, 0x9a, 0xe),  // 0x58 code with L = D = 1
            gate_desc(0x08, 0x3000, 0xec, 0), // 0x60 64-bit gate, bad upper half
            1 << 40,
        ];
        setup_gdt(&mut cpu, &mut bus, &gdt);
        cpu.state.tr = Descriptor(gdt[6]).to_segment(0x30);
        put(&mut bus, 0x6004, &0x9000u64.to_le_bytes());
        (cpu, bus)
    }

    pub(crate) use crate::interp::tests::exec;
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
