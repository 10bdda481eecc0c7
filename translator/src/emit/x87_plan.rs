//! Planning of x87 instructions as host instructions (the emitter is
//! `x87.rs`, whose header has the pseudo-code). SDM Vol. 1 ch. 8, Vol. 2
//! under each mnemonic.
//!
//! Guest and host share the x87, so under [`SimdEnv::x87`] (CR0.EM =
//! CR0.TS = 0, every x87 exception masked, no #MF pending) the common x87
//! instructions run as themselves on the host's x87 loaded with the
//! guest's state: register forms as they are, a memory operand at [r8]
//! after the inline fast path. With every exception masked no x87
//! instruction can fault but through its memory operand (whose slow path
//! runs the instruction in the interpreter), and the host computes
//! exactly what the interpreter computes on it (`hostfp`): values,
//! C0-C3, tags, TOP and the sticky flags. The rest (transcendentals,
//! FBLD/FBSTP, FLDCW, FNINIT, FLDENV/FSTENV/FSAVE/FRSTOR, FXSAVE/FXRSTOR)
//! stays a monitor call; a monitor call that changes the environment
//! (FLDCW, FNINIT, FRSTOR, FLDENV, FXRSTOR, XRSTOR, CLTS, MOV CR0) ends
//! the block (`monitor::Snapshot`).
//!
//! FFREE stays a monitor call too: the SDM leaves C0-C3 undefined after
//! it, the interpreter keeps them, and AMD processors clear C1, so the
//! engines would differ. (Every other native form leaves the bits the
//! SDM calls undefined as the interpreter does on the AMD EPYC hosts this
//! ran on; `tests/x87.rs` compares every bit.) FCOMI's C1, which the SDM defines
//! and AMD processors do not clear, is cleared after the host's
//! instruction (`x87.rs`).

use super::loc::{gpr, Loc};
use super::simd_plan::{HostBytes, SimdEnv};
use cpu_model::Cpu;
use iced_x86::{
    Code, CpuidFeature, Encoder, Instruction, MemoryOperand, Mnemonic, OpKind, Register,
};

/// What an x87 instruction does besides the x87 state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum X87Class {
    /// A non-control instruction: it records the guest's last-instruction
    /// pointers (FIP, FCS, FOP; FDP and FDS for a memory operand).
    Plain,
    /// FCOMI/FCOMIP/FUCOMI/FUCOMIP: also ZF, PF, CF from the comparison,
    /// OF, SF, AF cleared.
    Comi,
    /// FCMOVcc: reads CF, ZF, PF.
    Fcmov,
    /// FNSTSW/FNSTCW m16, FNCLEX (and the waiting forms, which under the
    /// environment wait for nothing): no pointers.
    Control,
    /// FNSTSW AX: a control instruction writing the guest's AX.
    StswAx,
}

/// The memory operand of a native x87 instruction, as
/// `Cpu::effective_address` computes the FDP it records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X87Mem {
    /// Bytes accessed (2, 4, 8 or 10).
    pub size: u32,
    /// Written (FST/FIST/FNSTSW/FNSTCW), else read.
    pub store: bool,
    /// `SegReg as usize` of the effective segment.
    pub seg: u8,
    pub base: Option<Loc>,
    pub index: Option<(Loc, u32)>,
    /// Displacement, or the absolute address of a RIP-relative operand.
    pub disp: u64,
    pub addr_size: u32,
}

/// A native x87 instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X87Op {
    pub code: Code,
    pub class: X87Class,
    pub mem: Option<X87Mem>,
    /// The host instruction (memory operand at [r8]).
    pub host: HostBytes,
    /// The guest's RIP of the instruction (FIP).
    pub ip: u64,
    /// FOP (set from the instruction's bytes by `plan_block`).
    pub fop: u16,
    /// FOP, FIP and FCS need not be stored: the next instruction of the
    /// block overwrites them before anything can observe them
    /// (`plan::elide_overwritten_pointers`).
    pub ip_overwritten: bool,
}

impl X87Op {
    /// Does it record the last-instruction pointers?
    pub fn records_pointers(&self) -> bool {
        matches!(
            self.class,
            X87Class::Plain | X87Class::Comi | X87Class::Fcmov
        )
    }
}

/// Non-control instructions computed on the x87 alone (FFREE: see the
/// module comment).
const PLAIN: &[Mnemonic] = {
    use Mnemonic::*;
    &[
        Fld, Fst, Fstp, Fild, Fist, Fistp, Fisttp, Fadd, Faddp, Fiadd, Fsub, Fsubp, Fisub, Fsubr,
        Fsubrp, Fisubr, Fmul, Fmulp, Fimul, Fdiv, Fdivp, Fidiv, Fdivr, Fdivrp, Fidivr, Fchs, Fabs,
        Fxch, Fcom, Fcomp, Fcompp, Fucom, Fucomp, Fucompp, Ficom, Ficomp, Ftst, Fxam, Fsqrt, Fld1,
        Fldl2t, Fldl2e, Fldpi, Fldlg2, Fldln2, Fldz, Frndint, Fscale, Fxtract, Fprem, Fprem1,
        Fincstp, Fdecstp, Fnop,
    ]
};

const COMI: &[Mnemonic] = &[
    Mnemonic::Fcomi,
    Mnemonic::Fcomip,
    Mnemonic::Fucomi,
    Mnemonic::Fucomip,
];

const FCMOV: &[Mnemonic] = {
    use Mnemonic::*;
    &[
        Fcmovb, Fcmove, Fcmovbe, Fcmovu, Fcmovnb, Fcmovne, Fcmovnbe, Fcmovnu,
    ]
};

const CONTROL: &[Mnemonic] = {
    use Mnemonic::*;
    &[Fnstsw, Fstsw, Fnstcw, Fstcw, Fnclex, Fclex]
};

/// Instructions whose memory operand is written.
const STORES: &[Mnemonic] = {
    use Mnemonic::*;
    &[Fst, Fstp, Fist, Fistp, Fisttp, Fnstsw, Fstsw, Fnstcw, Fstcw]
};

/// `ins` as a native x87 instruction under `env`, if it is one: only
/// encodings the interpreter implements, of the x87 itself (FNSTSW AX
/// from the 287, FCMOV and FCOMI with CMOV, FISTTP with SSE3; the
/// mnemonics above exclude the 8087/287-only ones), no
/// LOCK (rejected before). The CPU model's veto is `plan_block`'s.
pub(super) fn classify_x87(ins: &Instruction, env: SimdEnv) -> Option<X87Op> {
    if !env.x87 {
        return None;
    }
    let m = ins.mnemonic();
    let class = if PLAIN.contains(&m) {
        X87Class::Plain
    } else if COMI.contains(&m) {
        X87Class::Comi
    } else if FCMOV.contains(&m) {
        X87Class::Fcmov
    } else if CONTROL.contains(&m) {
        if ins.op_count() == 1 && ins.op0_kind() == OpKind::Register {
            X87Class::StswAx
        } else {
            X87Class::Control
        }
    } else {
        return None;
    };
    // Only encodings the interpreter implements.
    cpu_model::interp::desc(ins.code()).handler?;
    let isa = ins.cpuid_features().iter().all(|f| {
        matches!(
            f,
            CpuidFeature::FPU
                | CpuidFeature::FPU287
                | CpuidFeature::FPU387
                | CpuidFeature::CMOV
                | CpuidFeature::SSE3
        )
    });
    if !isa {
        return None;
    }
    let has_mem = (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory);
    let mem = if has_mem {
        // Every native memory form has the memory operand alone.
        if ins.op_count() != 1 {
            return None;
        }
        let size = ins.memory_size().size() as u32;
        if !matches!(size, 2 | 4 | 8 | 10) {
            return None;
        }
        let reg = |r: Register| -> Option<Option<Loc>> {
            match r {
                Register::None | Register::RIP | Register::EIP => Some(None),
                r => gpr(r).filter(|(l, _)| !l.high).map(|(l, _)| Some(l)),
            }
        };
        Some(X87Mem {
            size,
            store: STORES.contains(&m),
            seg: Cpu::mem_segment(ins) as u8,
            base: reg(ins.memory_base())?,
            index: reg(ins.memory_index())?.map(|l| (l, ins.memory_index_scale())),
            disp: ins.memory_displacement64(),
            addr_size: Cpu::addr_size(ins),
        })
    } else {
        None
    };
    Some(X87Op {
        code: ins.code(),
        class,
        mem,
        host: host_instruction(ins, has_mem)?,
        ip: ins.ip(),
        fop: 0,
        ip_overwritten: false,
    })
}

/// The host encoding of `ins`: its register operands (ST(i), AX) as they
/// are, its memory operand at [r8].
fn host_instruction(ins: &Instruction, has_mem: bool) -> Option<HostBytes> {
    let code = ins.code();
    let host = if has_mem {
        Instruction::with1(code, MemoryOperand::with_base(Register::R8)).ok()?
    } else {
        match ins.op_count() {
            0 => Instruction::with(code),
            1 => Instruction::with1(code, ins.op0_register()).ok()?,
            2 => Instruction::with2(code, ins.op0_register(), ins.op1_register()).ok()?,
            _ => return None,
        }
    };
    let mut enc = Encoder::new(64);
    let len = enc.encode(&host, 0).ok()?;
    let buf = enc.take_buffer();
    if len > 15 || buf.len() != len {
        return None;
    }
    let mut bytes = [0u8; 15];
    bytes[..len].copy_from_slice(&buf);
    Some(HostBytes {
        len: len as u8,
        bytes,
    })
}

/// Is `ins` one of the native x87 forms that only read their memory
/// operand (operand 0 for every x87 form, loads and compares included)?
/// The slow form's TLB fill must not translate it for writing.
pub fn x87_reads_memory_only(ins: &Instruction) -> bool {
    let m = ins.mnemonic();
    PLAIN.contains(&m) && !STORES.contains(&m) && ins.op0_kind() == OpKind::Memory
}

/// FOP of an x87 instruction from its bytes, as the interpreter records
/// it (`Cpu::x87_pointers`): the low 3 bits of the D8-DF opcode byte and
/// the ModR/M byte after it.
pub fn x87_fop(bytes: &[u8]) -> u16 {
    bytes
        .iter()
        .position(|x| (0xd8..=0xdf).contains(x))
        .and_then(|i| Some((u16::from(bytes[i] & 7) << 8) | u16::from(*bytes.get(i + 1)?)))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Decoder, DecoderOptions};

    const ENV: SimdEnv = SimdEnv {
        sse: true,
        fp_masked: true,
        crc32: true,
        x87: true,
    };

    fn plan(bits: u32, code: &[u8]) -> Option<X87Op> {
        let ins = Decoder::with_ip(bits, code, 0x1000, DecoderOptions::NONE).decode();
        let mut op = classify_x87(&ins, ENV)?;
        op.fop = x87_fop(&code[..ins.len()]);
        Some(op)
    }

    fn host(op: &X87Op) -> String {
        Decoder::new(64, op.host.as_slice(), DecoderOptions::NONE)
            .decode()
            .to_string()
    }

    #[test]
    fn forms_and_host_encodings() {
        // fld qword [ebx+esi*8+0x10] in 32-bit code: memory at [r8].
        let op = plan(32, &[0xdd, 0x44, 0xf3, 0x10]).unwrap();
        assert_eq!(op.host.as_slice(), &[0x41, 0xdd, 0x00]);
        let m = op.mem.unwrap();
        assert_eq!((m.size, m.store, m.disp, m.addr_size), (8, false, 0x10, 4));
        assert_eq!(op.fop, 0x544);
        // fstp tbyte [bp+2] in 16-bit code: an m80 store.
        let op = plan(16, &[0xdb, 0x7e, 0x02]).unwrap();
        assert_eq!(op.host.as_slice(), &[0x41, 0xdb, 0x38]);
        assert_eq!(op.mem.unwrap().size, 10);
        assert!(op.mem.unwrap().store);
        // faddp st(3), st: register forms as they are.
        let op = plan(64, &[0xde, 0xc3]).unwrap();
        assert_eq!(host(&op), "faddp st(3),st");
        assert_eq!((op.fop, op.class), (0x6c3, X87Class::Plain));
        let op = plan(64, &[0xdf, 0xe0]).unwrap();
        assert_eq!(
            (host(&op).as_str(), op.class),
            ("fnstsw ax", X87Class::StswAx)
        );
        let op = plan(64, &[0xdb, 0xf1]).unwrap();
        assert_eq!(op.class, X87Class::Comi);
        let op = plan(64, &[0xda, 0xc1]).unwrap();
        assert_eq!(op.class, X87Class::Fcmov);
        // A prefix before the opcode byte is not part of FOP.
        assert_eq!(x87_fop(&[0x66, 0x67, 0xd9, 0x00]), 0x100);
    }

    #[test]
    fn rare_ones_stay_monitor_calls() {
        for code in [
            &[0xd9, 0xfe][..],   // fsin
            &[0xd9, 0xf0],       // f2xm1
            &[0xdf, 0x20],       // fbld
            &[0xd9, 0x28],       // fldcw
            &[0xdb, 0xe3],       // fninit
            &[0xdd, 0x30],       // fnsave
            &[0xd9, 0x20],       // fldenv
            &[0x0f, 0xae, 0x00], // fxsave
            &[0x0f, 0x77],       // emms
        ] {
            assert_eq!(plan(64, code), None, "{code:x?}");
        }
        // Nothing natively outside the environment.
        let ins = Decoder::new(64, &[0xd9, 0xe8], DecoderOptions::NONE).decode();
        let env = SimdEnv { x87: false, ..ENV };
        assert_eq!(classify_x87(&ins, env), None);
    }
}
