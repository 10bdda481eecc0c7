//! SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2 (SDM Vol. 1 ch. 10-12;
//! Vol. 2 under each mnemonic). The XMM registers and MXCSR live in the
//! FXSAVE image (`CpuState::fx`).
//!
//! - `mod.rs`: availability (#UD/#NM by CR0 and CR4.OSFXSR), XMM operand
//!   access with the 16-byte alignment rule of the legacy packed forms,
//!   LDMXCSR/STMXCSR;
//! - `fp.rs`: floating-point arithmetic, computed on the host's SSE unit
//!   (`hostfp::sse`) under the guest's MXCSR, with the SIMD exception
//!   rules (unmasked: nothing written, #XM or #UD);
//! - `cvt.rs`: logic, compares, conversions;
//! - `mov.rs`: moves;
//! - `shuffle.rs`: half moves, shuffles, unpacks, masks, non-temporal
//!   stores, fences and hints;
//! - `int.rs`: the packed integer operations of MMX, SSE and SSE2, one
//!   handler for the MMX and the XMM form of each;
//! - `mmx.rs`: the MMX registers and state rules, EMMS, MOVD/MOVQ,
//!   MOVQ2DQ/MOVDQ2Q;
//! - `sse41.rs`, `sse41_ins.rs`, `sse41_fp.rs`: SSE4.1's packed integer
//!   operations; its extracts and inserts; its blends, dot products and
//!   rounding;
//! - `pcmpstr.rs`: SSE4.2's compares, PCMPESTRI/PCMPESTRM/PCMPISTRI/
//!   PCMPISTRM and PCMPGTQ;
//! - `sse3.rs`: SSE3's ADDSUB, horizontal add/subtract (on the host's
//!   unit, as `fp.rs`), MOVSHDUP/MOVSLDUP/MOVDDUP and LDDQU;
//! - `ssse3.rs`: SSSE3, MMX and XMM forms, on the lane helpers of
//!   `int.rs`.
//!
//! Work in progress (issue #9): CPUID does not advertise SSE or SSE2 until
//! every form is in; until then a guest that tries them anyway gets these
//! implementations, and the rest raise #UD (counted).

mod cvt;
mod fp;
mod int;
mod mmx;
mod mov;
mod pcmpstr;
mod shuffle;
mod sse3;
mod sse41;
mod sse41_fp;
mod sse41_ins;
mod ssse3;

use super::Table;
use crate::exception::{Exception, Fault};
use crate::fxstate::MXCSR_MASK;
use crate::memory::Bus;
use crate::state::{cr0, cr4};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Ldmxcsr, ldmxcsr);
    t.set(Mnemonic::Stmxcsr, stmxcsr);
    cvt::register(t);
    fp::register(t);
    int::register(t);
    mmx::register(t);
    mov::register(t);
    pcmpstr::register(t);
    shuffle::register(t);
    sse3::register(t);
    ssse3::register(t);
    sse41::register(t);
    sse41_fp::register(t);
    sse41_ins::register(t);
}

/// The availability checks of every SSE/SSE2 instruction (SDM Vol. 3
/// Table 13-1): #UD if CR0.EM = 1 or CR4.OSFXSR = 0, #NM if CR0.TS = 1.
pub(super) fn check_available(cpu: &Cpu) -> Result<(), Exception> {
    let st = &cpu.state;
    if st.cr0 & cr0::EM != 0 || st.cr4 & cr4::OSFXSR == 0 {
        return Err(Exception::UD);
    }
    if st.cr0 & cr0::TS != 0 {
        return Err(Exception::NM);
    }
    Ok(())
}

/// XMM register number of a register operand.
pub(super) fn xmm_index(r: Register) -> usize {
    (r as usize).wrapping_sub(Register::XMM0 as usize) & 15
}

/// How much of memory an XMM operand reads, and whether it must be
/// 16-byte aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Width {
    /// m128 of a legacy packed form: #GP(0) unless 16-byte aligned.
    Aligned128,
    /// m128 of MOVUPS, MOVDQU, LDDQU, ...
    Unaligned128,
    M64,
    M32,
    /// m16 of PMOVSXBQ/PMOVZXBQ.
    M16,
}

impl Width {
    fn bytes(self) -> usize {
        match self {
            Width::Aligned128 | Width::Unaligned128 => 16,
            Width::M64 => 8,
            Width::M32 => 4,
            Width::M16 => 2,
        }
    }
}

impl Cpu {
    pub(super) fn xmm(&self, i: usize) -> [u8; 16] {
        self.state.fx.xmm[i & 15]
    }

    pub(super) fn set_xmm(&mut self, i: usize, v: [u8; 16]) {
        self.state.fx.xmm[i & 15] = v;
    }

    /// Operand `op` of `ins`: an XMM register, or memory of `width`
    /// (zero-extended into 16 bytes).
    pub(super) fn xmm_operand(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        op: u32,
        width: Width,
    ) -> Result<[u8; 16], Fault> {
        if ins.op_kind(op) == OpKind::Register {
            return Ok(self.xmm(xmm_index(ins.op_register(op))));
        }
        if width == Width::Aligned128 && self.mem_linear_unchecked(ins) & 15 != 0 {
            return Err(Exception::GP(0).into());
        }
        let mut v = [0u8; 16];
        let seg = Cpu::mem_segment(ins);
        let off = self.effective_address(ins);
        let n = width.bytes();
        if n <= 8 {
            // An m16/m32/m64 is an ordinary data access of its size, so
            // alignment checking applies to it (#AC; SDM Vol. 3 §6.15
            // "Interrupt 17"); only the 128-bit accesses have rules of
            // their own.
            let x = self.read_mem(bus, seg, off, n as u32)?;
            v[..n].copy_from_slice(&x.to_le_bytes()[..n]);
        } else {
            self.read_mem_block(bus, seg, off, &mut v)?;
        }
        Ok(v)
    }

    /// Store the low `width` bytes of `v` to the memory operand of `ins`.
    pub(super) fn store_xmm_memory(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        v: [u8; 16],
        width: Width,
    ) -> Result<(), Fault> {
        if width == Width::Aligned128 && self.mem_linear_unchecked(ins) & 15 != 0 {
            return Err(Exception::GP(0).into());
        }
        let seg = Cpu::mem_segment(ins);
        let off = self.effective_address(ins);
        let n = width.bytes();
        if n <= 8 {
            // As for loads: an m16/m32/m64 store is alignment-checked.
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&v[..n]);
            self.write_mem(bus, seg, off, n as u32, u64::from_le_bytes(b))?;
        } else {
            self.write_mem_block(bus, seg, off, &v[..n])?;
        }
        Ok(())
    }
}

/// LDMXCSR m32 — SDM Vol. 2 "LDMXCSR": #GP(0) for a bit outside
/// MXCSR_MASK. (A flag it sets unmasked raises nothing until the next
/// SIMD instruction detects an exception.)
fn ldmxcsr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let v = cpu.read_op(bus, ins, 0)? as u32;
    if v & !MXCSR_MASK != 0 {
        return Err(Exception::GP(0).into());
    }
    cpu.state.fx.mxcsr = v;
    Ok(())
}

/// STMXCSR m32.
fn stmxcsr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let v = u64::from(cpu.state.fx.mxcsr);
    cpu.write_op(bus, ins, 0, v)?;
    Ok(())
}

#[cfg(test)]
mod tests;
