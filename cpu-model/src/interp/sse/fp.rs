//! SSE/SSE2 floating-point arithmetic: ADD, SUB, MUL, DIV, MIN, MAX, SQRT
//! in their PS, SS, PD and SD forms (SDM Vol. 2 under each mnemonic; the
//! exception rules of Vol. 1 §11.5).

use super::{check_available, xmm_index, Width};
use crate::exception::{Exception, Fault};
use crate::interp::Table;
use crate::memory::Bus;
use crate::state::cr4;
use crate::Cpu;
use hostfp::sse::{mxcsr, SseOp};
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [
        Addps, Addss, Addpd, Addsd, Subps, Subss, Subpd, Subsd, Mulps, Mulss, Mulpd, Mulsd, Divps,
        Divss, Divpd, Divsd, Minps, Minss, Minpd, Minsd, Maxps, Maxss, Maxpd, Maxsd, Sqrtps,
        Sqrtss, Sqrtpd, Sqrtsd, Rcpps, Rcpss, Rsqrtps, Rsqrtss,
    ] {
        t.set(m, arith);
    }
}

/// The host operation and the width of the source operand.
fn op_of(m: Mnemonic) -> (SseOp, Width) {
    use Mnemonic as M;
    use SseOp as S;
    use Width::{Aligned128 as P, M32 as S32, M64 as S64};
    match m {
        M::Addps => (S::Addps, P),
        M::Addss => (S::Addss, S32),
        M::Addpd => (S::Addpd, P),
        M::Addsd => (S::Addsd, S64),
        M::Subps => (S::Subps, P),
        M::Subss => (S::Subss, S32),
        M::Subpd => (S::Subpd, P),
        M::Subsd => (S::Subsd, S64),
        M::Mulps => (S::Mulps, P),
        M::Mulss => (S::Mulss, S32),
        M::Mulpd => (S::Mulpd, P),
        M::Mulsd => (S::Mulsd, S64),
        M::Divps => (S::Divps, P),
        M::Divss => (S::Divss, S32),
        M::Divpd => (S::Divpd, P),
        M::Divsd => (S::Divsd, S64),
        M::Minps => (S::Minps, P),
        M::Minss => (S::Minss, S32),
        M::Minpd => (S::Minpd, P),
        M::Minsd => (S::Minsd, S64),
        M::Maxps => (S::Maxps, P),
        M::Maxss => (S::Maxss, S32),
        M::Maxpd => (S::Maxpd, P),
        M::Maxsd => (S::Maxsd, S64),
        M::Sqrtps => (S::Sqrtps, P),
        M::Sqrtss => (S::Sqrtss, S32),
        M::Sqrtpd => (S::Sqrtpd, P),
        M::Rcpps => (S::Rcpps, P),
        M::Rcpss => (S::Rcpss, S32),
        M::Rsqrtps => (S::Rsqrtps, P),
        M::Rsqrtss => (S::Rsqrtss, S32),
        _ => (S::Sqrtsd, S64),
    }
}

/// xmm1 := xmm1 op xmm2/m — computed on the host, then `simd_flags`.
fn arith(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let (op, width) = op_of(ins.mnemonic());
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, width)?;
    let a = cpu.xmm(dst);
    let (r, flags) = hostfp::sse::sse(op, a, b, cpu.state.fx.mxcsr);
    simd_flags(cpu, flags)?;
    cpu.set_xmm(dst, r);
    Ok(())
}

/// The SIMD floating-point exception rules (SDM Vol. 1 §11.5.1-11.5.3)
/// for the flags an operation raised: set in MXCSR; if any is unmasked,
/// the destination must not be written and the instruction raises #XM
/// (CR4.OSXMMEXCPT = 1) or #UD, an unmasked pre-computation exception
/// (IE, DE, ZE) reporting only the pre-computation flags. (`hostfp::sse`
/// already reports what an unmasked overflow or underflow raises: UE for
/// an exact tiny result, PE as the unbounded-exponent result's.)
pub(super) fn simd_flags(cpu: &mut Cpu, flags: u32) -> Result<(), Fault> {
    let reported = hostfp::sse::reported(flags, cpu.state.fx.mxcsr);
    simd_flags_reported(cpu, reported)
}

/// `simd_flags` for flags that are already those a fault reports (DPPS
/// and DPPD, whose steps `hostfp` filters one by one).
pub(super) fn simd_flags_reported(cpu: &mut Cpu, flags: u32) -> Result<(), Fault> {
    let unmasked = flags & !(cpu.state.fx.mxcsr >> 7) & mxcsr::FLAGS;
    cpu.state.fx.mxcsr |= flags;
    if unmasked != 0 {
        return Err(simd_exception(cpu).into());
    }
    Ok(())
}

/// #XM with CR4.OSXMMEXCPT, #UD without (SDM Vol. 3 §6.15, vector 19).
pub(super) fn simd_exception(cpu: &Cpu) -> Exception {
    if cpu.state.cr4 & cr4::OSXMMEXCPT != 0 {
        Exception::XM
    } else {
        Exception::UD
    }
}
