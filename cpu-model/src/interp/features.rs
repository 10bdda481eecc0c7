//! Which encodings a CPU model's feature bits make available: iced-x86's
//! `cpuid_features` of each `Code` mapped to the CPUID bits of SDM Vol. 2
//! "CPUID" (Tables 3-10, 3-11 and the leaf 7 / 0DH / 80000001H tables).
//! `CpuModel::enables` caches the answer per model; an encoding that is
//! not enabled raises #UD (counted in `Stats::not_in_model`), except the
//! two whose opcodes older processors read as another instruction (see
//! [`without_feature`]).

use crate::cpuid_bits::{bit, Features};
use iced_x86::{Code, CpuidFeature as F, Instruction};

/// Where a feature is advertised.
enum Where {
    /// On every processor xlat models (8086-486 instructions, CPUID,
    /// PAUSE, multi-byte NOPs, RDPMC: none has a CPUID bit).
    Always,
    Leaf1Edx(u32),
    Leaf1Ecx(u32),
    Leaf7Ebx(u32),
    Leaf7Ecx(u32),
    Leaf7Edx(u32),
    XsaveEax(u32),
    Ext1Ecx(u32),
    Ext1Edx(u32),
    /// Not advertised by any model here (AVX, AVX-512, VMX, SVM, AMX,
    /// 3DNow!, the 8086/286/386-only instructions, other vendors' ones,
    /// ...).
    Never,
}

fn where_is(f: F) -> Where {
    use Where::*;
    match f {
        F::INTEL8086 | F::INTEL186 | F::INTEL286 | F::INTEL386 | F::INTEL486 => Always,
        F::CPUID | F::MULTIBYTENOP | F::PAUSE | F::RDPMC => Always,
        F::FPU | F::FPU287 | F::FPU387 => Leaf1Edx(bit::FPU),
        F::TSC => Leaf1Edx(bit::TSC),
        F::MSR => Leaf1Edx(bit::MSR),
        F::CX8 => Leaf1Edx(bit::CX8),
        F::SEP => Leaf1Edx(bit::SEP),
        F::CMOV => Leaf1Edx(bit::CMOV),
        F::CLFSH => Leaf1Edx(bit::CLFSH),
        F::MMX => Leaf1Edx(bit::MMX),
        F::FXSR => Leaf1Edx(bit::FXSR),
        F::SSE => Leaf1Edx(bit::SSE),
        F::SSE2 => Leaf1Edx(bit::SSE2),
        F::SSE3 => Leaf1Ecx(bit::SSE3),
        F::PCLMULQDQ => Leaf1Ecx(bit::PCLMULQDQ),
        F::MONITOR => Leaf1Ecx(bit::MONITOR),
        F::VMX => Leaf1Ecx(bit::VMX),
        F::SSSE3 => Leaf1Ecx(bit::SSSE3),
        F::FMA => Leaf1Ecx(bit::FMA),
        F::CMPXCHG16B => Leaf1Ecx(bit::CX16),
        F::SSE4_1 => Leaf1Ecx(bit::SSE4_1),
        F::SSE4_2 => Leaf1Ecx(bit::SSE4_2),
        F::MOVBE => Leaf1Ecx(bit::MOVBE),
        F::POPCNT => Leaf1Ecx(bit::POPCNT),
        F::AES => Leaf1Ecx(bit::AES),
        F::XSAVE => Leaf1Ecx(bit::XSAVE),
        F::AVX => Leaf1Ecx(bit::AVX),
        F::F16C => Leaf1Ecx(bit::F16C),
        F::RDRAND => Leaf1Ecx(bit::RDRAND),
        F::FSGSBASE => Leaf7Ebx(bit::FSGSBASE),
        F::BMI1 => Leaf7Ebx(bit::BMI1),
        F::AVX2 => Leaf7Ebx(bit::AVX2),
        F::BMI2 => Leaf7Ebx(bit::BMI2),
        F::INVPCID => Leaf7Ebx(bit::INVPCID),
        F::RDSEED => Leaf7Ebx(bit::RDSEED),
        F::ADX => Leaf7Ebx(bit::ADX),
        F::SMAP => Leaf7Ebx(bit::SMAP),
        F::CLFLUSHOPT => Leaf7Ebx(bit::CLFLUSHOPT),
        F::CLWB => Leaf7Ebx(bit::CLWB),
        F::SHA => Leaf7Ebx(bit::SHA),
        F::RDPID => Leaf7Ecx(1 << 22),
        F::SERIALIZE => Leaf7Edx(1 << 14),
        F::XSAVEOPT => XsaveEax(bit::XSAVEOPT),
        F::XSAVEC => XsaveEax(bit::XSAVEC),
        F::XSAVES => XsaveEax(bit::XSAVES),
        F::LZCNT => Ext1Ecx(bit::ABM),
        F::SVM => Ext1Ecx(bit::SVM),
        F::SSE4A => Ext1Ecx(bit::SSE4A),
        F::PREFETCHW => Ext1Ecx(bit::PREFETCHW),
        F::SYSCALL => Ext1Edx(bit::SYSCALL),
        F::RDTSCP => Ext1Edx(bit::RDTSCP),
        F::X64 => Ext1Edx(bit::LM),
        _ => Never,
    }
}

fn has(features: &Features, f: F) -> bool {
    let xsave = features.leaf1_ecx & bit::XSAVE != 0;
    match where_is(f) {
        Where::Always => true,
        Where::Leaf1Edx(b) => features.leaf1_edx & b != 0,
        Where::Leaf1Ecx(b) => features.leaf1_ecx & b != 0,
        Where::Leaf7Ebx(b) => features.leaf7_ebx & b != 0,
        Where::Leaf7Ecx(b) => features.leaf7_ecx & b != 0,
        Where::Leaf7Edx(b) => features.leaf7_edx & b != 0,
        Where::XsaveEax(b) => xsave && features.xsave_eax & b != 0,
        Where::Ext1Ecx(b) => features.ext1_ecx & b != 0,
        Where::Ext1Edx(b) => features.ext1_edx & b != 0,
        Where::Never => false,
    }
}

/// Is `code` available with `features`: every CPUID feature iced lists
/// for it advertised. ENDBR32/64 are hint NOPs (opcode 0F 1E, the
/// reserved-NOP space) on processors without CET, so always available.
pub(crate) fn code_enabled(features: &Features, code: Code) -> bool {
    if code == Code::INVALID {
        return false;
    }
    if matches!(code, Code::Endbr32 | Code::Endbr64) {
        return true;
    }
    let mut ins = Instruction::new();
    ins.set_code(code);
    ins.cpuid_features().iter().all(|&f| has(features, f))
}

/// What a processor without the feature of `code` executes instead:
/// TZCNT (F3 0F BC) is BSF and LZCNT (F3 0F BD) is BSR there, the F3
/// prefix being ignored (SDM Vol. 2 "TZCNT", "LZCNT": "on processors that
/// do not support TZCNT/LZCNT, the instruction byte encoding is executed
/// as BSF/BSR"). `None`: it raises #UD.
pub(crate) fn without_feature(code: Code) -> Option<Code> {
    Some(match code {
        Code::Tzcnt_r16_rm16 => Code::Bsf_r16_rm16,
        Code::Tzcnt_r32_rm32 => Code::Bsf_r32_rm32,
        Code::Tzcnt_r64_rm64 => Code::Bsf_r64_rm64,
        Code::Lzcnt_r16_rm16 => Code::Bsr_r16_rm16,
        Code::Lzcnt_r32_rm32 => Code::Bsr_r32_rm32,
        Code::Lzcnt_r64_rm64 => Code::Bsr_r64_rm64,
        _ => return None,
    })
}
