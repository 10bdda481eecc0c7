//! Segment-register loads and the descriptor-table instructions.
//! SDM Vol. 3 §3.4.3, §5.4–5.6; Vol. 2 "MOV" (Sreg forms), "LDS/LES/LFS/LGS/LSS",
//! "LGDT/LIDT", "SGDT", "SIDT".
//!
//! LLDT, SLDT, LTR, STR, LAR, LSL, VERR, VERW and ARPL live in `sysseg.rs`.

use super::descriptor::{accessed_segment, null_segment, null_stack_segment};
use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags;
use crate::memory::Bus;
use crate::mmu::paging::is_canonical;
use crate::state::{cr4, CpuMode, SegReg, Segment};
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    for m in [
        Mnemonic::Lds,
        Mnemonic::Les,
        Mnemonic::Lfs,
        Mnemonic::Lgs,
        Mnemonic::Lss,
    ] {
        t.set(m, load_far_pointer);
    }
    t.set(Mnemonic::Lgdt, lgdt_lidt);
    t.set(Mnemonic::Lidt, lgdt_lidt);
    t.set(Mnemonic::Sgdt, sgdt_sidt);
    t.set(Mnemonic::Sidt, sgdt_sidt);
}

impl Cpu {
    /// Load a data or stack segment register (DS, ES, FS, GS, SS) with the
    /// checks of the current mode. Nothing changes if it faults.
    /// (Used by MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS.)
    ///
    /// Protected and IA-32e mode, SDM Vol. 2 "MOV" (Sreg) operation and
    /// Vol. 3 §5.4–5.6:
    /// - null selector: DS/ES/FS/GS become unusable (selector kept with its
    ///   RPL, base and limit 0); SS: #GP(0), except in 64-bit mode at CPL < 3
    ///   with RPL = CPL, where SS becomes a null (unusable) stack segment;
    /// - beyond the GDT/LDT limit: #GP(selector);
    /// - SS: RPL = CPL, writable data, DPL = CPL, else #GP(selector);
    ///   not present: #SS(selector);
    /// - DS/ES/FS/GS: data or readable code, and for data or non-conforming
    ///   code max(CPL, RPL) <= DPL, else #GP(selector); not present:
    ///   #NP(selector);
    /// - the descriptor's accessed bit is set in memory (and in the cache).
    ///
    /// Error codes carry the selector without its RPL (index and TI).
    pub fn load_segment(
        &mut self,
        bus: &mut dyn Bus,
        seg: SegReg,
        selector: u16,
    ) -> Result<(), Fault> {
        if !self.state.protected() || self.state.v86() {
            self.state.load_segment_real(seg, selector);
            return Ok(());
        }
        let cache = check_segment_load(self, bus, seg, selector)?;
        *self.state.segment_mut(seg) = cache;
        Ok(())
    }
}

/// The checks of [`Cpu::load_segment`] in protected mode: the cache the
/// register would get (the accessed bit is already set in memory).
fn check_segment_load(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    seg: SegReg,
    selector: u16,
) -> Result<Segment, Exception> {
    let cpl = cpu.state.cpl();
    let rpl = (selector & 3) as u8;
    let code = selector & 0xfffc;
    if code == 0 {
        if seg != SegReg::Ss {
            return Ok(null_segment(selector));
        }
        if cpu.state.mode() == CpuMode::Long64 && cpl != 3 && rpl == cpl {
            return Ok(null_stack_segment(cpl));
        }
        return Err(Exception::GP(0));
    }
    let desc = cpu
        .read_descriptor(bus, selector)?
        .ok_or(Exception::GP(code))?;
    if seg == SegReg::Ss {
        if rpl != cpl || !desc.is_writable_data() || desc.dpl() != cpl {
            return Err(Exception::GP(code));
        }
        if !desc.present() {
            return Err(Exception::SS(code));
        }
    } else {
        if !desc.is_readable() {
            return Err(Exception::GP(code));
        }
        if !desc.is_conforming() && (rpl > desc.dpl() || cpl > desc.dpl()) {
            return Err(Exception::GP(code));
        }
        if !desc.present() {
            return Err(Exception::NP(code));
        }
    }
    cpu.mark_descriptor_accessed(bus, selector, desc)?;
    Ok(accessed_segment(desc, selector))
}

/// The UMIP check of SGDT, SIDT, SLDT, STR, SMSW: #GP(0) at CPL > 0 when
/// CR4.UMIP = 1. SDM Vol. 3 §2.5 (CR4.UMIP).
pub(super) fn umip_check(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.state.cr4 & cr4::UMIP != 0 && cpu.state.cpl() > 0 {
        return Err(Exception::GP(0));
    }
    Ok(())
}

/// Offset of `ea + delta` wrapped to the address size of `ins`.
fn ea_plus(ins: &Instruction, ea: u64, delta: u64) -> u64 {
    ea.wrapping_add(delta) & flags::mask(Cpu::addr_size(ins))
}

/// LDS/LES/LFS/GS/LSS r, m16:16 / m16:32 / m16:64: the offset (operand
/// size) comes first in memory, the selector after it. The segment load
/// follows MOV Sreg (see [`Cpu::load_segment`]); unlike MOV SS, LSS does
/// not block interrupts. LDS/LES do not exist in 64-bit mode (iced decodes
/// them as VEX). SDM Vol. 2 "LDS/LES/LFS/LGS/LSS".
fn load_far_pointer(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let seg = match ins.mnemonic() {
        Mnemonic::Lds => SegReg::Ds,
        Mnemonic::Les => SegReg::Es,
        Mnemonic::Lfs => SegReg::Fs,
        Mnemonic::Lgs => SegReg::Gs,
        _ => SegReg::Ss,
    };
    if ins.op1_kind() != OpKind::Memory {
        return Err(Exception::UD.into());
    }
    let size = Cpu::op_size(ins, 0);
    let ea = cpu.effective_address(ins);
    let mseg = Cpu::mem_segment(ins);
    let offset = cpu.read_mem(bus, mseg, ea, size)?;
    let selector = cpu.read_mem(bus, mseg, ea_plus(ins, ea, u64::from(size)), 2)? as u16;
    cpu.load_segment(bus, seg, selector)?;
    cpu.set_reg(ins.op0_register(), offset);
    Ok(())
}

/// LGDT/LIDT m: a 16-bit limit, then the base: 4 bytes outside 64-bit mode
/// (only 24 bits used with a 16-bit operand size), 8 bytes in 64-bit mode
/// (non-canonical base: #GP(0), as Bochs does). CPL > 0 (including
/// virtual-8086 mode): #GP(0). SDM Vol. 2 "LGDT/LIDT".
fn lgdt_lidt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if ins.op0_kind() != OpKind::Memory {
        return Err(Exception::UD.into());
    }
    if cpu.state.cpl() != 0 {
        return Err(Exception::GP(0).into());
    }
    let ea = cpu.effective_address(ins);
    let mseg = Cpu::mem_segment(ins);
    let limit = cpu.read_mem(bus, mseg, ea, 2)? as u16;
    let base_addr = ea_plus(ins, ea, 2);
    let base = match ins.code() {
        Code::Lgdt_m1664 | Code::Lidt_m1664 => {
            let b = cpu.read_mem(bus, mseg, base_addr, 8)?;
            if !is_canonical(b) {
                return Err(Exception::GP(0).into());
            }
            b
        }
        Code::Lgdt_m1632_16 | Code::Lidt_m1632_16 => {
            cpu.read_mem(bus, mseg, base_addr, 4)? & 0x00ff_ffff
        }
        _ => cpu.read_mem(bus, mseg, base_addr, 4)?,
    };
    let table = if ins.mnemonic() == Mnemonic::Lgdt {
        &mut cpu.state.gdtr
    } else {
        &mut cpu.state.idtr
    };
    table.base = base;
    table.limit = limit;
    Ok(())
}

/// SGDT/SIDT m: store the 16-bit limit, then the base: 4 bytes outside
/// 64-bit mode (all 32 bits, whatever the operand size, as every processor
/// since the Pentium 4 does), 8 bytes in 64-bit mode. Not privileged unless
/// CR4.UMIP = 1 (then #GP(0) at CPL > 0). SDM Vol. 2 "SGDT", "SIDT".
fn sgdt_sidt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if ins.op0_kind() != OpKind::Memory {
        return Err(Exception::UD.into());
    }
    umip_check(cpu)?;
    let table = if ins.mnemonic() == Mnemonic::Sgdt {
        cpu.state.gdtr
    } else {
        cpu.state.idtr
    };
    let base_size = if cpu.state.mode() == CpuMode::Long64 {
        8
    } else {
        4
    };
    let ea = cpu.effective_address(ins);
    let mseg = Cpu::mem_segment(ins);
    let base_addr = ea_plus(ins, ea, 2);
    cpu.probe_write_mem(bus, mseg, ea, 2)?;
    cpu.probe_write_mem(bus, mseg, base_addr, base_size)?;
    cpu.write_mem(bus, mseg, ea, 2, u64::from(table.limit))?;
    cpu.write_mem(bus, mseg, base_addr, base_size, table.base)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::descriptor::testutil::*;
    use crate::interp::tests::{long64, prot32, real_mode};
    use crate::memory::FlatBus;

    #[test]
    fn real_mode_lds_and_lgdt_16bit_base() {
        // lds si,[0x100] ; lgdt [0x200] (o16: 24-bit base) ; sgdt [0x300]
        let code = [
            0xc5, 0x36, 0x00, 0x01, 0x0f, 0x01, 0x16, 0x00, 0x02, 0x0f, 0x01, 0x06, 0x00, 0x03,
        ];
        let (mut cpu, mut bus) = real_mode(&code);
        bus.ram[0x100..0x104].copy_from_slice(&[0x34, 0x12, 0x00, 0x20]);
        bus.ram[0x200..0x206].copy_from_slice(&[0xff, 0x00, 0x11, 0x22, 0x33, 0x44]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.gpr[6] & 0xffff, 0x1234);
        assert_eq!(cpu.state.segment(SegReg::Ds).selector, 0x2000);
        assert_eq!(cpu.state.segment(SegReg::Ds).base, 0x20000);
        // DS base is now 0x20000: the LGDT operand is at 0x20200.
        bus.ram[0x20200..0x20206].copy_from_slice(&[0xff, 0x00, 0x11, 0x22, 0x33, 0x44]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.gdtr.base, 0x33_2211);
        assert_eq!(cpu.state.gdtr.limit, 0xff);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(
            &bus.ram[0x20300..0x20306],
            &[0xff, 0x00, 0x11, 0x22, 0x33, 0x00]
        );
    }

    #[test]
    fn protected_data_loads() {
        let (mut cpu, mut bus) = prot32(&[]);
        let gdt = [
            0,
            FLAT_CODE32,
            seg_desc(0x1234_5678, 0xfff, 0x92, 0x4), // 2: data DPL0, not accessed
            seg_desc(0, 0xfffff, 0xf2, 0xc),         // 3: data DPL3
            seg_desc(0, 0xfffff, 0x9a, 0xc),         // 4: exec/read code DPL0
            seg_desc(0, 0xfffff, 0x98, 0xc),         // 5: exec-only code
            seg_desc(0, 0xfffff, 0x9e, 0xc),         // 6: conforming readable DPL0
            seg_desc(0, 0xfffff, 0x12, 0xc),         // 7: data not present
            seg_desc(0, 0xfffff, 0x90, 0xc),         // 8: read-only data
            gate_desc(0x08, 0x1000, 0x8c, 0),        // 9: call gate
        ];
        setup_gdt(&mut cpu, &mut bus, &gdt);
        let e =
            |cpu: &mut Cpu, bus: &mut FlatBus, s, sel| cpu.load_segment(bus, s, sel).unwrap_err();
        cpu.load_segment(&mut bus, SegReg::Ds, 0x10).unwrap();
        let ds = *cpu.state.segment(SegReg::Ds);
        assert_eq!((ds.base, ds.limit, ds.selector), (0x1234_5678, 0xfff, 0x10));
        assert_eq!(ds.attrs, 0x4093);
        assert_eq!(
            bus.ram[GDT_BASE + 0x10 + 5],
            0x93,
            "accessed bit set in memory"
        );
        cpu.load_segment(&mut bus, SegReg::Es, 0x1b).unwrap();
        assert_eq!(cpu.state.segment(SegReg::Es).selector, 0x1b);
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Es, 0x23),
            Exception::GP(0x20).into()
        );
        cpu.load_segment(&mut bus, SegReg::Fs, 0x20).unwrap();
        assert!(cpu.state.segment(SegReg::Fs).is_code());
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Gs, 0x28),
            Exception::GP(0x28).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Gs, 0x48),
            Exception::GP(0x48).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Gs, 0x38),
            Exception::NP(0x38).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Gs, 0x3b),
            Exception::GP(0x38).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Gs, 0x50),
            Exception::GP(0x50).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Gs, 0x57),
            Exception::GP(0x54).into()
        );
        // Null selector: unusable, RPL kept.
        cpu.load_segment(&mut bus, SegReg::Gs, 0x3).unwrap();
        assert_eq!(*cpu.state.segment(SegReg::Gs), null_segment(3));
        // SS rules.
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ss, 0),
            Exception::GP(0).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ss, 0x13),
            Exception::GP(0x10).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ss, 0x18),
            Exception::GP(0x18).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ss, 0x40),
            Exception::GP(0x40).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ss, 0x38),
            Exception::SS(0x38).into()
        );
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ss, 0x20),
            Exception::GP(0x20).into()
        );
        cpu.load_segment(&mut bus, SegReg::Ss, 0x10).unwrap();
        assert_eq!(cpu.state.ss().base, 0x1234_5678);
        // At CPL 3: RPL/CPL above DPL fail; conforming code is fine.
        let es = *cpu.state.segment(SegReg::Es);
        cpu.state.seg[SegReg::Cs as usize].selector |= 3;
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Es, 0x13),
            Exception::GP(0x10).into()
        );
        assert_eq!(
            *cpu.state.segment(SegReg::Es),
            es,
            "unchanged after a fault"
        );
        cpu.load_segment(&mut bus, SegReg::Es, 0x33).unwrap();
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ss, 0x33),
            Exception::GP(0x30).into()
        );
        cpu.state.seg[SegReg::Cs as usize].selector &= !3;
        cpu.load_segment(&mut bus, SegReg::Es, 0x1b).unwrap();
        // Beyond the GDT limit, and an LDT selector with no LDT.
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ds, 0x50),
            Exception::GP(0x50).into()
        );
        cpu.state.gdtr.limit = 0x4f;
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ds, 0x53),
            Exception::GP(0x50).into()
        );
        cpu.state.ldtr = null_segment(0);
        assert_eq!(
            e(&mut cpu, &mut bus, SegReg::Ds, 0x17),
            Exception::GP(0x14).into()
        );
    }

    #[test]
    fn lgdt_32_and_v86() {
        // lgdt [eax] ; lidt [eax] (32-bit operand size: all 32 base bits)
        let (mut cpu, mut bus) = prot32(&[0x0f, 0x01, 0x10, 0x0f, 0x01, 0x18]);
        cpu.state.gpr[0] = 0x3000;
        put(&mut bus, 0x3000, &[0x17, 0x00, 0x78, 0x56, 0x34, 0x92]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(
            (cpu.state.gdtr.base, cpu.state.gdtr.limit),
            (0x9234_5678, 0x17)
        );
        // Virtual-8086 mode runs at CPL 3: #GP(0).
        let (mut cpu, mut bus) = real_mode(&[0x0f, 0x01, 0x18]);
        cpu.state.cr0 |= crate::state::cr0::PE;
        cpu.state.rflags |= flags::VM;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    }

    #[test]
    fn long_mode_null_ss() {
        let (mut cpu, mut bus) = long64(&[]);
        setup_gdt(&mut cpu, &mut bus, &[0, FLAT_CODE64, FLAT_DATA]);
        cpu.load_segment(&mut bus, SegReg::Ss, 0).unwrap();
        assert_eq!(cpu.state.ss().selector, 0);
        assert!(cpu.state.ss().unusable());
        // RPL != CPL.
        assert_eq!(
            cpu.load_segment(&mut bus, SegReg::Ss, 1),
            Err(Exception::GP(0).into())
        );
        // CPL 3.
        cpu.state.seg[SegReg::Cs as usize].selector |= 3;
        assert_eq!(
            cpu.load_segment(&mut bus, SegReg::Ss, 3),
            Err(Exception::GP(0).into())
        );
        // Compatibility mode: no null SS.
        cpu.state.seg[SegReg::Cs as usize] = Descriptor(FLAT_CODE32).to_segment(0x08);
        assert_eq!(
            cpu.load_segment(&mut bus, SegReg::Ss, 0),
            Err(Exception::GP(0).into())
        );
    }

    #[test]
    fn lss_and_lfs_32() {
        // lss esp,[eax] ; lfs ebx,[eax+6]
        let (mut cpu, mut bus) = prot32(&[0x0f, 0xb2, 0x20, 0x0f, 0xb4, 0x58, 0x06]);
        setup_gdt(&mut cpu, &mut bus, &[0, FLAT_CODE32, FLAT_DATA]);
        cpu.state.gpr[0] = 0x3000;
        bus.ram[0x3000..0x300c].copy_from_slice(&[
            0x78, 0x56, 0x34, 0x12, 0x10, 0x00, 0xef, 0xbe, 0xad, 0xde, 0x18, 0x00,
        ]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.gpr[4], 0x1234_5678);
        assert_eq!(cpu.state.ss().selector, 0x10);
        // 0x18 is beyond the GDT: #GP(0x18), EBX and FS unchanged.
        let fs = *cpu.state.segment(SegReg::Fs);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0x18).into()));
        assert_eq!(cpu.state.gpr[3], 0);
        assert_eq!(*cpu.state.segment(SegReg::Fs), fs);
    }

    #[test]
    fn lgdt_sgdt_64_and_privilege() {
        // lgdt [rax] ; sidt [rax+16] ; lidt [rax]
        let (mut cpu, mut bus) =
            long64(&[0x0f, 0x01, 0x10, 0x0f, 0x01, 0x48, 0x10, 0x0f, 0x01, 0x18]);
        cpu.state.gpr[0] = 0x3000;
        bus.ram[0x3000..0x300a].copy_from_slice(&[0x7f, 0x00, 1, 2, 3, 4, 5, 0x86, 0xff, 0xff]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.gdtr.base, 0xffff_8605_0403_0201);
        assert_eq!(cpu.state.gdtr.limit, 0x7f);
        cpu.state.idtr.base = 0xffff_8000_1234_5678;
        cpu.state.idtr.limit = 0xfff;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(
            &bus.ram[0x3010..0x301a],
            &[0xff, 0x0f, 0x78, 0x56, 0x34, 0x12, 0, 0x80, 0xff, 0xff]
        );
        // Non-canonical base.
        bus.ram[0x3008..0x300a].copy_from_slice(&[0x00, 0x80]);
        let saved = cpu.state.idtr;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        assert_eq!(cpu.state.idtr, saved);
        // CPL 3.
        cpu.state.rip = 0x1000;
        cpu.state.seg[SegReg::Cs as usize].selector |= 3;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        // SIDT at CPL 3 is fine without UMIP, #GP(0) with it.
        cpu.state.rip = 0x1003;
        exec(&mut cpu, &mut bus).unwrap();
        cpu.state.rip = 0x1003;
        cpu.state.cr4 |= cr4::UMIP;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    }
}
