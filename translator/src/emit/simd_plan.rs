//! Planning of SSE/SSE2 instructions and CRC32 as host instructions (the
//! emitter is `simd.rs`, whose header has the pseudo-code).
//!
//! Guest and host share the ISA, so such an instruction runs as itself,
//! re-encoded on host registers: guest XMM operand i in host XMMi (loaded
//! from and stored back to `state.fx`), a guest GPR in rax (operand 0) or
//! rcx (operand 1), a memory operand at [r8] after the inline fast path.
//! What may be decided at translation time is part of the block's cache
//! key ([`SimdEnv`]): whether SSE instructions can fault for availability
//! (CR0.EM/TS, CR4.OSFXSR; SDM Vol. 3 Table 13-1), whether every SIMD
//! floating-point exception is masked (MXCSR bits 7..12), and whether
//! CRC32 may run on this host. A monitor call that changes any of it ends
//! the block (`monitor::Snapshot`), so the rest of a block never runs
//! under a state it was not translated for.

use super::loc::{gpr, Loc};
use cpu_model::state::{cr0, cr4};
use cpu_model::{fxstate, Cpu};
use iced_x86::{
    Code, CpuidFeature, Encoder, Instruction, MemoryOperand, Mnemonic, OpKind, Register,
};

/// MXCSR's six exception masks (IM DM ZM OM UM PM, bits 7..12).
pub const MXCSR_MASKS: u32 = 0x1f80;

/// FCW's six exception masks (IM DM ZM OM UM PM, bits 0..5).
pub const X87_MASKS: u16 = 0x3f;

/// What the translation of SIMD instructions assumed about the CPU (part
/// of the block's cache key and of the monitor's end-of-block snapshot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SimdEnv {
    /// CR4.OSFXSR = 1 and CR0.EM = CR0.TS = 0: an SSE instruction raises
    /// neither #UD nor #NM for availability. With TS = 1 (the lazy FPU
    /// switch) every SSE instruction is a monitor call, which raises #NM.
    pub sse: bool,
    /// `sse`, and MXCSR masks all six exceptions: a floating-point
    /// instruction cannot raise #XM/#UD, so it runs natively under the
    /// guest's MXCSR (rounding, DAZ, FTZ), its flags accumulating there.
    pub fp_masked: bool,
    /// CRC32 may run natively. The one place that decides it: today the
    /// host must have SSE4.2; a CPU model that does not implement SSE4.2
    /// vetoes it here too (the interpreter then raises what it raises).
    pub crc32: bool,
    /// CR0.EM = CR0.TS = 0, the guest FCW masks all six x87 exceptions
    /// and FSW.ES = FSW.B = 0 (no #MF pending): no x87 instruction can fault but
    /// through its memory operand, so the common ones run natively on the
    /// host's x87 loaded with the guest's state (`x87_plan.rs`, `x87.rs`).
    /// (MXCSR must be loadable too: the host's FXRSTOR loads it.)
    pub x87: bool,
}

impl SimdEnv {
    pub fn of(cpu: &Cpu) -> SimdEnv {
        let s = &cpu.state;
        let sse = s.cr4 & cr4::OSFXSR != 0 && s.cr0 & (cr0::EM | cr0::TS) == 0;
        SimdEnv {
            sse,
            // (Bits beyond MXCSR_MASK cannot be loaded; were they there,
            // the host's LDMXCSR would fault: never natively then.)
            fp_masked: sse
                && s.fx.mxcsr & MXCSR_MASKS == MXCSR_MASKS
                && s.fx.mxcsr & !cpu_model::fxstate::MXCSR_MASK == 0,
            crc32: std::arch::is_x86_feature_detected!("sse4.2"),
            // (A FCW as FLDCW loads it and FSW.B = FSW.ES, as the
            // hardware keeps them: FXRSTOR takes the image as it is.)
            x87: s.cr0 & (cr0::EM | cr0::TS) == 0
                && s.fx.fcw & X87_MASKS == X87_MASKS
                && s.fx.fcw == fxstate::fcw_loaded(s.fx.fcw)
                && s.fx.fsw & (fxstate::fsw::ES | fxstate::fsw::B) == 0
                && s.fx.mxcsr & !fxstate::MXCSR_MASK == 0,
        }
    }
}

/// An operand of a native SIMD instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdArg {
    None,
    Xmm(u8),
    /// A general-purpose register of this many bytes.
    Gpr(Loc, u32),
    Mem,
}

/// What an instruction depends on besides its operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdClass {
    /// Moves, logic, packed integer: no MXCSR, no flags.
    Int,
    /// Floating point: MXCSR (needs `SimdEnv::fp_masked`).
    Fp,
    /// (U)COMISS/SD: floating point that sets ZF, PF, CF and clears OF,
    /// SF, AF.
    Comi,
    /// CRC32: integer, needs `SimdEnv::crc32` only.
    Crc32,
}

/// A native SIMD instruction: operand 0, operand 1, an imm8 last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimdOp {
    pub code: Code,
    pub dst: SimdArg,
    pub src: SimdArg,
    pub imm: Option<u8>,
    pub class: SimdClass,
    /// Bytes of the memory operand (0: none).
    pub mem_size: u32,
    /// The memory operand is the m128 of a legacy aligned form: a
    /// misaligned one takes the slow path, where the interpreter raises
    /// #GP(0).
    pub aligned: bool,
}

/// An encoded host instruction (at most 15 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostBytes {
    pub len: u8,
    pub bytes: [u8; 15],
}

impl HostBytes {
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl SimdOp {
    pub fn uses_memory(&self) -> bool {
        self.dst == SimdArg::Mem || self.src == SimdArg::Mem
    }

    /// Does it need the guest's MXCSR in the host's?
    pub fn fp(&self) -> bool {
        matches!(self.class, SimdClass::Fp | SimdClass::Comi)
    }

    /// Guest GPRs the host code reads (a GPR operand 0 is loaded too).
    pub fn for_each_gpr(&self, mut f: impl FnMut(Loc)) {
        for a in [self.dst, self.src] {
            if let SimdArg::Gpr(l, _) = a {
                f(l);
            }
        }
    }
}

/// Moves, logic and packed integer operations (SSE, SSE2): pure
/// functions of their operands.
const INT: &[Mnemonic] = {
    use Mnemonic::*;
    &[
        Movaps, Movups, Movapd, Movupd, Movdqa, Movdqu, Movss, Movsd, Movd, Movq, Movlps, Movhps,
        Movlpd, Movhpd, Movhlps, Movlhps, Movntps, Movntpd, Movntdq, Andps, Andnps, Orps, Xorps,
        Andpd, Andnpd, Orpd, Xorpd, Pand, Pandn, Por, Pxor, Paddb, Paddw, Paddd, Paddq, Paddsb,
        Paddsw, Paddusb, Paddusw, Psubb, Psubw, Psubd, Psubq, Psubsb, Psubsw, Psubusb, Psubusw,
        Pmullw, Pmulhw, Pmulhuw, Pmuludq, Pmaddwd, Pavgb, Pavgw, Pminub, Pmaxub, Pminsw, Pmaxsw,
        Psadbw, Pcmpeqb, Pcmpeqw, Pcmpeqd, Pcmpgtb, Pcmpgtw, Pcmpgtd, Psllw, Pslld, Psllq, Psrlw,
        Psrld, Psrlq, Psraw, Psrad, Pslldq, Psrldq, Packsswb, Packssdw, Packuswb, Punpcklbw,
        Punpcklwd, Punpckldq, Punpcklqdq, Punpckhbw, Punpckhwd, Punpckhdq, Punpckhqdq, Pshufd,
        Pshufhw, Pshuflw, Shufps, Shufpd, Unpcklps, Unpckhps, Unpcklpd, Unpckhpd, Pmovmskb,
        Movmskps, Movmskpd, Pextrw, Pinsrw,
    ]
};

/// Floating-point arithmetic, compares and conversions (MXCSR).
const FP: &[Mnemonic] = {
    use Mnemonic::*;
    &[
        Addps, Addss, Addpd, Addsd, Subps, Subss, Subpd, Subsd, Mulps, Mulss, Mulpd, Mulsd, Divps,
        Divss, Divpd, Divsd, Minps, Minss, Minpd, Minsd, Maxps, Maxss, Maxpd, Maxsd, Sqrtps,
        Sqrtss, Sqrtpd, Sqrtsd, Cmpps, Cmpss, Cmppd, Cmpsd, Cvtss2sd, Cvtsd2ss, Cvtps2pd, Cvtpd2ps,
        Cvtdq2ps, Cvtps2dq, Cvttps2dq, Cvtdq2pd, Cvtpd2dq, Cvttpd2dq, Cvtsi2ss, Cvtsi2sd, Cvtss2si,
        Cvttss2si, Cvtsd2si, Cvttsd2si, Rcpps, Rcpss, Rsqrtps, Rsqrtss,
    ]
};

const COMI: &[Mnemonic] = &[
    Mnemonic::Comiss,
    Mnemonic::Ucomiss,
    Mnemonic::Comisd,
    Mnemonic::Ucomisd,
];

/// `ins` as a native SIMD instruction under `env`, if it is one. Only
/// XMM forms (MMX forms change the x87 tags and TOP: monitor calls), only
/// encodings the interpreter implements (so both engines agree on what
/// raises #UD), no LOCK (rejected before).
pub(super) fn classify_simd(ins: &Instruction, env: SimdEnv) -> Option<SimdOp> {
    let m = ins.mnemonic();
    let class = if m == Mnemonic::Crc32 {
        SimdClass::Crc32
    } else if INT.contains(&m) {
        SimdClass::Int
    } else if FP.contains(&m) {
        SimdClass::Fp
    } else if COMI.contains(&m) {
        SimdClass::Comi
    } else {
        return None;
    };
    let allowed = match class {
        SimdClass::Crc32 => env.crc32,
        SimdClass::Int => env.sse,
        SimdClass::Fp | SimdClass::Comi => env.sse && env.fp_masked,
    };
    if !allowed || cpu_model::interp::desc(ins.code()).handler.is_none() {
        return None;
    }
    // Only the SSE/SSE2 encodings of these mnemonics (not, e.g., the
    // SSE4.1 PEXTRW r/m16 form, whose availability is the CPU model's).
    let base_isa = ins.cpuid_features().iter().all(|f| {
        matches!(
            f,
            CpuidFeature::SSE | CpuidFeature::SSE2 | CpuidFeature::SSE4_2 | CpuidFeature::X64
        )
    });
    if !base_isa {
        return None;
    }
    let n = ins.op_count();
    let (regs, imm) = if n >= 2 && ins.op_kind(n - 1) == OpKind::Immediate8 {
        (n - 1, Some(ins.immediate8()))
    } else {
        (n, None)
    };
    let arg = |i: u32| -> Option<SimdArg> {
        match ins.op_kind(i) {
            OpKind::Register => {
                let r = ins.op_register(i);
                if r.is_xmm() {
                    let idx = (r as u32).checked_sub(iced_x86::Register::XMM0 as u32)?;
                    (idx < 16).then_some(SimdArg::Xmm(idx as u8))
                } else {
                    // AH..BH only as a source (loaded into CL).
                    let (l, size) = gpr(r)?;
                    (!l.high || i == 1).then_some(SimdArg::Gpr(l, size))
                }
            }
            OpKind::Memory => Some(SimdArg::Mem),
            _ => None,
        }
    };
    let (dst, src) = match regs {
        1 => (arg(0)?, SimdArg::None),
        2 => (arg(0)?, arg(1)?),
        _ => return None,
    };
    // A memory destination only for the stores of an XMM register.
    if dst == SimdArg::Mem && !matches!(src, SimdArg::Xmm(_)) {
        return None;
    }
    let mem_size = if dst == SimdArg::Mem || src == SimdArg::Mem {
        let s = ins.memory_size().size() as u32;
        if !matches!(s, 1 | 2 | 4 | 8 | 16) {
            return None;
        }
        s
    } else {
        0
    };
    // Every legacy m128 operand must be aligned but those of the
    // explicitly unaligned moves (SDM Vol. 1 §10.4.1.1, §11.6.7); where
    // the interpreter is more lenient, a misaligned one merely takes the
    // slow path.
    let aligned =
        mem_size == 16 && !matches!(m, Mnemonic::Movups | Mnemonic::Movupd | Mnemonic::Movdqu);
    let op = SimdOp {
        code: ins.code(),
        dst,
        src,
        imm,
        class,
        mem_size,
        aligned,
    };
    // Encodable on host registers (on any XMM pair equally).
    host_instruction(&op, 0, 1)?;
    Some(op)
}

/// A host operand: a register, or the memory at [r8].
#[derive(Clone, Copy)]
enum HostOp {
    None,
    Reg(Register),
    Mem,
}

/// The host register of a guest GPR operand of `size` bytes: operand 0 in
/// rax, operand 1 in rcx (a high-byte source was loaded into CL).
fn host_gpr(op: u32, size: u32) -> Register {
    match (op, size) {
        (0, 2) => Register::AX,
        (0, 4) => Register::EAX,
        (0, _) => Register::RAX,
        (_, 1) => Register::CL,
        (_, 2) => Register::CX,
        (_, 4) => Register::ECX,
        _ => Register::RCX,
    }
}

/// The host instruction of `s`: the guest's encoding on host XMM
/// registers `dst_xmm` (operand 0) and `src_xmm` (operand 1), rax/rcx and
/// [r8]. An m128 is always moved with MOVUPS (the host address of an
/// aligned guest operand need not be aligned): loaded into XMM`src_xmm`
/// (the emitter's XMM1) for the register form of the instruction (the
/// same operation: every m128 operand is read whole), or XMM`src_xmm`
/// stored to [r8]. A narrower memory operand stays in the instruction
/// (those have no alignment rule), so the host reads or writes exactly the
/// guest's bytes, which the fast path proved to lie on one RAM page.
pub(super) fn host_instruction(s: &SimdOp, dst_xmm: u8, src_xmm: u8) -> Option<HostBytes> {
    let (code, dst, src, imm, mem_size) = (s.code, s.dst, s.src, s.imm, s.mem_size);
    let xmm = |n: u8| Register::try_from(Register::XMM0 as usize + usize::from(n & 15)).ok();
    let (xd, xs) = (xmm(dst_xmm)?, xmm(src_xmm)?);
    let host = |a: SimdArg, op: u32| match a {
        SimdArg::None => HostOp::None,
        SimdArg::Xmm(_) => HostOp::Reg(if op == 0 { xd } else { xs }),
        SimdArg::Gpr(_, size) => HostOp::Reg(host_gpr(op, size)),
        SimdArg::Mem if mem_size == 16 => HostOp::Reg(xs),
        SimdArg::Mem => HostOp::Mem,
    };
    let mem = MemoryOperand::with_base(Register::R8);
    let ins = if dst == SimdArg::Mem && mem_size == 16 {
        Instruction::with2(Code::Movups_xmmm128_xmm, mem, xs).ok()?
    } else {
        let imm = imm.map(u32::from);
        match (host(dst, 0), host(src, 1), imm) {
            (HostOp::Reg(a), HostOp::Reg(b), None) => Instruction::with2(code, a, b).ok()?,
            (HostOp::Reg(a), HostOp::Reg(b), Some(i)) => Instruction::with3(code, a, b, i).ok()?,
            (HostOp::Reg(a), HostOp::Mem, None) => Instruction::with2(code, a, mem).ok()?,
            (HostOp::Reg(a), HostOp::Mem, Some(i)) => Instruction::with3(code, a, mem, i).ok()?,
            (HostOp::Mem, HostOp::Reg(b), None) => Instruction::with2(code, mem, b).ok()?,
            (HostOp::Reg(a), HostOp::None, Some(i)) => Instruction::with2(code, a, i).ok()?,
            _ => return None,
        }
    };
    let mut enc = Encoder::new(64);
    let len = enc.encode(&ins, 0).ok()?;
    let buf = enc.take_buffer();
    let mut bytes = [0u8; 15];
    if len > 15 || buf.len() != len {
        return None;
    }
    bytes[..len].copy_from_slice(&buf);
    Some(HostBytes {
        len: len as u8,
        bytes,
    })
}
