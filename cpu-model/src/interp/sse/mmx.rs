//! MMX technology (SDM Vol. 1 ch. 9, Vol. 3 ch. 12): the MMX registers,
//! the x87 state rules of MMX instructions, EMMS, and the moves MOVD,
//! MOVQ (every form, the XMM ones included: one mnemonic, one handler),
//! MOVQ2DQ and MOVDQ2Q.
//!
//! MMn is the significand of the x87 physical register Rn (SDM Vol. 1
//! §9.5). Every MMX instruction but EMMS (and every SSE/SSE2 instruction
//! on an MMX register) makes the transition to MMX operation: TOP := 0
//! (so that ST(n) is Rn and `fx.st[n]` is MMn) and every register tagged
//! valid; a write to MMn also sets bits 79:64 of Rn to all ones. The
//! transition happens once the instruction can no longer fault (its
//! operands have been read and its memory written): a faulting MMX
//! instruction leaves the x87 state as it was. MMX instructions do not
//! touch FIP, FDP or FOP.
//!
//! Availability (SDM Vol. 3 Table 12-1; Vol. 3 Tables 22-7 and 22-8 for
//! the MMX-register forms of SSE/SSE2): #UD when CR0.EM = 1, #NM when
//! CR0.TS = 1, then #MF for a pending unmasked x87 exception (MMX
//! instructions are waiting ones). CR4.OSFXSR is not needed, except by
//! the instructions that also use an XMM register (MOVQ2DQ, MOVDQ2Q).

use super::{check_available, xmm_index, Width};
use crate::exception::{Exception, Fault};
use crate::fxstate::{fsw, X87Reg};
use crate::interp::fpu::check_pending;
use crate::interp::Table;
use crate::memory::Bus;
use crate::state::cr0;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Emms, emms);
    t.set(Mnemonic::Movd, movd);
    t.set(Mnemonic::Movq, movd);
    t.set(Mnemonic::Movq2dq, movq2dq);
    t.set(Mnemonic::Movdq2q, movdq2q);
}

/// The availability checks of an instruction on MMX registers: #UD if
/// CR0.EM, #NM if CR0.TS, #MF for a pending unmasked x87 exception
/// (with CR0.NE; see `check_pending`).
pub(super) fn check_mmx(cpu: &Cpu, bus: &dyn Bus) -> Result<(), Fault> {
    let c0 = cpu.state.cr0;
    if c0 & cr0::EM != 0 {
        return Err(Exception::UD.into());
    }
    if c0 & cr0::TS != 0 {
        return Err(Exception::NM.into());
    }
    check_pending(cpu, bus)
}

/// MMX register number of a register operand.
pub(super) fn mm_index(r: Register) -> usize {
    (r as usize).wrapping_sub(Register::MM0 as usize) & 7
}

impl Cpu {
    /// MMn: the significand of physical register Rn, which is ST(n - TOP)
    /// (read before the transition, as the instruction's operands are).
    pub(super) fn mm(&self, n: usize) -> u64 {
        let top = usize::from(self.state.fx.top());
        self.state.fx.st[n.wrapping_sub(top) & 7].signif
    }

    /// The transition to MMX operation: TOP := 0 (the stack-order array
    /// turns so that `st[n]` is Rn), every register tagged valid.
    pub(super) fn mmx_transition(&mut self) {
        let fx = &mut self.state.fx;
        let top = usize::from(fx.top());
        fx.st.rotate_right(top);
        fx.fsw &= !fsw::TOP;
        fx.ftw = 0xff;
    }

    /// MMn := v, after the transition; bits 79:64 of Rn become all ones.
    pub(super) fn set_mm(&mut self, n: usize, v: u64) {
        self.mmx_transition();
        self.state.fx.st[n & 7] = X87Reg {
            signif: v,
            sign_exp: 0xffff,
            reserved: [0; 6],
        };
    }
}

/// The register file an integer SIMD instruction works on: the MMX
/// registers (8 bytes) or the XMM registers (16 bytes). Values travel as
/// 16 bytes, an MMX register's zero-extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum File {
    Mmx,
    Xmm,
}

impl File {
    /// MMX when any register operand is an MMX register.
    pub(super) fn of(ins: &Instruction) -> File {
        let mmx = (0..ins.op_count())
            .any(|i| ins.op_kind(i) == OpKind::Register && ins.op_register(i).is_mm());
        if mmx {
            File::Mmx
        } else {
            File::Xmm
        }
    }

    /// The register width in bytes.
    pub(super) fn bytes(self) -> usize {
        match self {
            File::Mmx => 8,
            File::Xmm => 16,
        }
    }

    /// The availability checks: MMX's, or SSE's (`check_available`).
    pub(super) fn check(self, cpu: &Cpu, bus: &dyn Bus) -> Result<(), Fault> {
        match self {
            File::Mmx => check_mmx(cpu, bus),
            File::Xmm => Ok(check_available(cpu)?),
        }
    }

    /// Register `r` (MMn or XMMn), zero-extended to 16 bytes.
    pub(super) fn get(self, cpu: &Cpu, r: Register) -> [u8; 16] {
        match self {
            File::Mmx => {
                let mut v = [0u8; 16];
                v[..8].copy_from_slice(&cpu.mm(mm_index(r)).to_le_bytes());
                v
            }
            File::Xmm => cpu.xmm(xmm_index(r)),
        }
    }

    /// Operand `op`: a register, or memory: `mmx` bytes (2, 4 or 8; no
    /// alignment rule beyond #AC) for the MMX forms, `xmm` for the XMM
    /// forms. Zero-extended to 16 bytes.
    pub(super) fn operand(
        self,
        cpu: &mut Cpu,
        bus: &mut dyn Bus,
        ins: &Instruction,
        op: u32,
        mmx: u32,
        xmm: Width,
    ) -> Result<[u8; 16], Fault> {
        if ins.op_kind(op) == OpKind::Register {
            return Ok(self.get(cpu, ins.op_register(op)));
        }
        match self {
            File::Mmx => {
                let seg = Cpu::mem_segment(ins);
                let off = cpu.effective_address(ins);
                let v = cpu.read_mem(bus, seg, off, mmx)?;
                let mut r = [0u8; 16];
                r[..8].copy_from_slice(&v.to_le_bytes());
                Ok(r)
            }
            File::Xmm => cpu.xmm_operand(bus, ins, op, xmm),
        }
    }

    /// Register `r` := `v` (its low 8 bytes for MMn, after the
    /// transition).
    pub(super) fn set(self, cpu: &mut Cpu, r: Register, v: [u8; 16]) {
        match self {
            File::Mmx => cpu.set_mm(mm_index(r), low64(&v)),
            File::Xmm => cpu.set_xmm(xmm_index(r), v),
        }
    }

    /// The end of an instruction that writes no MMX register: the MMX
    /// forms make the transition all the same.
    pub(super) fn done(self, cpu: &mut Cpu) {
        if self == File::Mmx {
            cpu.mmx_transition();
        }
    }
}

/// The low 8 bytes as a quadword.
pub(super) fn low64(v: &[u8; 16]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&v[..8]);
    u64::from_le_bytes(b)
}

/// A quadword zero-extended to 16 bytes.
fn zext(v: u64) -> [u8; 16] {
    let mut r = [0u8; 16];
    r[..8].copy_from_slice(&v.to_le_bytes());
    r
}

/// EMMS — SDM Vol. 2 "EMMS": every x87 register tagged empty (FTW :=
/// FFFFH, abridged 00H); TOP and the registers stay.
fn emms(cpu: &mut Cpu, bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    check_mmx(cpu, bus)?;
    cpu.state.fx.ftw = 0;
    Ok(())
}

/// MOVD/MOVQ, every form — SDM Vol. 2 "MOVD/MOVQ" and "MOVQ":
/// - mm or xmm := r/m32 or r/m64, zero-extended (an XMM destination's
///   upper bytes cleared);
/// - r/m32 or r/m64 := the low doubleword or quadword of mm or xmm (a
///   32-bit register destination zero-extended into the 64-bit one);
/// - MOVQ mm, mm/m64 and MOVQ mm/m64, mm;
/// - MOVQ xmm, xmm/m64 (F3 0F 7E) and MOVQ xmm/m64, xmm (66 0F D6): the
///   low quadword, an XMM destination's upper half cleared.
///
/// No memory form has an alignment rule beyond #AC.
fn movd(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let v = match ins.op1_kind() {
        OpKind::Register => {
            let r = ins.op1_register();
            if r.is_mm() || r.is_xmm() {
                low64(&file.get(cpu, r))
            } else {
                cpu.reg(r)
            }
        }
        _ => cpu.read_op(bus, ins, 1)?,
    };
    match ins.op0_kind() {
        OpKind::Register => {
            let r = ins.op0_register();
            if r.is_mm() || r.is_xmm() {
                // A doubleword source was read zero-extended.
                file.set(cpu, r, zext(v));
            } else {
                cpu.set_reg(r, v);
                file.done(cpu);
            }
        }
        _ => {
            cpu.write_op(bus, ins, 0, v)?;
            file.done(cpu);
        }
    }
    Ok(())
}

/// The availability checks of MOVQ2DQ and MOVDQ2Q (SDM Vol. 2 under
/// each): SSE2's (CR4.OSFXSR included), then a pending x87 exception.
fn check_mixed(cpu: &Cpu, bus: &dyn Bus) -> Result<(), Fault> {
    check_available(cpu)?;
    check_pending(cpu, bus)
}

/// MOVQ2DQ xmm, mm — xmm := zero-extended mm; the transition to MMX
/// operation.
fn movq2dq(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_mixed(cpu, bus)?;
    let v = cpu.mm(mm_index(ins.op1_register()));
    cpu.mmx_transition();
    cpu.set_xmm(xmm_index(ins.op0_register()), zext(v));
    Ok(())
}

/// MOVDQ2Q mm, xmm — mm := the low quadword of xmm.
fn movdq2q(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_mixed(cpu, bus)?;
    let v = low64(&cpu.xmm(xmm_index(ins.op1_register())));
    cpu.set_mm(mm_index(ins.op0_register()), v);
    Ok(())
}

#[cfg(test)]
#[path = "mmx_tests.rs"]
pub(super) mod tests;
