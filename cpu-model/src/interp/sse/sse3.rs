//! SSE3 (SDM Vol. 1 §12.3; Vol. 2 under each mnemonic):
//!
//! - ADDSUBPS/ADDSUBPD, HADDPS/HADDPD, HSUBPS/HSUBPD xmm1, xmm2/m128:
//!   computed on the host's SSE unit (`hostfp::sse::sse3`) under the
//!   guest's MXCSR, with the SIMD exception rules of `fp.rs` (an unmasked
//!   exception writes nothing and raises #XM, or #UD without
//!   CR4.OSXMMEXCPT);
//! - MOVSHDUP/MOVSLDUP xmm1, xmm2/m128 (16-byte aligned, exception type
//!   4), MOVDDUP xmm1, xmm2/m64 (type 5: no #GP for alignment, #AC for an
//!   m64 not 8-byte aligned with alignment checking, as any quadword) and
//!   LDDQU xmm1, m128 (unaligned by definition; #AC as below).
//!
//! FISTTP, the x87 part of SSE3, is in `fpu/`. MONITOR and MWAIT have no
//! handler (#UD): CPUID does not advertise MONITOR.

use super::fp::simd_flags;
use super::{check_available, xmm_index, Width};
use crate::exception::{Exception, Fault};
use crate::flags;
use crate::interp::Table;
use crate::memory::Bus;
use crate::mmu::AccessKind;
use crate::state::cr0;
use crate::Cpu;
use hostfp::sse::Sse3Op;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [Addsubps, Addsubpd, Haddps, Haddpd, Hsubps, Hsubpd] {
        t.set(m, arith);
    }
    for m in [Movshdup, Movsldup, Movddup, Lddqu] {
        t.set(m, load_dup);
    }
}

fn op_of(m: Mnemonic) -> Sse3Op {
    match m {
        Mnemonic::Addsubps => Sse3Op::Addsubps,
        Mnemonic::Addsubpd => Sse3Op::Addsubpd,
        Mnemonic::Haddps => Sse3Op::Haddps,
        Mnemonic::Haddpd => Sse3Op::Haddpd,
        Mnemonic::Hsubps => Sse3Op::Hsubps,
        _ => Sse3Op::Hsubpd,
    }
}

/// xmm1 := xmm1 op xmm2/m128 on the host, then `simd_flags` (which
/// leaves xmm1 as it was when an unmasked exception is raised).
fn arith(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let a = cpu.xmm(dst);
    let (r, flags) = hostfp::sse::sse3(op_of(ins.mnemonic()), a, b, cpu.state.fx.mxcsr);
    simd_flags(cpu, flags)?;
    cpu.set_xmm(dst, r);
    Ok(())
}

/// The moves' results from their source value `s`: MOVSHDUP duplicates
/// the odd doublewords (1, 1, 3, 3), MOVSLDUP the even ones (0, 0, 2,
/// 2), MOVDDUP the low quadword; LDDQU copies.
pub(super) fn duplicated(m: Mnemonic, s: &[u8; 16]) -> [u8; 16] {
    let mut r = [0u8; 16];
    match m {
        Mnemonic::Movshdup | Mnemonic::Movsldup => {
            let odd = usize::from(m == Mnemonic::Movshdup);
            for pair in 0..2 {
                let from = 4 * (2 * pair + odd);
                for k in 0..2 {
                    let to = 4 * (2 * pair + k);
                    r[to..to + 4].copy_from_slice(&s[from..from + 4]);
                }
            }
        }
        Mnemonic::Movddup => {
            r[..8].copy_from_slice(&s[..8]);
            r[8..].copy_from_slice(&s[..8]);
        }
        _ => r = *s, // LDDQU
    }
    r
}

/// MOVSHDUP, MOVSLDUP, MOVDDUP, LDDQU: xmm1 := the source rearranged
/// (`duplicated`). No SIMD floating-point exception: these only move
/// bits.
fn load_dup(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let m = ins.mnemonic();
    let s = match m {
        // A quadword load: `xmm_operand` applies the 8-byte #AC rule.
        Mnemonic::Movddup => cpu.xmm_operand(bus, ins, 1, Width::M64)?,
        Mnemonic::Lddqu => lddqu_source(cpu, bus, ins)?,
        _ => cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?,
    };
    cpu.set_xmm(xmm_index(ins.op0_register()), duplicated(m, &s));
    Ok(())
}

/// LDDQU's m128: no alignment rule but #AC, which the SDM (Vol. 3
/// "Interrupt 17") lets the unaligned 128-bit loads raise, with alignment
/// checking on, for an address not 8-byte aligned (xlat does, as
/// MASKMOVDQU; an AMD host checks 16-byte alignment here). Segment
/// faults come first, then #AC, then paging, as for `read_mem`.
fn lddqu_source(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<[u8; 16], Fault> {
    let seg = Cpu::mem_segment(ins);
    let off = cpu.effective_address(ins);
    let lin = cpu.linearize(seg, off, 16, AccessKind::Read)?;
    let st = &cpu.state;
    let checks = st.cr0 & cr0::AM != 0 && st.rflags & flags::AC != 0 && st.cpl() == 3;
    if checks && lin & 7 != 0 {
        return Err(Exception::AC.into());
    }
    let mut v = [0u8; 16];
    cpu.read_mem_block(bus, seg, off, &mut v)?;
    Ok(v)
}

#[cfg(test)]
#[path = "sse3_tests.rs"]
mod tests;
