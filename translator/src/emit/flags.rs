//! Guest status flags in generated code: which flags are live, when a
//! compare can be fused with its Jcc, and moving flags between the guest
//! RFLAGS in `CpuState` and the host RFLAGS.

use super::plan::{AluOp, FlagOp, Kind, MemOp, Native, Planned, Src, UnOp};
use super::simd_plan::SimdClass;
use super::x87_plan::X87Class;
use super::{Asm, CX_PENDING_FLAGS};
use cpu_model::flags;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

/// Status flags (written, read) by a native instruction.
pub(super) fn flag_effects(n: &Native) -> (u64, u64) {
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
        Native::Rotate { .. } => (flags::CF | flags::OF, 0),
        // A zero count leaves every flag: nothing is certainly written.
        Native::ShiftCl { .. } => (0, 0),
        Native::Lea { .. } | Native::Ext { .. } => (0, 0),
        Native::Setcc { .. } | Native::Cmov { .. } => (0, all),
        Native::Store { .. } | Native::Push { .. } | Native::Pop { .. } => (0, 0),
        Native::MemDst { op, .. } => match op {
            MemOp::Alu(AluOp::Adc | AluOp::Sbb) => (all, flags::CF),
            MemOp::Alu(_) | MemOp::Unary(UnOp::Neg) => (all, 0),
            MemOp::Unary(UnOp::Inc | UnOp::Dec) => (all & !flags::CF, 0),
            MemOp::Unary(UnOp::Not) => (0, 0),
        },
        Native::Imul { .. } => (all, 0),
        Native::Xchg { .. } | Native::Bswap { .. } | Native::Conv { .. } | Native::Nop => (0, 0),
        Native::FlagOp(FlagOp::Stc | FlagOp::Clc) => (flags::CF, 0),
        Native::FlagOp(FlagOp::Cmc) => (flags::CF, flags::CF),
        Native::FlagOp(FlagOp::Std | FlagOp::Cld) => (0, 0),
        // (U)COMISS/SD write all six (OF, SF, AF cleared).
        Native::Simd(s) if s.class == SimdClass::Comi => (all, 0),
        Native::Simd(_) => (0, 0),
        // F(U)COMI(P) write all six (OF, SF, AF cleared); FCMOVcc reads
        // CF, ZF, PF.
        Native::X87(x) => match x.class {
            X87Class::Comi => (all, 0),
            X87Class::Fcmov => (0, flags::CF | flags::ZF | flags::PF),
            _ => (0, 0),
        },
    }
}

/// Status flags a condition code reads.
pub(super) fn cc_reads(cc: u8) -> u64 {
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
pub(super) fn fusable(n: &Native, cc: u8) -> Option<(u64, u64)> {
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

/// A loop's back edge whose flags may stay pending: the block ends in a
/// Jcc fused with the native instruction before it (`fusable`) and
/// jumping to the block's own start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct DeferredLoopFlags {
    /// The fused instruction's flag store (`fusable`'s masks).
    pub take: u64,
    pub clear: u64,
    /// Instructions before the first one that writes every status flag:
    /// the block's "pending prefix".
    pub prefix: usize,
    /// The fused instruction, when it is a CMP or TEST of registers (or
    /// a register and an immediate) that no prefix instruction touches:
    /// its flags are then a function of registers that hold the same
    /// values everywhere in the prefix, so the back edge stores a tag
    /// instead of capturing them, and the paths that leave the prefix
    /// run the compare again (`emit::merge_pending_flags`).
    pub recompute: Option<Native>,
}

/// The rule for leaving a loop's flags unmerged on its back edge.
///
/// On the taken edge of a fused Jcc back to the block's own start, the
/// guest's flags are in edx in captured form; merging them into r11 (the
/// guest RFLAGS) costs eight instructions a pass. The edge may instead
/// store edx in `Ctx::pending_flags` (one store) when this returns
/// `Some`, i.e. when, from the block's start, every instruction before
/// the first one that certainly writes all six status flags (the
/// prefix, `flag_effects`, which `live_flags` also uses)
/// * reads no status flag (so nothing in the block sees the stale r11),
/// * writes no status flag, not even possibly (a shift by CL) (so r11
///   merged with the pending flags is the guest RFLAGS at every point of
///   the prefix), and
/// * is a native instruction that can leave the block only through a
///   memory slow form or a monitor call of itself (SIMD and x87 memory operands:
///   no exit request check, no partial flag store before the exit);
///
/// and that first full write is a register instruction (it cannot fault).
/// No monitor call, branch or other instruction is allowed in the
/// prefix.
///
/// Why it is exact: r11 is stale only from the back edge to the end of
/// the first full write. Control can leave translated code in that span
/// only (1) at the budget check at `loop_head` (an event, a stop request
/// or the budget's end), (2) through the slow form of a prefix memory
/// access (a fault, a page the fast path does not map, a write to a code
/// page: SMC), or (3) through the monitor call of a prefix SIMD
/// instruction without an inline form. `emit_block` merges the pending
/// flags into r11 (`merge_pending`, the merge the edge would have done:
/// the prefix leaves r11's status flags as they were) on each of these
/// paths before the cache is flushed, so the monitor, a fault's delivery
/// and the dispatcher see the exact RFLAGS; normal entries mark nothing
/// pending.
/// After the first full write, `live_flags` guarantees r11 is exact at
/// every later exit whatever r11 held at entry: each status flag at an
/// exit is stored by its last writer, which is at or after that write.
/// Native instructions (register or SIMD) do not fault otherwise. TF,
/// RF and the debug registers are checked before translated code is
/// entered (`monitor::can_run`) and changed only by monitor calls, which
/// are excluded from the prefix; an interrupt or stop that becomes
/// pending while the loop runs is seen at the budget check (1) or at a
/// helper's exit request, and a helper runs only on paths (2) and (3).
pub(super) fn deferred_loop_flags(plan: &[Planned]) -> Option<DeferredLoopFlags> {
    let (last, body) = plan.split_last()?;
    let Kind::Branch(super::plan::Branch::Jcc { cc, target }) = last.kind else {
        return None;
    };
    if target != plan.first()?.ins.ip() {
        return None;
    }
    let Kind::Native(fused) = body.last()?.kind else {
        return None;
    };
    if fused.uses_memory() {
        return None;
    }
    let (take, clear) = fusable(&fused, cc)?;
    for (i, p) in body.iter().enumerate() {
        let Kind::Native(n) = p.kind else {
            return None;
        };
        let (written, read) = flag_effects(&n);
        // A shift by CL writes flags unless its count is 0, which
        // `flag_effects` counts as writing none.
        if read != 0 || matches!(n, Native::ShiftCl { .. }) {
            return None;
        }
        if n.uses_memory() {
            if written != 0 || !matches!(n, Native::Simd(_) | Native::X87(_)) {
                return None;
            }
            continue;
        }
        if written == flags::STATUS {
            return Some(DeferredLoopFlags {
                take,
                clear,
                prefix: i,
                recompute: recomputable(&fused, &body[..i]),
            });
        }
        if written != 0 {
            return None;
        }
    }
    None
}

/// `fused` if it is a CMP or TEST whose operands (registers, or a
/// register and an immediate) no instruction of `prefix` touches.
fn recomputable(fused: &Native, prefix: &[Planned]) -> Option<Native> {
    let Native::Alu {
        op: AluOp::Cmp | AluOp::Test,
        dst,
        src,
        ..
    } = *fused
    else {
        return None;
    };
    let operands = match src {
        Src::Reg(l) => [Some(dst.idx), Some(l.idx)],
        Src::Imm(_) => [Some(dst.idx), None],
        Src::Mem => return None,
    };
    let touched = prefix.iter().any(|p| {
        let mut hit = false;
        if let Kind::Native(n) = p.kind {
            n.for_each_reg(|l| hit |= operands.contains(&Some(l.idx)));
        } else {
            hit = true;
        }
        hit
    });
    (!touched).then_some(*fused)
}

/// For each instruction, the status flags live after it: read by a later
/// instruction of the block before being overwritten, or visible at a
/// monitor call or block exit (where every flag is live). A native
/// instruction stores to the guest RFLAGS only the flags it writes that
/// are live; the others are overwritten by a later native instruction
/// before anything can observe them (native instructions cannot fault).
pub(super) fn live_flags(plan: &[Planned]) -> Vec<u64> {
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

/// Host status flags := guest status flags (from r11), without POPF
/// (microcoded and slow): OF by an 8-bit ADD that overflows exactly when
/// OF is set, then SF ZF AF PF CF by SAHF. Clobbers rax and rdx, so the
/// callers restore before loading their operands into rax.
pub(super) fn restore_flags(a: &mut Asm) {
    dynasm!(a
        ; .arch x64
        ; mov eax, r11d
        ; shl eax, 8
        ; mov edx, r11d
        ; shr edx, 4
        ; and dl, 0x80u8 as i8
        ; add dl, 0x80u8 as i8
        ; sahf
    );
}

/// Guest flags: clear `clear`, then set the bits of `take` from the host
/// RFLAGS (clobbering them). Leaves the host flags (masked to `take`) in
/// edx; with nothing to take (a flag the interpreter defines as 0, such
/// as AF after AND) the host flags are not read at all.
pub(super) fn save_flags(a: &mut Asm, take: u64, clear: u64) {
    if take == 0 {
        let keep = !(clear as i32);
        dynasm!(a
            ; .arch x64
            ; xor edx, edx
            ; and r11, keep
        );
        return;
    }
    if take & flags::OF == 0 {
        // No OF wanted: the LAHF byte alone, already in RFLAGS layout.
        let keep = !(clear as i32);
        let take = take as i32;
        dynasm!(a
            ; .arch x64
            ; mov rsi, rax
            ; lahf
            ; movzx edx, ah
            ; mov rax, rsi
            ; and edx, take
            ; and r11, keep
            ; or r11, rdx
        );
        return;
    }
    capture_flags(a);
    merge_flags(a, take, clear);
}

/// rdx := the host status flags in "captured" form: the LAHF byte (SF ZF 0
/// AF 0 PF 1 CF, the layout of RFLAGS bits 0-7) in bits 8-15 and OF in
/// bit 0. The host flags and rax stay as they are (rsi is clobbered).
/// LAHF/SETO instead of PUSHF: PUSHF is microcoded and was about 40% of
/// the time of the CRC-32 benchmark loop.
pub(super) fn capture_flags(a: &mut Asm) {
    dynasm!(a
        ; .arch x64
        ; mov rsi, rax
        ; seto al
        ; lahf
        ; movzx edx, ax
        ; mov rax, rsi
    );
}

/// Guest RFLAGS: clear `clear`, set the `take` bits of rdx (flags as
/// `capture_flags` left them). Leaves the taken bits, in RFLAGS layout, in
/// edx.
pub(super) fn merge_flags(a: &mut Asm, take: u64, clear: u64) {
    let keep = !(clear as i32);
    if take & flags::OF != 0 {
        dynasm!(a
            ; .arch x64
            ; mov esi, edx
            ; and esi, 1
            ; shl esi, 11
            ; shr edx, 8
            ; or edx, esi
        );
    } else {
        dynasm!(a ; .arch x64 ; shr edx, 8);
    }
    let take = take as i32;
    dynasm!(a
        ; .arch x64
        ; and edx, take
        ; and r11, keep
        ; or r11, rdx
    );
}

/// Jump to the local label `taken` if condition `cc` holds in the host
/// RFLAGS.
pub(super) fn jcc_taken(a: &mut Asm, cc: u8) {
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

/// Jump to the block's global label `loop_head` if condition `cc` holds
/// in the host RFLAGS (a loop's back edge).
pub(super) fn jcc_loop_head(a: &mut Asm, cc: u8) {
    match cc {
        0 => dynasm!(a ; .arch x64 ; jo ->loop_head),
        1 => dynasm!(a ; .arch x64 ; jno ->loop_head),
        2 => dynasm!(a ; .arch x64 ; jb ->loop_head),
        3 => dynasm!(a ; .arch x64 ; jae ->loop_head),
        4 => dynasm!(a ; .arch x64 ; je ->loop_head),
        5 => dynasm!(a ; .arch x64 ; jne ->loop_head),
        6 => dynasm!(a ; .arch x64 ; jbe ->loop_head),
        7 => dynasm!(a ; .arch x64 ; ja ->loop_head),
        8 => dynasm!(a ; .arch x64 ; js ->loop_head),
        9 => dynasm!(a ; .arch x64 ; jns ->loop_head),
        10 => dynasm!(a ; .arch x64 ; jp ->loop_head),
        11 => dynasm!(a ; .arch x64 ; jnp ->loop_head),
        12 => dynasm!(a ; .arch x64 ; jl ->loop_head),
        13 => dynasm!(a ; .arch x64 ; jge ->loop_head),
        14 => dynasm!(a ; .arch x64 ; jle ->loop_head),
        _ => dynasm!(a ; .arch x64 ; jg ->loop_head),
    }
}

pub(super) fn setcc_dl(a: &mut Asm, cc: u8) {
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

/// On a path that leaves translated code from a loop's pending prefix
/// (`deferred_loop_flags`): merge flags the back edge left pending into
/// r11 and mark none pending. Clobbers rdx, rsi and the host flags.
pub(super) fn merge_pending(a: &mut Asm, d: DeferredLoopFlags) {
    dynasm!(a
        ; .arch x64
        ; cmp DWORD [r13 + CX_PENDING_FLAGS], -1
        ; je >none
        ; mov edx, [r13 + CX_PENDING_FLAGS]
    );
    merge_flags(a, d.take, d.clear);
    dynasm!(a
        ; .arch x64
        ; mov DWORD [r13 + CX_PENDING_FLAGS], -1
        ; none:
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::plan::{Loc, ShOp};

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
