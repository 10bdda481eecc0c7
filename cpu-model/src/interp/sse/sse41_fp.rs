//! SSE4.1 blends, dot products and rounding, legacy forms (SDM Vol. 2
//! "BLENDPS", "BLENDPD", "BLENDVPS", "BLENDVPD", "PBLENDVB", "PBLENDW",
//! "DPPS", "DPPD", "ROUNDPS", "ROUNDPD", "ROUNDSS", "ROUNDSD").
//!
//! The blends take each element from the destination or the source by an
//! imm8 bit (BLENDPS, BLENDPD, PBLENDW) or by the top bit of the element
//! in the implicit XMM0 (BLENDVPS, BLENDVPD, PBLENDVB); they compute
//! nothing, so raise no SIMD exception. The dot products and the rounding
//! run on the host's SSE unit under the guest's MXCSR (`hostfp::sse`),
//! with the SIMD exception rules of `fp.rs` (unmasked: nothing written,
//! #XM or #UD). m128 sources are 16-byte aligned (#GP(0)); ROUNDSS's m32
//! and ROUNDSD's m64 are not.

use super::fp::{simd_flags, simd_flags_reported};
use super::{check_available, xmm_index, Width};
use crate::exception::Fault;
use crate::interp::Table;
use crate::memory::Bus;
use crate::Cpu;
use hostfp::sse::Round;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [Blendps, Blendpd, Pblendw, Blendvps, Blendvpd, Pblendvb] {
        t.set(m, blend);
    }
    t.set(Dpps, dot_product);
    t.set(Dppd, dot_product);
    for m in [Roundps, Roundpd, Roundss, Roundsd] {
        t.set(m, round);
    }
}

/// Element `i` (of `size` bytes) from `b` where `pick(i)`, else from `a`.
pub(super) fn blended(
    a: &[u8; 16],
    b: &[u8; 16],
    size: usize,
    pick: impl Fn(usize) -> bool,
) -> [u8; 16] {
    let mut r = *a;
    for i in 0..16 / size {
        if pick(i) {
            r[i * size..(i + 1) * size].copy_from_slice(&b[i * size..(i + 1) * size]);
        }
    }
    r
}

/// BLENDPS/BLENDPD/PBLENDW xmm1, xmm2/m128, imm8 (element i from the
/// source where imm8 bit i is set: bits 3:0, 1:0, 7:0) and BLENDVPS/
/// BLENDVPD/PBLENDVB xmm1, xmm2/m128, <XMM0> (where the top bit of XMM0's
/// element i is set).
fn blend(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let m = ins.mnemonic();
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let a = cpu.xmm(dst);
    let size = match m {
        Blendps | Blendvps => 4,
        Blendpd | Blendvpd => 8,
        Pblendw => 2,
        _ => 1, // PBLENDVB
    };
    let r = if matches!(m, Blendps | Blendpd | Pblendw) {
        let imm = ins.immediate8();
        blended(&a, &b, size, |i| imm & (1 << i) != 0)
    } else {
        let sel = cpu.xmm(0);
        blended(&a, &b, size, |i| sel[i * size + size - 1] & 0x80 != 0)
    };
    cpu.set_xmm(dst, r);
    Ok(())
}

/// DPPS/DPPD xmm1, xmm2/m128, imm8: the products selected by imm8[7:4]
/// (DPPD: [5:4]) summed, into the elements selected by imm8[3:0] ([1:0]),
/// the others +0.0.
fn dot_product(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let (a, imm, csr) = (cpu.xmm(dst), ins.immediate8(), cpu.state.fx.mxcsr);
    let dpps = ins.mnemonic() == Mnemonic::Dpps;
    let (r, f) = if dpps {
        hostfp::sse::dpps(a, b, imm, csr)
    } else {
        hostfp::sse::dppd(a, b, imm, csr)
    };
    simd_flags_reported(cpu, f)?;
    cpu.set_xmm(dst, r);
    Ok(())
}

/// ROUNDPS/ROUNDPD xmm1, xmm2/m128, imm8 and ROUNDSS/ROUNDSD xmm1,
/// xmm2/m32 or m64, imm8 (the scalar forms keep the rest of xmm1): each
/// element rounded to an integral value by imm8[1:0], or MXCSR.RC when
/// imm8[2] is set; imm8[3] suppresses the precision exception. An SNaN is
/// invalid (IE); DAZ applies (the SDM lists no denormal exception).
fn round(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let (form, width) = match ins.mnemonic() {
        Roundps => (Round::Ps, Width::Aligned128),
        Roundpd => (Round::Pd, Width::Aligned128),
        Roundss => (Round::Ss, Width::M32),
        _ => (Round::Sd, Width::M64),
    };
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, width)?;
    let (r, f) = hostfp::sse::round(form, cpu.xmm(dst), b, ins.immediate8(), cpu.state.fx.mxcsr);
    simd_flags(cpu, f)?;
    cpu.set_xmm(dst, r);
    Ok(())
}

#[cfg(test)]
#[path = "sse41_fp_tests.rs"]
mod tests;
