//! Code generation: one guest block to x86-64 host code with dynasmrt.
//!
//! Stage 1 keeps nothing in host registers across guest instructions: each
//! native instruction loads its guest operands from `CpuState`, runs the
//! same host instruction on fixed scratch registers and stores the result
//! back. Guest RFLAGS status bits live in `CpuState::rflags`; they are
//! loaded into the host RFLAGS (popfq) before an instruction that reads
//! them and taken from the host RFLAGS (pushfq) after one that writes them.
//!
//! Calling convention, in pseudo-code (registers as set by the trampoline
//! in `exec`):
//!
//! ```text
//! rbx = &mut CpuState, r13 = &mut Ctx
//! block:
//!     if ctx.countdown < N { eax = EXIT_BUDGET; goto exit_common }   // state.rip is the block start
//!     ctx.countdown -= N; ctx.block_entries += 1
//!     for each guest instruction:
//!       native:   rax = guest dst; rcx = guest src / imm
//!                 [popfq guest status flags]  OP al/ax/eax/rax, cl/...  [pushfq -> guest flags]
//!                 guest dst = rax (byte/word stores merge, dword/qword store zero-extended rax)
//!       memory:   (MOV/ALU/MOVZX/MOVSX/CMOVcc reg, [mem]; MOV [mem], reg/imm)
//!                 state.icount += natives so far; state.rip = rip
//!                 eax = mem_read(ctx, &ins, remaining)      // Cpu::read_op(ins, 1) -> ctx.tmp
//!                 if eax != 0 goto exit_common             // fault delivered, state precise
//!                 rcx = ctx.tmp; ... as native ...
//!                 (a store: rdx = value; eax = mem_write(ctx, &ins, value, remaining))
//!                 if ctx.exit_req { ctx.exit_req = 0; state.icount += ..; state.rip = next
//!                                   ctx.countdown += remaining; eax = EXIT_MONITOR; goto exit_common }
//!                                   // a code page was written or an event is pending
//!       monitor:  state.icount += natives so far; state.rip = rip
//!                 eax = monitor_shim(ctx, remaining = N - i - 1, next_rip)  // Cpu::execute + step's rules
//!                 if eax != 0 goto exit_common                  // state already precise
//!     end:        state.icount += natives since the last monitor call
//!       Jcc:      popfq guest flags; setcc dl; if dl goto taken
//!                 state.rip = fallthrough; rax = &slot[0]; jmp [rax]
//!       taken:    state.rip = target;      rax = &slot[1]; jmp [rax]
//! ```
//!
//! An exit slot holds the address of `exit_branch` (back to the
//! dispatcher, which learns the slot from rax) until the dispatcher chains
//! it by storing the target block's entry there.

use crate::exec::{Ctx, EXIT_BUDGET, EXIT_MONITOR};
use cpu_model::{flags, Cpu, CpuState};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};
use iced_x86::{ConditionCode, Instruction, Mnemonic, OpKind, Register};

/// A guest general-purpose register as a byte location in `CpuState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    pub idx: u8,
    /// AH, CH, DH, BH: byte 1 of register idx.
    pub high: bool,
}

impl Loc {
    fn off(self) -> i32 {
        (core::mem::offset_of!(CpuState, gpr) + 8 * usize::from(self.idx)) as i32
    }
    fn byte_off(self) -> i32 {
        self.off() + i32::from(self.high)
    }
}

/// A guest GPR operand: (location, size in bytes).
fn gpr(r: Register) -> Option<(Loc, u32)> {
    if !r.is_gpr() {
        return None;
    }
    let high = matches!(r, Register::AH | Register::CH | Register::DH | Register::BH);
    let idx = (r.full_register() as u32).checked_sub(Register::RAX as u32)?;
    if idx >= 16 {
        return None;
    }
    Some((
        Loc {
            idx: idx as u8,
            high,
        },
        r.size() as u32,
    ))
}

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
    /// PUSH reg/imm, POP reg through the interpreter's `Cpu::push` /
    /// `Cpu::pop` (a helper call does the whole instruction).
    Stack,
    /// MOV [mem], reg/imm through the interpreter's `Cpu::write_op`.
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
    /// STC, CLC, CMC, STD, CLD on the guest RFLAGS in memory.
    FlagOp(FlagOp),
    Nop,
}

/// Operation of [`Native::MemDst`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemOp {
    Alu(AluOp),
    Unary(UnOp),
}

impl Native {
    /// Does the instruction access memory (through a helper call)?
    pub fn uses_memory(&self) -> bool {
        match *self {
            Native::Alu { src, .. } | Native::Ext { src, .. } | Native::Cmov { src, .. } => {
                src == Src::Mem
            }
            Native::Store { .. } | Native::Stack | Native::MemDst { .. } => true,
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

/// A direct branch that ends a block natively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branch {
    Jcc { cc: u8, target: u64 },
    Jmp { target: u64 },
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

fn is_setcc(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Seto | Setno
            | Setb
            | Setae
            | Sete
            | Setne
            | Setbe
            | Seta
            | Sets
            | Setns
            | Setp
            | Setnp
            | Setl
            | Setge
            | Setle
            | Setg
    )
}

fn is_cmovcc(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Cmovo
            | Cmovno
            | Cmovb
            | Cmovae
            | Cmove
            | Cmovne
            | Cmovbe
            | Cmova
            | Cmovs
            | Cmovns
            | Cmovp
            | Cmovnp
            | Cmovl
            | Cmovge
            | Cmovle
            | Cmovg
    )
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
pub fn classify(ins: &Instruction, bitness: u32, cs_limit: u32, memory: bool) -> Kind {
    match native(ins, bitness, cs_limit) {
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

fn native(ins: &Instruction, bitness: u32, cs_limit: u32) -> Option<Kind> {
    let m = ins.mnemonic();
    if ins.has_lock_prefix() {
        return None;
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
        let in_range = if bitness == 64 {
            cpu_model::mmu::paging::is_canonical(target)
        } else {
            target <= u64::from(cs_limit)
        };
        if !in_range {
            return None;
        }
        return Some(Kind::Branch(match cc_of(ins) {
            Some(cc) => Branch::Jcc { cc, target },
            None => Branch::Jmp { target },
        }));
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
            Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr | Mnemonic::Sar => {
                let (dst, size) = reg_op(ins, 0)?;
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
                let op = match m {
                    Mnemonic::Shr => ShOp::Shr,
                    Mnemonic::Sar => ShOp::Sar,
                    _ => ShOp::Shl,
                };
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
            Mnemonic::Stc => Native::FlagOp(FlagOp::Stc),
            Mnemonic::Clc => Native::FlagOp(FlagOp::Clc),
            Mnemonic::Cmc => Native::FlagOp(FlagOp::Cmc),
            Mnemonic::Std => Native::FlagOp(FlagOp::Std),
            Mnemonic::Cld => Native::FlagOp(FlagOp::Cld),
            Mnemonic::Push if ins.op_count() == 1 => {
                let ok = is_imm(ins.op0_kind()) || reg_op(ins, 0).is_some_and(|(l, _)| !l.high);
                if !ok || !matches!(ins.stack_pointer_increment(), -2 | -4 | -8) {
                    return None;
                }
                Native::Stack
            }
            Mnemonic::Pop if ins.op_count() == 1 => {
                reg_op(ins, 0)?;
                if !matches!(ins.stack_pointer_increment(), 2 | 4 | 8) {
                    return None;
                }
                Native::Stack
            }
            // Multi-byte NOPs never access their memory operand.
            Mnemonic::Nop => Native::Nop,
            _ if is_setcc(m) => {
                let (dst, size) = reg_op(ins, 0)?;
                if size != 1 {
                    return None;
                }
                Native::Setcc {
                    cc: cc_of(ins)?,
                    dst,
                }
            }
            _ if is_cmovcc(m) => {
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

/// Addresses generated code jumps to or calls.
#[derive(Clone, Copy, Debug)]
pub struct Addrs {
    pub exit_common: u64,
    pub monitor: u64,
    pub mem_read: u64,
    pub mem_write: u64,
    pub stack: u64,
}

/// A block exit through slot `k` (the index in [`Emitted::exits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    pub target: u64,
}

/// The host code of one block.
#[derive(Debug)]
pub struct Emitted {
    pub code: Vec<u8>,
    pub exits: Vec<Exit>,
}

type Asm = VecAssembler<X64Relocation>;

const ST_RIP: i32 = core::mem::offset_of!(CpuState, rip) as i32;
const ST_RFLAGS: i32 = core::mem::offset_of!(CpuState, rflags) as i32;
const ST_ICOUNT: i32 = core::mem::offset_of!(CpuState, icount) as i32;
const CX_COUNTDOWN: i32 = core::mem::offset_of!(Ctx, countdown) as i32;
const CX_ENTRIES: i32 = core::mem::offset_of!(Ctx, block_entries) as i32;
const CX_TMP: i32 = core::mem::offset_of!(Ctx, tmp) as i32;
const CX_TMP2: i32 = core::mem::offset_of!(Ctx, tmp2) as i32;
const CX_EXIT_REQ: i32 = core::mem::offset_of!(Ctx, exit_req) as i32;

/// Status flags as an immediate.
const STATUS: i32 = flags::STATUS as i32;

/// What a native instruction with a memory access needs to know.
struct InsCtx<'a> {
    /// Address of the `Instruction` the helpers receive.
    ins_addr: u64,
    ip: u64,
    /// Block instructions after this one.
    remaining: i64,
    addrs: &'a Addrs,
}

/// Emit the host code of a planned block. `slots[k]` is the address of
/// the exit slot of exit k; `ins_addr(i)` the address of `plan[i].ins`
/// where it stays while the code exists (memory helpers receive it).
pub fn emit_block(
    plan: &[Planned],
    addrs: &Addrs,
    slots: [u64; 2],
    ins_addr: &dyn Fn(usize) -> u64,
) -> Result<Emitted, String> {
    let mut a = Asm::new(0);
    let n = plan.len() as i32;
    dynasm!(a
        ; .arch x64
        ; cmp QWORD [r13 + CX_COUNTDOWN], n
        ; jl ->no_budget
        ; sub QWORD [r13 + CX_COUNTDOWN], n
        ; add QWORD [r13 + CX_ENTRIES], 1
    );
    let live = live_flags(plan);
    // Flag masks of the previous instruction when it left its flags in
    // the host RFLAGS (and in rdx) for a fused Jcc.
    let mut fused: Option<(u64, u64)> = None;
    let mut natives = 0i32;
    let mut exits = Vec::new();
    let mut ended = false;
    for (i, p) in plan.iter().enumerate() {
        match p.kind {
            Kind::Native(nat) if nat.uses_memory() => {
                flush_icount(&mut a, &mut natives);
                let ictx = InsCtx {
                    ins_addr: ins_addr(i),
                    ip: p.ins.ip(),
                    remaining: (plan.len() - i - 1) as i64,
                    addrs,
                };
                emit_native(&mut a, nat, live[i], Some(&ictx), false);
                natives += 1;
                // A helper asked to end the block after this instruction.
                let k = natives;
                let next = p.next_rip as i64;
                let common = addrs.exit_common as i64;
                let refund = ictx.remaining;
                dynasm!(a
                    ; .arch x64
                    ; cmp QWORD [r13 + CX_EXIT_REQ], 0
                    ; je >go_on
                    ; mov QWORD [r13 + CX_EXIT_REQ], 0
                    ; add QWORD [rbx + ST_ICOUNT], k
                    ; mov rax, QWORD next
                    ; mov [rbx + ST_RIP], rax
                    ; mov rax, QWORD refund
                    ; add [r13 + CX_COUNTDOWN], rax
                    ; mov eax, EXIT_MONITOR as i32
                    ; mov rcx, QWORD common
                    ; jmp rcx
                    ; go_on:
                );
            }
            Kind::Native(nat) => {
                let fuse = match plan.get(i + 1).map(|q| q.kind) {
                    Some(Kind::Branch(Branch::Jcc { cc, .. })) => fusable(&nat, cc),
                    _ => None,
                };
                emit_native(&mut a, nat, live[i], None, fuse.is_some());
                natives += 1;
                fused = fuse;
            }
            Kind::Monitor => {
                flush_icount(&mut a, &mut natives);
                let remaining = (plan.len() - i - 1) as i64;
                let ip = p.ins.ip() as i64;
                let next = p.next_rip as i64;
                let monitor = addrs.monitor as i64;
                let common = addrs.exit_common as i64;
                dynasm!(a
                    ; .arch x64
                    ; mov rax, QWORD ip
                    ; mov [rbx + ST_RIP], rax
                    ; mov rdi, r13
                    ; mov rsi, QWORD remaining
                    ; mov rdx, QWORD next
                    ; mov rax, QWORD monitor
                    ; call rax
                    ; test eax, eax
                    ; jz >cont
                    ; mov rcx, QWORD common
                    ; jmp rcx
                    ; cont:
                );
            }
            Kind::Branch(Branch::Jcc { cc, target }) if fused.is_some() => {
                let (take, clear) = fused.take().unwrap_or((0, 0));
                natives += 1;
                let k = natives;
                jcc_taken(&mut a, cc);
                for (exit, t) in [(0, p.next_rip), (1, target)] {
                    if exit == 1 {
                        dynasm!(a ; .arch x64 ; taken:);
                    }
                    merge_flags(&mut a, take, clear);
                    dynasm!(a ; .arch x64 ; add QWORD [rbx + ST_ICOUNT], k);
                    exit_stub(&mut a, t, slots[exit]);
                    exits.push(Exit { target: t });
                }
                natives = 0;
                ended = true;
            }
            Kind::Branch(b) => {
                natives += 1;
                flush_icount(&mut a, &mut natives);
                match b {
                    Branch::Jmp { target } => {
                        exit_stub(&mut a, target, slots[0]);
                        exits.push(Exit { target });
                    }
                    Branch::Jcc { cc, target } => {
                        restore_flags(&mut a);
                        setcc_dl(&mut a, cc);
                        dynasm!(a
                            ; .arch x64
                            ; test dl, dl
                            ; jnz >taken
                        );
                        exit_stub(&mut a, p.next_rip, slots[0]);
                        dynasm!(a ; .arch x64 ; taken:);
                        exit_stub(&mut a, target, slots[1]);
                        exits.push(Exit { target: p.next_rip });
                        exits.push(Exit { target });
                    }
                }
                ended = true;
            }
        }
    }
    if !ended {
        flush_icount(&mut a, &mut natives);
        let next = plan.last().map_or(0, |p| p.next_rip);
        exit_stub(&mut a, next, slots[0]);
        exits.push(Exit { target: next });
    }
    let common = addrs.exit_common as i64;
    dynasm!(a
        ; .arch x64
        ; ->no_budget:
        ; mov eax, EXIT_BUDGET as i32
        ; mov rcx, QWORD common
        ; jmp rcx
    );
    let code = a.finalize().map_err(|e| format!("{e:?}"))?;
    Ok(Emitted { code, exits })
}

/// Status flags (written, read) by a native instruction.
fn flag_effects(n: &Native) -> (u64, u64) {
    let all = flags::STATUS;
    match *n {
        Native::Alu { op: AluOp::Mov, .. } => (0, 0),
        Native::Alu {
            op: AluOp::Adc | AluOp::Sbb,
            ..
        } => (all, flags::CF),
        Native::Alu { .. } => (all, 0),
        Native::Unary {
            op: UnOp::Inc | UnOp::Dec,
            ..
        } => (all & !flags::CF, 0),
        Native::Unary { op: UnOp::Neg, .. } => (all, 0),
        Native::Unary { op: UnOp::Not, .. } => (0, 0),
        Native::Shift { .. } => (all & !flags::AF, 0),
        Native::Lea { .. } | Native::Ext { .. } => (0, 0),
        Native::Setcc { .. } | Native::Cmov { .. } => (0, all),
        Native::Store { .. } | Native::Stack => (0, 0),
        Native::MemDst { op, .. } => match op {
            MemOp::Alu(AluOp::Adc | AluOp::Sbb) => (all, flags::CF),
            MemOp::Alu(_) | MemOp::Unary(UnOp::Neg) => (all, 0),
            MemOp::Unary(UnOp::Inc | UnOp::Dec) => (all & !flags::CF, 0),
            MemOp::Unary(UnOp::Not) => (0, 0),
        },
        Native::Xchg { .. } | Native::Bswap { .. } | Native::Conv { .. } | Native::Nop => (0, 0),
        Native::FlagOp(FlagOp::Stc | FlagOp::Clc) => (flags::CF, 0),
        Native::FlagOp(FlagOp::Cmc) => (flags::CF, flags::CF),
        Native::FlagOp(FlagOp::Std | FlagOp::Cld) => (0, 0),
    }
}

/// Status flags a condition code reads.
fn cc_reads(cc: u8) -> u64 {
    use cpu_model::flags::{CF, OF, PF, SF, ZF};
    match cc >> 1 {
        0 => OF,
        1 => CF,
        2 => ZF,
        3 => CF | ZF,
        4 => SF,
        5 => PF,
        6 => SF | OF,
        _ => ZF | SF | OF,
    }
}

/// Can `n` and a following Jcc on `cc` be fused (the Jcc tests the host
/// flags `n` left, instead of reloading the guest flags)? Returns the
/// (take, clear) masks of `n`'s flag store, done after the branch. Only
/// register instructions whose host flags for the condition are exactly
/// the interpreter's (ALU, INC/DEC, NEG; not shifts, whose OF is
/// computed separately).
fn fusable(n: &Native, cc: u8) -> Option<(u64, u64)> {
    let all = flags::STATUS;
    let (take, clear) = match *n {
        Native::Alu { op: AluOp::Mov, .. } => return None,
        Native::Alu { src: Src::Mem, .. } => return None,
        Native::Alu {
            op: AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Test,
            ..
        } => (all & !flags::AF, all),
        Native::Alu { .. } => (all, all),
        Native::Unary {
            op: UnOp::Inc | UnOp::Dec,
            ..
        } => (all & !flags::CF, all & !flags::CF),
        Native::Unary { op: UnOp::Neg, .. } => (all, all),
        _ => return None,
    };
    (cc_reads(cc) & !take == 0).then_some((take, clear))
}

/// For each instruction, the status flags live after it: read by a later
/// instruction of the block before being overwritten, or visible at a
/// monitor call or block exit (where every flag is live). A native
/// instruction stores to the guest RFLAGS only the flags it writes that
/// are live; the others are overwritten by a later native instruction
/// before anything can observe them (native instructions cannot fault).
fn live_flags(plan: &[Planned]) -> Vec<u64> {
    let all = flags::STATUS;
    let mut out = vec![all; plan.len()];
    let mut live = all;
    for (i, p) in plan.iter().enumerate().rev() {
        out[i] = live;
        live = match &p.kind {
            // A memory access can end the block before (fault) or after
            // (exit request) the instruction: every flag is live there.
            Kind::Native(n) if n.uses_memory() => {
                out[i] = all;
                all
            }
            Kind::Native(n) => {
                let (w, r) = flag_effects(n);
                (live & !w) | r
            }
            Kind::Monitor | Kind::Branch(_) => all,
        };
    }
    out
}

fn flush_icount(a: &mut Asm, natives: &mut i32) {
    if *natives > 0 {
        let k = *natives;
        dynasm!(a ; .arch x64 ; add QWORD [rbx + ST_ICOUNT], k);
        *natives = 0;
    }
}

/// state.rip = target; continue through the exit slot.
fn exit_stub(a: &mut Asm, target: u64, slot: u64) {
    let t = target as i64;
    let s = slot as i64;
    dynasm!(a
        ; .arch x64
        ; mov rax, QWORD t
        ; mov [rbx + ST_RIP], rax
        ; mov rax, QWORD s
        ; jmp QWORD [rax]
    );
}

/// Host RFLAGS status bits := guest status bits (DF, TF, AC cleared).
fn restore_flags(a: &mut Asm) {
    dynasm!(a
        ; .arch x64
        ; mov rdx, [rbx + ST_RFLAGS]
        ; and edx, STATUS
        ; or edx, 2
        ; push rdx
        ; popfq
    );
}

/// Guest flags: clear `clear`, then set the bits of `take` from the host
/// RFLAGS. Leaves the host flags (masked to `take`) in edx and the new
/// guest RFLAGS in rsi.
fn save_flags(a: &mut Asm, take: u64, clear: u64) {
    capture_flags(a);
    merge_flags(a, take, clear);
}

/// rdx := host RFLAGS (the host flags stay as they are).
fn capture_flags(a: &mut Asm) {
    dynasm!(a
        ; .arch x64
        ; pushfq
        ; pop rdx
    );
}

/// Guest RFLAGS: clear `clear`, set the `take` bits of rdx (the captured
/// host flags).
fn merge_flags(a: &mut Asm, take: u64, clear: u64) {
    let take = take as i32;
    let keep = !(clear as i32);
    dynasm!(a
        ; .arch x64
        ; and edx, take
        ; mov rsi, [rbx + ST_RFLAGS]
        ; and rsi, keep
        ; or rsi, rdx
        ; mov [rbx + ST_RFLAGS], rsi
    );
}

/// Jump to the local label `taken` if condition `cc` holds in the host
/// RFLAGS.
fn jcc_taken(a: &mut Asm, cc: u8) {
    match cc {
        0 => dynasm!(a ; .arch x64 ; jo >taken),
        1 => dynasm!(a ; .arch x64 ; jno >taken),
        2 => dynasm!(a ; .arch x64 ; jb >taken),
        3 => dynasm!(a ; .arch x64 ; jae >taken),
        4 => dynasm!(a ; .arch x64 ; je >taken),
        5 => dynasm!(a ; .arch x64 ; jne >taken),
        6 => dynasm!(a ; .arch x64 ; jbe >taken),
        7 => dynasm!(a ; .arch x64 ; ja >taken),
        8 => dynasm!(a ; .arch x64 ; js >taken),
        9 => dynasm!(a ; .arch x64 ; jns >taken),
        10 => dynasm!(a ; .arch x64 ; jp >taken),
        11 => dynasm!(a ; .arch x64 ; jnp >taken),
        12 => dynasm!(a ; .arch x64 ; jl >taken),
        13 => dynasm!(a ; .arch x64 ; jge >taken),
        14 => dynasm!(a ; .arch x64 ; jle >taken),
        _ => dynasm!(a ; .arch x64 ; jg >taken),
    }
}

fn setcc_dl(a: &mut Asm, cc: u8) {
    match cc {
        0 => dynasm!(a ; .arch x64 ; seto dl),
        1 => dynasm!(a ; .arch x64 ; setno dl),
        2 => dynasm!(a ; .arch x64 ; setb dl),
        3 => dynasm!(a ; .arch x64 ; setae dl),
        4 => dynasm!(a ; .arch x64 ; sete dl),
        5 => dynasm!(a ; .arch x64 ; setne dl),
        6 => dynasm!(a ; .arch x64 ; setbe dl),
        7 => dynasm!(a ; .arch x64 ; seta dl),
        8 => dynasm!(a ; .arch x64 ; sets dl),
        9 => dynasm!(a ; .arch x64 ; setns dl),
        10 => dynasm!(a ; .arch x64 ; setp dl),
        11 => dynasm!(a ; .arch x64 ; setnp dl),
        12 => dynasm!(a ; .arch x64 ; setl dl),
        13 => dynasm!(a ; .arch x64 ; setge dl),
        14 => dynasm!(a ; .arch x64 ; setle dl),
        _ => dynasm!(a ; .arch x64 ; setg dl),
    }
}

/// rax := guest register (a high-byte register as the low byte of eax).
fn load_rax(a: &mut Asm, l: Loc) {
    if l.high {
        let o = l.byte_off();
        dynasm!(a ; .arch x64 ; movzx eax, BYTE [rbx + o]);
    } else {
        let o = l.off();
        dynasm!(a ; .arch x64 ; mov rax, [rbx + o]);
    }
}

/// rcx := guest register or immediate.
fn load_rcx(a: &mut Asm, s: Src) {
    match s {
        Src::Reg(l) if l.high => {
            let o = l.byte_off();
            dynasm!(a ; .arch x64 ; movzx ecx, BYTE [rbx + o]);
        }
        Src::Reg(l) => {
            let o = l.off();
            dynasm!(a ; .arch x64 ; mov rcx, [rbx + o]);
        }
        Src::Imm(v) => {
            let v = v as i64;
            dynasm!(a ; .arch x64 ; mov rcx, QWORD v);
        }
        // Read by the helper call at the start of the instruction.
        Src::Mem => dynasm!(a ; .arch x64 ; mov rcx, [r13 + CX_TMP]),
    }
}

/// state.rip = the instruction; call `helper` (rdi = ctx and the other
/// arguments already set up by `args`); leave the block if it returns
/// nonzero.
fn helper_call(a: &mut Asm, ictx: &InsCtx<'_>, helper: u64) {
    let ip = ictx.ip as i64;
    let h = helper as i64;
    let common = ictx.addrs.exit_common as i64;
    dynasm!(a
        ; .arch x64
        ; mov rax, QWORD ip
        ; mov [rbx + ST_RIP], rax
        ; mov rdi, r13
        ; mov rax, QWORD h
        ; call rax
        ; test eax, eax
        ; jz >ok
        ; mov rcx, QWORD common
        ; jmp rcx
        ; ok:
    );
}

/// Memory-read modes of the read helper: operand 1; operand 0; operand 0
/// of a read-modify-write instruction (checked for writing first, as the
/// interpreter's `read_rmw`).
pub const READ_SRC: i32 = 0;
pub const READ_DST: i32 = 1;
pub const READ_RMW: i32 = 2;

/// ctx.tmp := a memory operand (through `Cpu::read_op`).
/// `mode`: [`READ_SRC`], [`READ_DST`] or [`READ_RMW`].
fn mem_read(a: &mut Asm, ictx: &InsCtx<'_>, mode: i32) {
    let ins = ictx.ins_addr as i64;
    let rem = ictx.remaining;
    dynasm!(a
        ; .arch x64
        ; mov rsi, QWORD ins
        ; mov rdx, QWORD rem
        ; mov ecx, mode
    );
    helper_call(a, ictx, ictx.addrs.mem_read);
}

/// Guest register := rax with the x86-64 merge rules: byte and word
/// writes merge, a dword result was zero-extended by the host instruction.
fn store_rax(a: &mut Asm, l: Loc, size: u32) {
    let o = l.byte_off();
    match size {
        1 => dynasm!(a ; .arch x64 ; mov [rbx + o], al),
        2 => dynasm!(a ; .arch x64 ; mov [rbx + o], ax),
        _ => dynasm!(a ; .arch x64 ; mov [rbx + o], rax),
    }
}

/// Guest register := rcx (as `store_rax`).
fn store_rcx(a: &mut Asm, l: Loc, size: u32) {
    let o = l.byte_off();
    match size {
        1 => dynasm!(a ; .arch x64 ; mov [rbx + o], cl),
        2 => dynasm!(a ; .arch x64 ; mov [rbx + o], cx),
        _ => dynasm!(a ; .arch x64 ; mov [rbx + o], rcx),
    }
}

macro_rules! sized_rr {
    ($a:expr, $size:expr, $op:ident) => {
        match $size {
            1 => dynasm!($a ; .arch x64 ; $op al, cl),
            2 => dynasm!($a ; .arch x64 ; $op ax, cx),
            4 => dynasm!($a ; .arch x64 ; $op eax, ecx),
            _ => dynasm!($a ; .arch x64 ; $op rax, rcx),
        }
    };
}

macro_rules! sized_r {
    ($a:expr, $size:expr, $op:ident) => {
        match $size {
            1 => dynasm!($a ; .arch x64 ; $op al),
            2 => dynasm!($a ; .arch x64 ; $op ax),
            4 => dynasm!($a ; .arch x64 ; $op eax),
            _ => dynasm!($a ; .arch x64 ; $op rax),
        }
    };
}

macro_rules! sized_ri {
    ($a:expr, $size:expr, $op:ident, $imm:expr) => {
        match $size {
            1 => dynasm!($a ; .arch x64 ; $op al, $imm),
            2 => dynasm!($a ; .arch x64 ; $op ax, $imm),
            4 => dynasm!($a ; .arch x64 ; $op eax, $imm),
            _ => dynasm!($a ; .arch x64 ; $op rax, $imm),
        }
    };
}

/// Emit one native instruction; `live` = status flags live after it;
/// `ictx` is given for instructions that access memory.
/// `defer`: only capture the flags into rdx (host flags left intact) and
/// let the fused Jcc that follows store them.
fn emit_native(a: &mut Asm, n: Native, live: u64, ictx: Option<&InsCtx<'_>>, defer: bool) {
    // The memory read comes first, before anything changes.
    let reads = match n {
        Native::Alu { src, .. } | Native::Ext { src, .. } | Native::Cmov { src, .. } => {
            src == Src::Mem
        }
        _ => false,
    };
    if let (true, Some(ictx)) = (reads, ictx) {
        mem_read(a, ictx, READ_SRC);
    }
    let all = flags::STATUS;
    // Store only live flags (see `live_flags`).
    let save_flags = |a: &mut Asm, take: u64, clear: u64| {
        if defer {
            capture_flags(a);
        } else if clear & live != 0 {
            save_flags(a, take & live, clear & live);
        }
    };
    match n {
        Native::Alu { op, size, dst, src } => {
            if op == AluOp::Mov {
                load_rcx(a, src);
                match size {
                    4 => dynasm!(a ; .arch x64 ; mov eax, ecx),
                    _ => dynasm!(a ; .arch x64 ; mov rax, rcx),
                }
                store_rax(a, dst, size);
                return;
            }
            load_rax(a, dst);
            load_rcx(a, src);
            if matches!(op, AluOp::Adc | AluOp::Sbb) {
                restore_flags(a);
            }
            match op {
                AluOp::Add => sized_rr!(a, size, add),
                AluOp::Adc => sized_rr!(a, size, adc),
                AluOp::Sub => sized_rr!(a, size, sub),
                AluOp::Sbb => sized_rr!(a, size, sbb),
                AluOp::And => sized_rr!(a, size, and),
                AluOp::Or => sized_rr!(a, size, or),
                AluOp::Xor => sized_rr!(a, size, xor),
                AluOp::Cmp => sized_rr!(a, size, cmp),
                AluOp::Test | AluOp::Mov => sized_rr!(a, size, test),
            }
            // Logic instructions: AF undefined, produced as 0 (as the
            // interpreter's flags::logic does).
            let take = match op {
                AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Test => all & !flags::AF,
                _ => all,
            };
            save_flags(a, take, all);
            if !matches!(op, AluOp::Cmp | AluOp::Test) {
                store_rax(a, dst, size);
            }
        }
        Native::Unary { op, size, dst } => {
            load_rax(a, dst);
            match op {
                UnOp::Inc => sized_r!(a, size, inc),
                UnOp::Dec => sized_r!(a, size, dec),
                UnOp::Neg => sized_r!(a, size, neg),
                UnOp::Not => sized_r!(a, size, not),
            }
            match op {
                UnOp::Inc | UnOp::Dec => save_flags(a, all & !flags::CF, all & !flags::CF),
                UnOp::Neg => save_flags(a, all, all),
                UnOp::Not => {}
            }
            store_rax(a, dst, size);
        }
        Native::Shift {
            op,
            size,
            dst,
            count,
        } => {
            load_rax(a, dst);
            dynasm!(a ; .arch x64 ; mov rcx, rax);
            let c = count as i8;
            match op {
                ShOp::Shl => sized_ri!(a, size, shl, c),
                ShOp::Shr => sized_ri!(a, size, shr, c),
                ShOp::Sar => sized_ri!(a, size, sar, c),
            }
            // CF, SF, ZF, PF from the host; AF unchanged (undefined, as the
            // interpreter); OF by the interpreter's count-1 formula. Only
            // live flags are stored, but OF of SHL needs CF in edx, so CF
            // is stored whenever OF is live.
            let cszp = flags::CF | flags::SF | flags::ZF | flags::PF;
            let of_live = live & flags::OF != 0;
            let keep = if of_live { live | flags::CF } else { live };
            let clear = (cszp | flags::OF) & keep;
            if clear != 0 {
                self::save_flags(a, cszp & keep, clear);
            }
            let top = (size * 8 - 1) as i8;
            match op {
                // OF = MSB(result) XOR CF.
                ShOp::Shl if of_live => dynasm!(a
                    ; .arch x64
                    ; mov rcx, rax
                    ; shr rcx, top
                    ; xor ecx, edx
                    ; and ecx, 1
                    ; shl ecx, 11
                    ; or [rbx + ST_RFLAGS], rcx
                ),
                // OF = MSB of the original operand (still in rcx).
                ShOp::Shr if of_live => dynasm!(a
                    ; .arch x64
                    ; shr rcx, top
                    ; and ecx, 1
                    ; shl ecx, 11
                    ; or [rbx + ST_RFLAGS], rcx
                ),
                _ => {}
            }
            store_rax(a, dst, size);
        }
        Native::Lea {
            size,
            addr_size,
            dst,
            base,
            index,
            disp,
        } => {
            let d = disp as i64;
            dynasm!(a ; .arch x64 ; mov rax, QWORD d);
            if let Some(b) = base {
                let o = b.off();
                dynasm!(a ; .arch x64 ; add rax, [rbx + o]);
            }
            if let Some((ix, scale)) = index {
                let o = ix.off();
                dynasm!(a ; .arch x64 ; mov rcx, [rbx + o]);
                let sh = scale.trailing_zeros() as i8;
                if sh > 0 {
                    dynasm!(a ; .arch x64 ; shl rcx, sh);
                }
                dynasm!(a ; .arch x64 ; add rax, rcx);
            }
            match addr_size.min(size) {
                2 => dynasm!(a ; .arch x64 ; movzx eax, ax),
                4 => dynasm!(a ; .arch x64 ; mov eax, eax),
                _ => {}
            }
            store_rax(a, dst, size);
        }
        Native::Ext {
            signed,
            dst_size,
            src_size,
            dst,
            src,
        } => {
            load_rcx(a, src);
            match (signed, dst_size, src_size) {
                (false, _, 1) => dynasm!(a ; .arch x64 ; movzx eax, cl),
                (false, _, _) => dynasm!(a ; .arch x64 ; movzx eax, cx),
                (true, 2, 1) => dynasm!(a ; .arch x64 ; movsx ax, cl),
                (true, 4, 1) => dynasm!(a ; .arch x64 ; movsx eax, cl),
                (true, _, 1) => dynasm!(a ; .arch x64 ; movsx rax, cl),
                (true, 4, 2) => dynasm!(a ; .arch x64 ; movsx eax, cx),
                (true, _, 2) => dynasm!(a ; .arch x64 ; movsx rax, cx),
                (true, _, _) => dynasm!(a ; .arch x64 ; movsxd rax, ecx),
            }
            store_rax(a, dst, dst_size);
        }
        Native::Setcc { cc, dst } => {
            restore_flags(a);
            setcc_dl(a, cc);
            let o = dst.byte_off();
            dynasm!(a ; .arch x64 ; mov [rbx + o], dl);
        }
        Native::Xchg { size, a: x, b: y } => {
            load_rax(a, x);
            load_rcx(a, Src::Reg(y));
            sized_rr!(a, size, xchg);
            store_rax(a, x, size);
            store_rcx(a, y, size);
        }
        Native::Bswap { size, dst } => {
            load_rax(a, dst);
            match size {
                4 => dynasm!(a ; .arch x64 ; bswap eax),
                _ => dynasm!(a ; .arch x64 ; bswap rax),
            }
            store_rax(a, dst, size);
        }
        Native::Conv { size, to_dx } => {
            let rax_loc = Loc {
                idx: 0,
                high: false,
            };
            let rdx_loc = Loc {
                idx: 2,
                high: false,
            };
            load_rax(a, rax_loc);
            if to_dx {
                let o = rdx_loc.off();
                dynasm!(a ; .arch x64 ; mov rdx, [rbx + o]);
                match size {
                    2 => dynasm!(a ; .arch x64 ; cwd ; mov [rbx + o], dx),
                    4 => dynasm!(a ; .arch x64 ; cdq ; mov [rbx + o], rdx),
                    _ => dynasm!(a ; .arch x64 ; cqo ; mov [rbx + o], rdx),
                }
            } else {
                match size {
                    1 => dynasm!(a ; .arch x64 ; cbw),
                    2 => dynasm!(a ; .arch x64 ; cwde),
                    _ => dynasm!(a ; .arch x64 ; cdqe),
                }
                store_rax(a, rax_loc, (size * 2).min(8));
            }
        }
        Native::FlagOp(op) => {
            let cf = flags::CF as i32;
            let df = flags::DF as i32;
            match op {
                FlagOp::Stc => dynasm!(a ; .arch x64 ; or QWORD [rbx + ST_RFLAGS], cf),
                FlagOp::Clc => dynasm!(a ; .arch x64 ; and QWORD [rbx + ST_RFLAGS], !cf),
                FlagOp::Cmc => dynasm!(a ; .arch x64 ; xor QWORD [rbx + ST_RFLAGS], cf),
                FlagOp::Std => dynasm!(a ; .arch x64 ; or QWORD [rbx + ST_RFLAGS], df),
                FlagOp::Cld => dynasm!(a ; .arch x64 ; and QWORD [rbx + ST_RFLAGS], !df),
            }
        }
        Native::Nop => {}
        Native::MemDst { op, size, src } => {
            let Some(ictx) = ictx else {
                return;
            };
            let writes = !matches!(op, MemOp::Alu(AluOp::Cmp | AluOp::Test));
            mem_read(a, ictx, if writes { READ_RMW } else { READ_DST });
            dynasm!(a ; .arch x64 ; mov rax, [r13 + CX_TMP]);
            load_rcx(a, src);
            let (take, clear) = match op {
                MemOp::Alu(o) => {
                    if matches!(o, AluOp::Adc | AluOp::Sbb) {
                        restore_flags(a);
                    }
                    match o {
                        AluOp::Add => sized_rr!(a, size, add),
                        AluOp::Adc => sized_rr!(a, size, adc),
                        AluOp::Sub => sized_rr!(a, size, sub),
                        AluOp::Sbb => sized_rr!(a, size, sbb),
                        AluOp::And => sized_rr!(a, size, and),
                        AluOp::Or => sized_rr!(a, size, or),
                        AluOp::Xor => sized_rr!(a, size, xor),
                        AluOp::Cmp => sized_rr!(a, size, cmp),
                        AluOp::Test | AluOp::Mov => sized_rr!(a, size, test),
                    }
                    match o {
                        AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Test => {
                            (all & !flags::AF, all)
                        }
                        _ => (all, all),
                    }
                }
                MemOp::Unary(u) => {
                    match u {
                        UnOp::Inc => sized_r!(a, size, inc),
                        UnOp::Dec => sized_r!(a, size, dec),
                        UnOp::Neg => sized_r!(a, size, neg),
                        UnOp::Not => sized_r!(a, size, not),
                    }
                    match u {
                        UnOp::Inc | UnOp::Dec => (all & !flags::CF, all & !flags::CF),
                        UnOp::Neg => (all, all),
                        UnOp::Not => (0, 0),
                    }
                }
            };
            // The flags are stored only once the write succeeded (a
            // faulting write leaves them as they were).
            if clear != 0 {
                capture_flags(a);
                dynasm!(a ; .arch x64 ; mov [r13 + CX_TMP2], rdx);
            }
            if writes {
                let ins = ictx.ins_addr as i64;
                let rem = ictx.remaining;
                dynasm!(a
                    ; .arch x64
                    ; mov rdx, rax
                    ; mov rsi, QWORD ins
                    ; mov rcx, QWORD rem
                );
                helper_call(a, ictx, ictx.addrs.mem_write);
            }
            if clear != 0 {
                dynasm!(a ; .arch x64 ; mov rdx, [r13 + CX_TMP2]);
                merge_flags(a, take, clear);
            }
        }
        Native::Stack => {
            let Some(ictx) = ictx else {
                return;
            };
            let ins = ictx.ins_addr as i64;
            let rem = ictx.remaining;
            dynasm!(a
                ; .arch x64
                ; mov rsi, QWORD ins
                ; mov rdx, QWORD rem
            );
            helper_call(a, ictx, ictx.addrs.stack);
        }
        Native::Store { size: _, src } => {
            let Some(ictx) = ictx else {
                return;
            };
            load_rcx(a, src);
            let ins = ictx.ins_addr as i64;
            let rem = ictx.remaining;
            dynasm!(a
                ; .arch x64
                ; mov rdx, rcx
                ; mov rsi, QWORD ins
                ; mov rcx, QWORD rem
            );
            helper_call(a, ictx, ictx.addrs.mem_write);
        }
        Native::Cmov { cc, size, dst, src } => {
            load_rax(a, dst);
            load_rcx(a, src);
            restore_flags(a);
            setcc_dl(a, cc);
            dynasm!(a ; .arch x64 ; test dl, dl);
            match size {
                2 => dynasm!(a ; .arch x64 ; cmovnz ax, cx),
                4 => dynasm!(a ; .arch x64 ; cmovnz eax, ecx),
                _ => dynasm!(a ; .arch x64 ; cmovnz rax, rcx),
            }
            store_rax(a, dst, size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_only_when_the_host_flags_are_the_guest_flags() {
        let r = Loc {
            idx: 0,
            high: false,
        };
        let inc = Native::Unary {
            op: UnOp::Inc,
            size: 4,
            dst: r,
        };
        let cmp = Native::Alu {
            op: AluOp::Cmp,
            size: 8,
            dst: r,
            src: Src::Imm(1),
        };
        let shl = Native::Shift {
            op: ShOp::Shl,
            size: 4,
            dst: r,
            count: 2,
        };
        // INC does not write CF: JB/JA need the guest CF.
        assert_eq!(fusable(&inc, 2), None);
        assert_eq!(fusable(&inc, 7), None);
        assert!(fusable(&inc, 5).is_some());
        assert!(fusable(&inc, 12).is_some());
        assert!(fusable(&cmp, 7).is_some());
        // Shifts compute OF separately; never fused.
        assert_eq!(fusable(&shl, 4), None);
        let cmp_mem = Native::Alu {
            op: AluOp::Cmp,
            size: 8,
            dst: r,
            src: Src::Mem,
        };
        assert_eq!(fusable(&cmp_mem, 4), None);
    }
}
