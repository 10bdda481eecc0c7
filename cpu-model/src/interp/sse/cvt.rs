//! SSE/SSE2 logic, compares and conversions (SDM Vol. 2 under each
//! mnemonic): ANDPS/ANDNPS/ORPS/XORPS and the PD forms, CMPPS/CMPSS/
//! CMPPD/CMPSD, COMISS/UCOMISS/COMISD/UCOMISD, the conversions between
//! XMM formats and between XMM and general registers.

use super::fp::simd_flags;
use super::mmx::mm_index;
use super::{check_available, xmm_index, Width};
use crate::exception::Fault;
use crate::flags;
use crate::interp::Table;
use crate::memory::Bus;
use crate::Cpu;
use hostfp::sse::{CmpForm, Cvt};
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [Andps, Andpd, Andnps, Andnpd, Orps, Orpd, Xorps, Xorpd] {
        t.set(m, logic);
    }
    for m in [Cmpps, Cmpss, Cmppd] {
        t.set(m, cmp);
    }
    t.set_code(Code::Cmpsd_xmm_xmmm64_imm8, cmp);
    for m in [Comiss, Ucomiss, Comisd, Ucomisd] {
        t.set(m, comi);
    }
    for m in [
        Cvtss2sd, Cvtsd2ss, Cvtps2pd, Cvtpd2ps, Cvtdq2ps, Cvtps2dq, Cvttps2dq, Cvtdq2pd, Cvtpd2dq,
        Cvttpd2dq,
    ] {
        t.set(m, cvt);
    }
    for m in [Cvtsi2ss, Cvtsi2sd] {
        t.set(m, cvtsi2f);
    }
    for m in [Cvtss2si, Cvttss2si, Cvtsd2si, Cvttsd2si] {
        t.set(m, cvtf2si);
    }
    for m in [Cvtpi2ps, Cvtps2pi, Cvttps2pi, Cvtpi2pd, Cvtpd2pi, Cvttpd2pi] {
        t.set(m, cvt_mmx);
    }
}

/// AND, AND NOT (of the destination), OR, XOR of 128 bits; no flags.
fn logic(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let dst = xmm_index(ins.op0_register());
    let b = u128::from_le_bytes(cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?);
    let a = u128::from_le_bytes(cpu.xmm(dst));
    let r = match ins.mnemonic() {
        Andps | Andpd => a & b,
        Andnps | Andnpd => !a & b,
        Orps | Orpd => a | b,
        _ => a ^ b,
    };
    cpu.set_xmm(dst, r.to_le_bytes());
    Ok(())
}

/// CMPcc xmm1, xmm2/m, imm8 (predicate in bits 2:0; the others are
/// ignored by the legacy encodings).
fn cmp(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let (form, width) = match ins.mnemonic() {
        Mnemonic::Cmpps => (CmpForm::Ps, Width::Aligned128),
        Mnemonic::Cmpss => (CmpForm::Ss, Width::M32),
        Mnemonic::Cmppd => (CmpForm::Pd, Width::Aligned128),
        _ => (CmpForm::Sd, Width::M64),
    };
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, width)?;
    let (r, f) = hostfp::sse::cmp(form, ins.immediate8(), cpu.xmm(dst), b, cpu.state.fx.mxcsr);
    simd_flags(cpu, f)?;
    cpu.set_xmm(dst, r);
    Ok(())
}

/// COMISS/UCOMISS/COMISD/UCOMISD: ZF, PF, CF from the compare of the low
/// elements (unordered: all three set); OF, SF, AF := 0.
fn comi(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let m = ins.mnemonic();
    let double = matches!(m, Comisd | Ucomisd);
    let ordered = matches!(m, Comiss | Comisd);
    let width = if double { Width::M64 } else { Width::M32 };
    let a = cpu.xmm(xmm_index(ins.op0_register()));
    let b = cpu.xmm_operand(bus, ins, 1, width)?;
    let ((zf, pf, cf), f) = hostfp::sse::comi(double, ordered, a, b, cpu.state.fx.mxcsr);
    simd_flags(cpu, f)?;
    let mut r =
        cpu.state.rflags & !(flags::ZF | flags::PF | flags::CF | flags::OF | flags::SF | flags::AF);
    for (on, bit) in [(zf, flags::ZF), (pf, flags::PF), (cf, flags::CF)] {
        if on {
            r |= bit;
        }
    }
    cpu.state.rflags = r;
    Ok(())
}

/// The conversions between XMM formats.
fn cvt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let (op, width) = match ins.mnemonic() {
        Cvtss2sd => (Cvt::Ss2sd, Width::M32),
        Cvtsd2ss => (Cvt::Sd2ss, Width::M64),
        Cvtps2pd => (Cvt::Ps2pd, Width::M64),
        Cvtpd2ps => (Cvt::Pd2ps, Width::Aligned128),
        Cvtdq2ps => (Cvt::Dq2ps, Width::Aligned128),
        Cvtps2dq => (Cvt::Ps2dq, Width::Aligned128),
        Cvttps2dq => (Cvt::Tps2dq, Width::Aligned128),
        Cvtdq2pd => (Cvt::Dq2pd, Width::M64),
        Cvtpd2dq => (Cvt::Pd2dq, Width::Aligned128),
        _ => (Cvt::Tpd2dq, Width::Aligned128),
    };
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, width)?;
    let (r, f) = hostfp::sse::cvt(op, cpu.xmm(dst), b, cpu.state.fx.mxcsr);
    simd_flags(cpu, f)?;
    cpu.set_xmm(dst, r);
    Ok(())
}

/// CVTSI2SS/CVTSI2SD xmm, r/m32 or r/m64.
fn cvtsi2f(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let double = ins.mnemonic() == Mnemonic::Cvtsi2sd;
    let wide = if ins.op1_kind() == OpKind::Register {
        ins.op1_register().size() == 8
    } else {
        ins.memory_size().size() == 8
    };
    let v = cpu.read_op(bus, ins, 1)?;
    let dst = xmm_index(ins.op0_register());
    let (r, f) = hostfp::sse::cvtsi2f(double, wide, cpu.xmm(dst), v, cpu.state.fx.mxcsr);
    simd_flags(cpu, f)?;
    cpu.set_xmm(dst, r);
    Ok(())
}

/// CVT(T)SS2SI/CVT(T)SD2SI r32 or r64, xmm/m.
fn cvtf2si(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let m = ins.mnemonic();
    let double = matches!(m, Cvtsd2si | Cvttsd2si);
    let truncate = matches!(m, Cvttss2si | Cvttsd2si);
    let width = if double { Width::M64 } else { Width::M32 };
    let b = cpu.xmm_operand(bus, ins, 1, width)?;
    let dst = ins.op0_register();
    let wide = dst.size() == 8;
    let (v, f) = hostfp::sse::cvtf2si(double, wide, truncate, b, cpu.state.fx.mxcsr);
    simd_flags(cpu, f)?;
    cpu.set_reg(dst, v);
    Ok(())
}

/// The conversions between MMX and XMM registers — SDM Vol. 2 "CVTPI2PS",
/// "CVTPS2PI", "CVTTPS2PI" (SSE), "CVTPI2PD", "CVTPD2PI", "CVTTPD2PI"
/// (SSE2): two doublewords to two singles (the upper half of the XMM
/// destination kept) or doubles, and back, computed on the host as the
/// first two lanes of CVTDQ2PS, CVTDQ2PD, CVT(T)PS2DQ, CVT(T)PD2DQ (the
/// other lanes are zero and raise nothing). A form with an MMX register
/// operand is an MMX instruction as well: a pending x87 exception first
/// (#MF), then the transition to MMX state (TOP := 0, all tags valid).
fn cvt_mmx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let m = ins.mnemonic();
    let to_mmx = matches!(m, Cvtps2pi | Cvttps2pi | Cvtpd2pi | Cvttpd2pi);
    let mmx_src = ins.op1_kind() == OpKind::Register && !to_mmx;
    if to_mmx || mmx_src {
        crate::interp::fpu::check_pending(cpu, bus)?;
    }
    // The source, in the low lanes of 16 bytes.
    let src = if mmx_src {
        let mut v = [0u8; 16];
        v[..8].copy_from_slice(&cpu.mm(mm_index(ins.op1_register())).to_le_bytes());
        v
    } else {
        let width = if matches!(m, Cvtpd2pi | Cvttpd2pi) {
            Width::Aligned128
        } else {
            Width::M64
        };
        let mut v = cpu.xmm_operand(bus, ins, 1, width)?;
        if width == Width::M64 || matches!(m, Cvtps2pi | Cvttps2pi) {
            v[8..].fill(0);
        }
        v
    };
    let op = match m {
        Cvtpi2ps => Cvt::Dq2ps,
        Cvtpi2pd => Cvt::Dq2pd,
        Cvtps2pi => Cvt::Ps2dq,
        Cvttps2pi => Cvt::Tps2dq,
        Cvtpd2pi => Cvt::Pd2dq,
        _ => Cvt::Tpd2dq,
    };
    let (r, f) = hostfp::sse::cvt(op, [0; 16], src, cpu.state.fx.mxcsr);
    simd_flags(cpu, f)?;
    if to_mmx {
        let mut low = [0u8; 8];
        low.copy_from_slice(&r[..8]);
        cpu.set_mm(mm_index(ins.op0_register()), u64::from_le_bytes(low));
        return Ok(());
    }
    if mmx_src {
        cpu.mmx_transition();
    }
    let dst = xmm_index(ins.op0_register());
    let v = if m == Cvtpi2ps {
        let mut d = cpu.xmm(dst);
        d[..8].copy_from_slice(&r[..8]);
        d
    } else {
        r
    };
    cpu.set_xmm(dst, v);
    Ok(())
}
