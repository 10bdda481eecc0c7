//! Planning: which guest instructions run as host code, and in what shape.

pub use super::loc::Loc;
pub(super) use super::loc::{gpr, RCX, RSP};
use super::simd_plan::{classify_simd, SimdEnv, SimdOp};
use super::x87_plan::{classify_x87, X87Class, X87Op};
use cpu_model::interp::{loop_counter, CMOVCC, SETCC};
use cpu_model::Cpu;
use iced_x86::{Code, ConditionCode, Instruction, Mnemonic, OpKind, Register};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    Reg(Loc),
    Imm(u64),
    /// The memory operand (operand 1), read by the interpreter's
    /// `Cpu::read_op` in a helper call before anything else happens.
    Mem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    Mov,
    Add,
    Adc,
    Sub,
    Sbb,
    And,
    Or,
    Xor,
    Cmp,
    Test,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Inc,
    Dec,
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShOp {
    Shl,
    Shr,
    Sar,
}

/// An instruction run as host code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Native {
    Alu {
        op: AluOp,
        size: u32,
        dst: Loc,
        src: Src,
    },
    Unary {
        op: UnOp,
        size: u32,
        dst: Loc,
    },
    Shift {
        op: ShOp,
        size: u32,
        dst: Loc,
        count: u8,
    },
    /// ROL/ROR of a register by an immediate count (1..width-1): CF and
    /// OF only (OF by the interpreter's formula for every count).
    Rotate {
        left: bool,
        size: u32,
        dst: Loc,
        count: u8,
    },
    /// SHL/SHR/SAR of a dword or qword register by CL.
    ShiftCl {
        op: ShOp,
        size: u32,
        dst: Loc,
    },
    Lea {
        size: u32,
        addr_size: u32,
        dst: Loc,
        base: Option<Loc>,
        index: Option<(Loc, u32)>,
        disp: u64,
    },
    Ext {
        signed: bool,
        dst_size: u32,
        src_size: u32,
        dst: Loc,
        src: Src,
    },
    Setcc {
        cc: u8,
        dst: Loc,
    },
    Cmov {
        cc: u8,
        size: u32,
        dst: Loc,
        src: Src,
    },
    /// ALU / INC / DEC / NEG / NOT with a memory destination: read (for
    /// writing instructions checked for writing first), host operation,
    /// write back (not for CMP / TEST), then the flags.
    MemDst {
        op: MemOp,
        size: u32,
        src: Src,
    },
    /// PUSH reg/imm of `size` bytes: inline (SS window, host TLB), or the
    /// interpreter's `Cpu::push` by a helper call for the whole instruction.
    Push {
        size: u32,
        src: Src,
    },
    /// POP reg of `size` bytes (as `Push`; `Cpu::pop`).
    Pop {
        size: u32,
        dst: Loc,
    },
    /// MOV `[mem]`, reg/imm (inline fast path, or `Cpu::write_op`).
    Store {
        size: u32,
        src: Src,
    },
    Xchg {
        size: u32,
        a: Loc,
        b: Loc,
    },
    Bswap {
        size: u32,
        dst: Loc,
    },
    /// CBW/CWDE/CDQE (`to_dx` false) and CWD/CDQ/CQO: sign extension of
    /// the accumulator of `size` bytes.
    Conv {
        size: u32,
        to_dx: bool,
    },
    /// IMUL r, r/m (`imm` None) or IMUL r, r/m, imm of 2, 4 or 8 bytes:
    /// CF = OF = signed overflow; SF, ZF, PF of the result, AF = 0 (as the
    /// interpreter's `mul_flags`).
    Imul {
        size: u32,
        dst: Loc,
        src: Src,
        imm: Option<i32>,
    },
    /// STC, CLC, CMC, STD, CLD on the guest RFLAGS in memory.
    FlagOp(FlagOp),
    /// An SSE/SSE2 instruction or CRC32 as the same host instruction
    /// (`simd_plan.rs`, `simd.rs`).
    Simd(SimdOp),
    /// An x87 instruction as the same host instruction on the host's x87
    /// holding the guest's state (`x87_plan.rs`, `x87.rs`).
    X87(X87Op),
    Nop,
}

/// Operation of [`Native::MemDst`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemOp {
    Alu(AluOp),
    Unary(UnOp),
}

impl Native {
    /// Call `f` for every guest register the host code reads (the
    /// register cache is chosen from these).
    pub fn for_each_reg_read(&self, mut f: impl FnMut(Loc)) {
        let src = |s: Src, f: &mut dyn FnMut(Loc)| {
            if let Src::Reg(l) = s {
                f(l);
            }
        };
        match *self {
            Native::Alu {
                op, dst, src: s, ..
            } => {
                if op != AluOp::Mov {
                    f(dst);
                }
                src(s, &mut f);
            }
            Native::Unary { dst, .. } | Native::Shift { dst, .. } | Native::Bswap { dst, .. } => {
                f(dst)
            }
            Native::ShiftCl { dst, .. } => {
                f(dst);
                f(RCX);
            }
            Native::Rotate { dst, .. } => f(dst),
            Native::Lea { base, index, .. } => {
                base.into_iter().for_each(&mut f);
                index.into_iter().for_each(|(l, _)| f(l));
            }
            Native::Ext { src: s, .. } => src(s, &mut f),
            Native::Imul {
                dst, src: s, imm, ..
            } => {
                if imm.is_none() {
                    f(dst);
                }
                src(s, &mut f);
            }
            Native::Cmov { dst, src: s, .. } => {
                f(dst);
                src(s, &mut f);
            }
            Native::MemDst { src: s, .. } | Native::Store { src: s, .. } => src(s, &mut f),
            Native::Xchg { a, b, .. } => {
                f(a);
                f(b);
            }
            Native::Conv { .. } => f(Loc {
                idx: 0,
                high: false,
            }),
            Native::Push { src: s, .. } => {
                src(s, &mut f);
                f(RSP);
            }
            Native::Pop { .. } => f(RSP),
            Native::Simd(s) => s.for_each_gpr(f),
            Native::Setcc { .. } | Native::FlagOp(_) | Native::X87(_) | Native::Nop => {}
        }
    }

    /// Call `f` for every guest register the host code reads or writes.
    pub fn for_each_reg(&self, mut f: impl FnMut(Loc)) {
        self.for_each_reg_read(&mut f);
        match *self {
            Native::Alu { dst, .. }
            | Native::Unary { dst, .. }
            | Native::Shift { dst, .. }
            | Native::ShiftCl { dst, .. }
            | Native::Rotate { dst, .. }
            | Native::Lea { dst, .. }
            | Native::Ext { dst, .. }
            | Native::Setcc { dst, .. }
            | Native::Cmov { dst, .. }
            | Native::Bswap { dst, .. }
            | Native::Imul { dst, .. }
            | Native::Pop { dst, .. } => f(dst),
            Native::Conv { to_dx: true, .. } => f(Loc {
                idx: 2,
                high: false,
            }),
            // FNSTSW AX.
            Native::X87(x) if x.class == X87Class::StswAx => f(Loc {
                idx: 0,
                high: false,
            }),
            _ => {}
        }
    }

    /// Does the instruction access memory (inline or by a helper call)?
    pub fn uses_memory(&self) -> bool {
        match *self {
            Native::Alu { src, .. }
            | Native::Ext { src, .. }
            | Native::Cmov { src, .. }
            | Native::Imul { src, .. } => src == Src::Mem,
            Native::Store { .. }
            | Native::Push { .. }
            | Native::Pop { .. }
            | Native::MemDst { .. } => true,
            Native::Simd(s) => s.uses_memory(),
            Native::X87(x) => x.mem.is_some(),
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagOp {
    Stc,
    Clc,
    Cmc,
    Std,
    Cld,
}

/// The block ends in a direct branch (JMP or Jcc) to its own start.
pub fn loops_to_start(plan: &[Planned]) -> bool {
    let (Some(first), Some(last)) = (plan.first(), plan.last()) else {
        return false;
    };
    matches!(last.kind, Kind::Branch(Branch::Jcc { target, .. } | Branch::Jmp { target })
        if target == first.ins.ip())
}

/// A direct branch that ends a block natively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branch {
    Jcc {
        cc: u8,
        target: u64,
    },
    Jmp {
        target: u64,
    },
    /// CALL rel: push the return address (`size` bytes, the operand
    /// size) inline, then a direct exit to `target`; the slow form is a
    /// monitor call of the whole CALL.
    Call {
        size: u32,
        target: u64,
    },
    /// RET / RET imm16: pop the return address inline, release `release`
    /// more bytes, exit to the dispatcher (an indirect branch). The target
    /// must be within `limit` (the CS limit, outside 64-bit mode) or
    /// canonical, else the slow form (a monitor call) raises the fault.
    Ret {
        size: u32,
        release: u16,
        limit: Option<u32>,
    },
    /// LOOP (`zf` None), LOOPE (Some(true)), LOOPNE (Some(false)) on the
    /// counter of `size` bytes (CX, ECX, RCX by address size).
    Loop {
        size: u32,
        zf: Option<bool>,
        target: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Native(Native),
    Branch(Branch),
    Monitor,
}

/// One planned guest instruction.
#[derive(Clone, Debug)]
pub struct Planned {
    pub ins: Instruction,
    pub kind: Kind,
    /// RIP after the instruction, wrapped to the code size.
    pub next_rip: u64,
}

/// Condition code 0..15 in encoding order (o, no, b, ae, e, ne, be, a, s,
/// ns, p, np, l, ge, le, g).
fn cc_of(ins: &Instruction) -> Option<u8> {
    match ins.condition_code() {
        ConditionCode::None => None,
        c => Some(c as u8 - 1),
    }
}

fn alu_op(m: Mnemonic) -> Option<AluOp> {
    Some(match m {
        Mnemonic::Mov => AluOp::Mov,
        Mnemonic::Add => AluOp::Add,
        Mnemonic::Adc => AluOp::Adc,
        Mnemonic::Sub => AluOp::Sub,
        Mnemonic::Sbb => AluOp::Sbb,
        Mnemonic::And => AluOp::And,
        Mnemonic::Or => AluOp::Or,
        Mnemonic::Xor => AluOp::Xor,
        Mnemonic::Cmp => AluOp::Cmp,
        Mnemonic::Test => AluOp::Test,
        _ => return None,
    })
}

fn is_imm(k: OpKind) -> bool {
    matches!(
        k,
        OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64
    )
}

fn reg_op(ins: &Instruction, i: u32) -> Option<(Loc, u32)> {
    if ins.op_kind(i) != OpKind::Register {
        return None;
    }
    gpr(ins.op_register(i))
}

/// Decide how `ins` is translated. `bitness` is the code size, `cs_limit`
/// the CS limit (ignored in 64-bit mode).
/// `memory`: translate register/memory forms with helper calls for the
/// memory access (else they are monitor calls).
/// `simd`: what SSE and CRC32 instructions may assume (the block's key).
pub fn classify(
    ins: &Instruction,
    bitness: u32,
    cs_limit: u32,
    memory: bool,
    simd: SimdEnv,
) -> Kind {
    match native(ins, bitness, cs_limit, simd) {
        Some(Kind::Native(n)) if !memory && n.uses_memory() => Kind::Monitor,
        Some(k) => k,
        None => Kind::Monitor,
    }
}

/// Operand 1 as a source: immediate, register of `size` bytes, or memory.
fn src_op(ins: &Instruction, size: u32) -> Option<Src> {
    match ins.op1_kind() {
        k if is_imm(k) => Some(Src::Imm(ins.immediate(1))),
        OpKind::Memory => Some(Src::Mem),
        _ => {
            let (s, ssize) = reg_op(ins, 1)?;
            (ssize == size).then_some(Src::Reg(s))
        }
    }
}

/// Can a near branch go to `target` without faulting: canonical in 64-bit
/// code, within the CS limit otherwise (else the interpreter raises #GP).
fn target_ok(target: u64, bitness: u32, cs_limit: u32) -> bool {
    if bitness == 64 {
        cpu_model::mmu::paging::is_canonical(target)
    } else {
        target <= u64::from(cs_limit)
    }
}

fn native(ins: &Instruction, bitness: u32, cs_limit: u32, simd: SimdEnv) -> Option<Kind> {
    let m = ins.mnemonic();
    if ins.has_lock_prefix() {
        return None;
    }
    if let Some(s) = classify_simd(ins, simd) {
        return Some(Kind::Native(Native::Simd(s)));
    }
    if let Some(x) = classify_x87(ins, simd) {
        return Some(Kind::Native(Native::X87(x)));
    }
    // FWAIT under the x87 environment: no #NM (TS = 0), nothing pending.
    if m == Mnemonic::Wait && simd.x87 {
        return Some(Kind::Native(Native::Nop));
    }
    if ins.is_jcc_short_or_near() || ins.is_jmp_short_or_near() {
        let ok_size = matches!(
            (bitness, ins.op0_kind()),
            (64, OpKind::NearBranch64) | (32, OpKind::NearBranch32) | (16, OpKind::NearBranch16)
        );
        if !ok_size {
            return None;
        }
        let target = ins.near_branch_target();
        let in_range = target_ok(target, bitness, cs_limit);
        if !in_range {
            return None;
        }
        return Some(Kind::Branch(match cc_of(ins) {
            Some(cc) => Branch::Jcc { cc, target },
            None => Branch::Jmp { target },
        }));
    }
    if m == Mnemonic::Call
        && matches!(
            ins.op0_kind(),
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
        )
    {
        let size = ins.stack_pointer_increment().unsigned_abs();
        let target = ins.near_branch_target();
        let in_range = target_ok(target, bitness, cs_limit);
        if !in_range || !matches!(size, 2 | 4 | 8) {
            return None;
        }
        return Some(Kind::Branch(Branch::Call { size, target }));
    }
    if m == Mnemonic::Ret && !ins.has_rep_prefix() && !ins.has_repne_prefix() {
        // iced counts the popped return address and imm16 together.
        let size = match ins.code() {
            Code::Retnw | Code::Retnw_imm16 => 2,
            Code::Retnd | Code::Retnd_imm16 => 4,
            Code::Retnq | Code::Retnq_imm16 => 8,
            _ => return None,
        };
        let release = if ins.op_count() == 1 {
            ins.immediate16()
        } else {
            0
        };
        let limit = (bitness != 64).then_some(cs_limit);
        return Some(Kind::Branch(Branch::Ret {
            size,
            release,
            limit,
        }));
    }
    if matches!(m, Mnemonic::Loop | Mnemonic::Loope | Mnemonic::Loopne) {
        let target = ins.near_branch_target();
        let in_range = target_ok(target, bitness, cs_limit);
        if !in_range {
            return None;
        }
        let zf = match m {
            Mnemonic::Loope => Some(true),
            Mnemonic::Loopne => Some(false),
            _ => None,
        };
        let size = loop_counter(ins.code()).size() as u32;
        return Some(Kind::Branch(Branch::Loop { size, zf, target }));
    }
    let n = if let Some(op) = alu_op(m) {
        if ins.op_count() != 2 {
            return None;
        }
        if ins.op0_kind() == OpKind::Memory {
            // MOV [mem], reg/imm: a store helper call. Other
            // read-modify-write forms stay monitor calls.
            let size = Cpu::op_size(ins, 0);
            let src = src_op(ins, size)?;
            if src == Src::Mem || !matches!(size, 1 | 2 | 4 | 8) {
                return None;
            }
            if op == AluOp::Mov {
                Native::Store { size, src }
            } else {
                Native::MemDst {
                    op: MemOp::Alu(op),
                    size,
                    src,
                }
            }
        } else {
            let (dst, size) = reg_op(ins, 0)?;
            let src = src_op(ins, size)?;
            Native::Alu { op, size, dst, src }
        }
    } else {
        match m {
            Mnemonic::Inc | Mnemonic::Dec | Mnemonic::Neg | Mnemonic::Not => {
                let op = match m {
                    Mnemonic::Inc => UnOp::Inc,
                    Mnemonic::Dec => UnOp::Dec,
                    Mnemonic::Neg => UnOp::Neg,
                    _ => UnOp::Not,
                };
                if ins.op0_kind() == OpKind::Memory {
                    let size = Cpu::op_size(ins, 0);
                    if !matches!(size, 1 | 2 | 4 | 8) {
                        return None;
                    }
                    Native::MemDst {
                        op: MemOp::Unary(op),
                        size,
                        src: Src::Imm(0),
                    }
                } else {
                    let (dst, size) = reg_op(ins, 0)?;
                    Native::Unary { op, size, dst }
                }
            }
            Mnemonic::Rol | Mnemonic::Ror => {
                let (dst, size) = reg_op(ins, 0)?;
                if ins.op_count() != 2 || !is_imm(ins.op1_kind()) {
                    return None;
                }
                let mask = if size == 8 { 0x3f } else { 0x1f };
                let count = ins.immediate(1) & mask;
                if count == 0 || count >= u64::from(size * 8) {
                    return None;
                }
                Native::Rotate {
                    left: m == Mnemonic::Rol,
                    size,
                    dst,
                    count: count as u8,
                }
            }
            Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr | Mnemonic::Sar => {
                let (dst, size) = reg_op(ins, 0)?;
                let op = match m {
                    Mnemonic::Shr => ShOp::Shr,
                    Mnemonic::Sar => ShOp::Sar,
                    _ => ShOp::Shl,
                };
                if ins.op_count() == 2
                    && ins.op1_kind() == OpKind::Register
                    && ins.op1_register() == Register::CL
                    && size >= 4
                {
                    return Some(Kind::Native(Native::ShiftCl { op, size, dst }));
                }
                if ins.op_count() != 2 || !is_imm(ins.op1_kind()) {
                    return None;
                }
                let mask = if size == 8 { 0x3f } else { 0x1f };
                let count = ins.immediate(1) & mask;
                // Count 0 (flags unchanged) and counts at or beyond the
                // operand width (CF undefined) are left to the interpreter.
                if count == 0 || count >= u64::from(size * 8) {
                    return None;
                }
                Native::Shift {
                    op,
                    size,
                    dst,
                    count: count as u8,
                }
            }
            Mnemonic::Lea => {
                let (dst, size) = reg_op(ins, 0)?;
                if ins.op1_kind() != OpKind::Memory || size == 1 {
                    return None;
                }
                let b = ins.memory_base();
                let (base, addr_size) = match b {
                    Register::None => (None, Cpu::addr_size(ins)),
                    Register::RIP => (None, 8),
                    Register::EIP => (None, 4),
                    r => (Some(gpr(r)?.0), Cpu::addr_size(ins)),
                };
                let index = match ins.memory_index() {
                    Register::None => None,
                    r => Some((gpr(r)?.0, ins.memory_index_scale())),
                };
                if base.is_some_and(|l| l.high) || index.is_some_and(|(l, _)| l.high) {
                    return None;
                }
                Native::Lea {
                    size,
                    addr_size,
                    dst,
                    base,
                    index,
                    disp: ins.memory_displacement64(),
                }
            }
            Mnemonic::Movzx | Mnemonic::Movsx | Mnemonic::Movsxd => {
                let (dst, dst_size) = reg_op(ins, 0)?;
                let (src, src_size) = if ins.op1_kind() == OpKind::Memory {
                    (Src::Mem, Cpu::op_size(ins, 1))
                } else {
                    let (l, size) = reg_op(ins, 1)?;
                    (Src::Reg(l), size)
                };
                let ok = matches!(
                    (dst_size, src_size),
                    (2, 1) | (4, 1) | (8, 1) | (4, 2) | (8, 2)
                ) || (m == Mnemonic::Movsxd && (dst_size, src_size) == (8, 4));
                if !ok || dst.high {
                    return None;
                }
                Native::Ext {
                    signed: m != Mnemonic::Movzx,
                    dst_size,
                    src_size,
                    dst,
                    src,
                }
            }
            Mnemonic::Xchg => {
                let (a, size) = reg_op(ins, 0)?;
                let (b, bsize) = reg_op(ins, 1)?;
                if size != bsize {
                    return None;
                }
                Native::Xchg { size, a, b }
            }
            Mnemonic::Bswap => {
                let (dst, size) = reg_op(ins, 0)?;
                if size < 4 {
                    return None;
                }
                Native::Bswap { size, dst }
            }
            Mnemonic::Cbw => Native::Conv {
                size: 1,
                to_dx: false,
            },
            Mnemonic::Cwde => Native::Conv {
                size: 2,
                to_dx: false,
            },
            Mnemonic::Cdqe => Native::Conv {
                size: 4,
                to_dx: false,
            },
            Mnemonic::Cwd => Native::Conv {
                size: 2,
                to_dx: true,
            },
            Mnemonic::Cdq => Native::Conv {
                size: 4,
                to_dx: true,
            },
            Mnemonic::Cqo => Native::Conv {
                size: 8,
                to_dx: true,
            },
            Mnemonic::Imul if ins.op_count() >= 2 => {
                let (dst, size) = reg_op(ins, 0)?;
                if size < 2 {
                    return None;
                }
                let src = match ins.op1_kind() {
                    OpKind::Memory => Src::Mem,
                    _ => {
                        let (l, s) = reg_op(ins, 1)?;
                        if s != size {
                            return None;
                        }
                        Src::Reg(l)
                    }
                };
                let imm = if ins.op_count() == 3 {
                    // Sign-extended by iced; the host immediate of the
                    // operand size (imm16 for 16-bit, else imm32).
                    let v = ins.immediate(2) as i64;
                    Some(if size == 2 {
                        i32::from(v as i16)
                    } else {
                        i32::try_from(v).ok()?
                    })
                } else {
                    None
                };
                Native::Imul {
                    size,
                    dst,
                    src,
                    imm,
                }
            }
            Mnemonic::Stc => Native::FlagOp(FlagOp::Stc),
            Mnemonic::Clc => Native::FlagOp(FlagOp::Clc),
            Mnemonic::Cmc => Native::FlagOp(FlagOp::Cmc),
            Mnemonic::Std => Native::FlagOp(FlagOp::Std),
            Mnemonic::Cld => Native::FlagOp(FlagOp::Cld),
            Mnemonic::Push if ins.op_count() == 1 => {
                let size = ins.stack_pointer_increment().unsigned_abs();
                if !matches!(size, 2 | 4 | 8) || ins.stack_pointer_increment() > 0 {
                    return None;
                }
                let src = if is_imm(ins.op0_kind()) {
                    Src::Imm(ins.immediate(0))
                } else {
                    match reg_op(ins, 0) {
                        Some((l, _)) if !l.high => Src::Reg(l),
                        _ => return None,
                    }
                };
                Native::Push { size, src }
            }
            Mnemonic::Pop if ins.op_count() == 1 => {
                let (dst, _) = reg_op(ins, 0)?;
                let size = ins.stack_pointer_increment();
                if !matches!(size, 2 | 4 | 8) || dst.high {
                    return None;
                }
                Native::Pop {
                    size: size as u32,
                    dst,
                }
            }
            // Multi-byte NOPs never access their memory operand.
            Mnemonic::Nop => Native::Nop,
            _ if SETCC.contains(&m) => {
                let (dst, size) = reg_op(ins, 0)?;
                if size != 1 {
                    return None;
                }
                Native::Setcc {
                    cc: cc_of(ins)?,
                    dst,
                }
            }
            _ if CMOVCC.contains(&m) => {
                let (dst, size) = reg_op(ins, 0)?;
                let src = src_op(ins, size)?;
                Native::Cmov {
                    cc: cc_of(ins)?,
                    size,
                    dst,
                    src,
                }
            }
            _ => return None,
        }
    };
    Some(Kind::Native(n))
}

/// Mark the native x87 instructions of `plan` whose FOP/FIP/FCS the next
/// instruction overwrites: a native non-control x87 instruction without
/// a memory operand, which cannot fault or leave the block (no slow
/// form), so nothing between the two can see the first one's values.
/// (FDP/FDS of a memory form are always stored: a register form does not
/// overwrite them, and the next memory form's slow form may observe
/// them before its own are recorded.)
pub fn elide_overwritten_pointers(plan: &mut [Planned]) {
    for i in 1..plan.len() {
        let overwrites = matches!(
            plan[i].kind,
            Kind::Native(Native::X87(x)) if x.records_pointers() && x.mem.is_none()
        );
        if let Kind::Native(Native::X87(x)) = &mut plan[i - 1].kind {
            x.ip_overwritten = overwrites;
        }
    }
}
