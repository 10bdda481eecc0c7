//! Host code of one native guest instruction.

use super::flags::{capture_flags, merge_flags, restore_flags, save_flags, setcc_dl};
use super::in_place::{alu_in_place, imm32};
use super::memory::{
    adjust_sp, fast_address, helper_call, load_host, mem_read, store_host, FastAccess, READ_DST,
    READ_RMW, READ_SRC,
};
use super::plan::{AluOp, FlagOp, Loc, MemOp, Native, ShOp, Src, UnOp, RCX};
use super::{Asm, InsCtx, CX_TMP, CX_TMP2};
use cpu_model::flags;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

/// rax := guest register (a high-byte register as the low byte of eax).
pub(super) fn load_rax(a: &mut Asm, l: Loc) {
    if let Some(h) = a.cache.host(l) {
        dynasm!(a ; .arch x64 ; mov rax, Rq(h));
    } else if l.high {
        let o = l.byte_off();
        dynasm!(a ; .arch x64 ; movzx eax, BYTE [rbx + o]);
    } else {
        let o = l.off();
        dynasm!(a ; .arch x64 ; mov rax, [rbx + o]);
    }
}

/// rcx := guest register or immediate.
pub(super) fn load_rcx(a: &mut Asm, s: Src) {
    match s {
        Src::Reg(l) => {
            if let Some(h) = a.cache.host(l) {
                dynasm!(a ; .arch x64 ; mov rcx, Rq(h));
            } else if l.high {
                let o = l.byte_off();
                dynasm!(a ; .arch x64 ; movzx ecx, BYTE [rbx + o]);
            } else {
                let o = l.off();
                dynasm!(a ; .arch x64 ; mov rcx, [rbx + o]);
            }
        }
        Src::Imm(v) => {
            let v = v as i64;
            dynasm!(a ; .arch x64 ; mov rcx, QWORD v);
        }
        // Read into rcx at the start of the instruction (`emit_native`).
        Src::Mem => {}
    }
}

/// Guest register := rax with the x86-64 merge rules: byte and word
/// writes merge, a dword result was zero-extended by the host instruction.
/// A cached register is written in its host register only.
pub(super) fn store_rax(a: &mut Asm, l: Loc, size: u32) {
    if let Some(h) = a.cache.host(l) {
        match size {
            1 => dynasm!(a ; .arch x64 ; mov Rb(h), al),
            2 => dynasm!(a ; .arch x64 ; mov Rw(h), ax),
            _ => dynasm!(a ; .arch x64 ; mov Rq(h), rax),
        }
        return;
    }
    let o = l.byte_off();
    match size {
        1 => dynasm!(a ; .arch x64 ; mov [rbx + o], al),
        2 => dynasm!(a ; .arch x64 ; mov [rbx + o], ax),
        _ => dynasm!(a ; .arch x64 ; mov [rbx + o], rax),
    }
}

/// Guest register := rcx (as `store_rax`).
pub(super) fn store_rcx(a: &mut Asm, l: Loc, size: u32) {
    if let Some(h) = a.cache.host(l) {
        match size {
            1 => dynasm!(a ; .arch x64 ; mov Rb(h), cl),
            2 => dynasm!(a ; .arch x64 ; mov Rw(h), cx),
            _ => dynasm!(a ; .arch x64 ; mov Rq(h), rcx),
        }
        return;
    }
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

/// `op reg, imm` with the immediate of the operand size (32 bits
/// sign-extended for QWORD operations).
macro_rules! sized_imm {
    ($a:expr, $size:expr, $op:ident, $imm:expr) => {
        match $size {
            1 => dynasm!($a ; .arch x64 ; $op al, $imm as i8),
            2 => dynasm!($a ; .arch x64 ; $op ax, $imm as i16),
            4 => dynasm!($a ; .arch x64 ; $op eax, $imm),
            _ => dynasm!($a ; .arch x64 ; $op rax, $imm),
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

/// How an instruction with a memory operand reaches it.
#[derive(Clone, Copy)]
pub(super) enum MemPath<'a> {
    /// The instruction has no memory operand.
    None,
    /// Helper calls into the interpreter's operand access.
    Slow(&'a InsCtx<'a>),
    /// Inline host access; a miss jumps to where the slow form is.
    Fast(&'a FastAccess),
}

/// Where a native instruction's status flags go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FlagSink {
    /// Into the guest RFLAGS (r11): the live ones (`live_flags`).
    Guest,
    /// Captured into rdx (`capture_flags`, host flags left intact) for
    /// the fused Jcc that follows, which stores them.
    Capture,
    /// Left in the host RFLAGS only: the fused Jcc that follows captures
    /// them on the edges that need them (a loop's back edge that can
    /// recompute them, see `deferred_loop_flags`).
    Host,
}

/// Emit one native instruction; `live` = status flags live after it;
/// `mem` says how its memory operand, if any, is accessed; `sink` where
/// its flags go.
pub(super) fn emit_native(a: &mut Asm, n: Native, live: u64, mem: MemPath<'_>, sink: FlagSink) {
    // The memory read comes first, before anything changes; the value is
    // left in rcx (see `load_rcx`).
    let reads = match n {
        Native::Alu { src, .. }
        | Native::Ext { src, .. }
        | Native::Cmov { src, .. }
        | Native::Imul { src, .. } => src == Src::Mem,
        _ => false,
    };
    if reads {
        match mem {
            MemPath::Slow(ictx) => {
                mem_read(a, ictx, READ_SRC);
                dynasm!(a ; .arch x64 ; mov rcx, [r13 + CX_TMP]);
            }
            MemPath::Fast(f) => {
                fast_address(a, f, false);
                load_host(a, f.mref.size, true);
            }
            MemPath::None => {}
        }
    }
    let all = flags::STATUS;
    // Store only live flags (see `live_flags`).
    let save_flags = |a: &mut Asm, take: u64, clear: u64| match sink {
        FlagSink::Capture => capture_flags(a),
        FlagSink::Host => {}
        FlagSink::Guest if clear & live != 0 => save_flags(a, take & live, clear & live),
        FlagSink::Guest => {}
    };
    match n {
        Native::Alu { op, size, dst, src } => {
            if op == AluOp::Mov {
                match src {
                    Src::Imm(v) => {
                        let v = v as i64;
                        dynasm!(a ; .arch x64 ; mov rax, QWORD v);
                    }
                    _ => {
                        load_rcx(a, src);
                        match size {
                            4 => dynasm!(a ; .arch x64 ; mov eax, ecx),
                            _ => dynasm!(a ; .arch x64 ; mov rax, rcx),
                        }
                    }
                }
                store_rax(a, dst, size);
                return;
            }
            if matches!(op, AluOp::Adc | AluOp::Sbb) {
                restore_flags(a);
            }
            if alu_in_place(a, op, size, dst, src) {
                let take = match op {
                    AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Test => {
                        flags::SF | flags::ZF | flags::PF
                    }
                    _ => all,
                };
                save_flags(a, take, all);
                return;
            }
            load_rax(a, dst);
            let imm = match src {
                Src::Imm(v) => imm32(v, size),
                _ => None,
            };
            if imm.is_none() {
                load_rcx(a, src);
            }
            match (op, imm) {
                (AluOp::Add, Some(i)) => sized_imm!(a, size, add, i),
                (AluOp::Adc, Some(i)) => sized_imm!(a, size, adc, i),
                (AluOp::Sub, Some(i)) => sized_imm!(a, size, sub, i),
                (AluOp::Sbb, Some(i)) => sized_imm!(a, size, sbb, i),
                (AluOp::And, Some(i)) => sized_imm!(a, size, and, i),
                (AluOp::Or, Some(i)) => sized_imm!(a, size, or, i),
                (AluOp::Xor, Some(i)) => sized_imm!(a, size, xor, i),
                (AluOp::Cmp, Some(i)) => sized_imm!(a, size, cmp, i),
                (AluOp::Test | AluOp::Mov, Some(i)) => sized_imm!(a, size, test, i),
                (AluOp::Add, None) => sized_rr!(a, size, add),
                (AluOp::Adc, None) => sized_rr!(a, size, adc),
                (AluOp::Sub, None) => sized_rr!(a, size, sub),
                (AluOp::Sbb, None) => sized_rr!(a, size, sbb),
                (AluOp::And, None) => sized_rr!(a, size, and),
                (AluOp::Or, None) => sized_rr!(a, size, or),
                (AluOp::Xor, None) => sized_rr!(a, size, xor),
                (AluOp::Cmp, None) => sized_rr!(a, size, cmp),
                (AluOp::Test | AluOp::Mov, None) => sized_rr!(a, size, test),
            }
            // Logic instructions: AF undefined, produced as 0 (as the
            // interpreter's flags::logic does).
            let take = match op {
                // CF = OF = 0 (cleared, not taken), AF = 0.
                AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Test => {
                    flags::SF | flags::ZF | flags::PF
                }
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
            if shift_flags_needed(live) {
                capture_flags(a);
                shift_flags(a, op, size, live);
            }
            store_rax(a, dst, size);
        }
        Native::Rotate {
            left,
            size,
            dst,
            count,
        } => {
            load_rax(a, dst);
            let c = count as i8;
            if left {
                sized_ri!(a, size, rol, c);
            } else {
                sized_ri!(a, size, ror, c);
            }
            // CF and OF as the interpreter computes them from the result
            // (ROL: CF = LSB, OF = MSB ^ CF; ROR: CF = MSB, OF = MSB ^
            // bit width-2); the other flags are untouched.
            let live_cf_of = live & (flags::CF | flags::OF);
            if live_cf_of != 0 {
                let top = (size * 8 - 1) as i8;
                let keep = !(live_cf_of as i32);
                let take = live_cf_of as i32;
                dynasm!(a
                    ; .arch x64
                    ; mov rcx, rax
                    ; shr rcx, top
                    ; and ecx, 1
                );
                if left {
                    dynasm!(a
                        ; .arch x64
                        ; mov edx, eax
                        ; and edx, 1
                        ; xor ecx, edx
                        ; shl ecx, 11
                        ; or ecx, edx
                    );
                } else {
                    dynasm!(a
                        ; .arch x64
                        ; mov rdx, rax
                        ; shr rdx, top - 1
                        ; and edx, 1
                        ; xor edx, ecx
                        ; shl edx, 11
                        ; or ecx, edx
                    );
                }
                dynasm!(a
                    ; .arch x64
                    ; and ecx, take
                    ; and r11, keep
                    ; or r11, rcx
                );
            }
            store_rax(a, dst, size);
        }
        Native::ShiftCl { op, size, dst } => {
            // The count is masked by the host exactly as by the
            // interpreter (5 bits, 6 for 64-bit operands). A zero count
            // still writes the register back (zero-extending a dword),
            // but leaves the flags alone.
            load_rax(a, dst);
            load_rcx(a, Src::Reg(RCX));
            dynasm!(a ; .arch x64 ; mov r9, rax);
            match (op, size) {
                (ShOp::Shl, 4) => dynasm!(a ; .arch x64 ; shl eax, cl),
                (ShOp::Shl, _) => dynasm!(a ; .arch x64 ; shl rax, cl),
                (ShOp::Shr, 4) => dynasm!(a ; .arch x64 ; shr eax, cl),
                (ShOp::Shr, _) => dynasm!(a ; .arch x64 ; shr rax, cl),
                (ShOp::Sar, 4) => dynasm!(a ; .arch x64 ; sar eax, cl),
                (ShOp::Sar, _) => dynasm!(a ; .arch x64 ; sar rax, cl),
            }
            let needed = shift_flags_needed(live);
            if needed {
                capture_flags(a);
            }
            store_rax(a, dst, size);
            if needed {
                let mask = if size == 8 { 0x3f } else { 0x1f };
                dynasm!(a
                    ; .arch x64
                    ; test cl, mask
                    ; jz >no_flags
                    ; mov rcx, r9
                );
                shift_flags(a, op, size, live);
                dynasm!(a ; .arch x64 ; no_flags:);
            }
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
                match a.cache.host(b) {
                    Some(h) => dynasm!(a ; .arch x64 ; add rax, Rq(h)),
                    None => {
                        let o = b.off();
                        dynasm!(a ; .arch x64 ; add rax, [rbx + o]);
                    }
                }
            }
            if let Some((ix, scale)) = index {
                load_rcx(a, Src::Reg(ix));
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
            match a.cache.host(dst) {
                Some(h) => dynasm!(a ; .arch x64 ; mov Rb(h), dl),
                None => {
                    let o = dst.byte_off();
                    dynasm!(a ; .arch x64 ; mov [rbx + o], dl);
                }
            }
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
                match size {
                    2 => dynasm!(a ; .arch x64 ; cwd),
                    4 => dynasm!(a ; .arch x64 ; cdq),
                    _ => dynasm!(a ; .arch x64 ; cqo),
                }
                // DX merges into RDX; EDX is zero-extended.
                match (a.cache.host(rdx_loc), size) {
                    (Some(h), 2) => dynasm!(a ; .arch x64 ; mov Rw(h), dx),
                    (Some(h), _) => dynasm!(a ; .arch x64 ; mov Rq(h), rdx),
                    (None, 2) => {
                        let o = rdx_loc.off();
                        dynasm!(a ; .arch x64 ; mov [rbx + o], dx);
                    }
                    (None, _) => {
                        let o = rdx_loc.off();
                        dynasm!(a ; .arch x64 ; mov [rbx + o], rdx);
                    }
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
                FlagOp::Stc => dynasm!(a ; .arch x64 ; or r11, cf),
                FlagOp::Clc => dynasm!(a ; .arch x64 ; and r11, !cf),
                FlagOp::Cmc => dynasm!(a ; .arch x64 ; xor r11, cf),
                FlagOp::Std => dynasm!(a ; .arch x64 ; or r11, df),
                FlagOp::Cld => dynasm!(a ; .arch x64 ; and r11, !df),
            }
        }
        Native::Nop => {}
        Native::Simd(s) => {
            // The slow form of a SIMD memory access is a monitor call of
            // the whole instruction (`emit_block`), never this.
            let fast = match mem {
                MemPath::Fast(f) => Some(f),
                MemPath::None | MemPath::Slow(_) => None,
            };
            super::simd::emit_simd(a, s, live, fast);
        }
        Native::X87(x) => {
            // As for SIMD: the slow form is a monitor call.
            let fast = match mem {
                MemPath::Fast(f) => Some(f),
                MemPath::None | MemPath::Slow(_) => None,
            };
            super::x87::emit_x87(a, x, live, fast);
        }
        Native::MemDst { op, size, src } => {
            let writes = !matches!(op, MemOp::Alu(AluOp::Cmp | AluOp::Test));
            match mem {
                MemPath::Fast(f) => {
                    fast_address(a, f, writes);
                    if reads_cf(op) {
                        restore_flags(a);
                    }
                    load_host(a, size, false);
                    load_rcx(a, src);
                    let (take, clear) = mem_dst_op(a, op, size);
                    if clear != 0 {
                        self::save_flags(a, take, clear);
                    }
                    if writes {
                        store_host(a, size, false);
                    }
                }
                MemPath::Slow(ictx) => {
                    mem_read(a, ictx, if writes { READ_RMW } else { READ_DST });
                    if reads_cf(op) {
                        restore_flags(a);
                    }
                    dynasm!(a ; .arch x64 ; mov rax, [r13 + CX_TMP]);
                    load_rcx(a, src);
                    let (take, clear) = mem_dst_op(a, op, size);
                    // The flags are stored only once the write succeeded
                    // (a faulting write leaves them as they were).
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
                MemPath::None => {}
            }
        }
        Native::Push { size, src } => match mem {
            MemPath::Fast(f) => {
                fast_address(a, f, true);
                // PUSH rSP pushes the value before the decrement.
                load_rcx(a, src);
                store_host(a, size, true);
                adjust_sp(a, -(size as i32), f.mref.addr_size());
            }
            MemPath::Slow(ictx) => stack_helper(a, ictx),
            MemPath::None => {}
        },
        Native::Pop { size, dst } => match mem {
            MemPath::Fast(f) => {
                fast_address(a, f, false);
                load_host(a, size, true);
                adjust_sp(a, size as i32, f.mref.addr_size());
                // POP rSP: the popped value wins over the increment.
                store_rcx(a, dst, size);
            }
            MemPath::Slow(ictx) => stack_helper(a, ictx),
            MemPath::None => {}
        },
        Native::Store { size, src } => match mem {
            MemPath::Fast(f) => {
                fast_address(a, f, true);
                load_rcx(a, src);
                store_host(a, size, true);
            }
            MemPath::Slow(ictx) => {
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
            MemPath::None => {}
        },
        Native::Imul {
            size,
            dst,
            src,
            imm,
        } => {
            match imm {
                None => {
                    load_rax(a, dst);
                    load_rcx(a, src);
                    match size {
                        2 => dynasm!(a ; .arch x64 ; imul ax, cx),
                        4 => dynasm!(a ; .arch x64 ; imul eax, ecx),
                        _ => dynasm!(a ; .arch x64 ; imul rax, rcx),
                    }
                }
                Some(i) => {
                    load_rcx(a, src);
                    match size {
                        2 => dynasm!(a ; .arch x64 ; imul ax, cx, i as i16),
                        4 => dynasm!(a ; .arch x64 ; imul eax, ecx, i),
                        _ => dynasm!(a ; .arch x64 ; imul rax, rcx, i),
                    }
                }
            }
            // CF = OF from the host; SF, ZF, PF of the result by TEST
            // (whose CF = OF = 0 and AF = 0 as the interpreter wants
            // after masking); then CF | OF put back from r9.
            if live & all != 0 {
                let cf_of = (flags::CF | flags::OF) as i32;
                dynasm!(a ; .arch x64 ; setc r9b ; movzx r9d, r9b ; neg r9d ; and r9d, cf_of);
                match size {
                    2 => dynasm!(a ; .arch x64 ; test ax, ax),
                    4 => dynasm!(a ; .arch x64 ; test eax, eax),
                    _ => dynasm!(a ; .arch x64 ; test rax, rax),
                }
                self::save_flags(a, flags::SF | flags::ZF | flags::PF, all);
                dynasm!(a ; .arch x64 ; or r11, r9);
            }
            store_rax(a, dst, size);
        }
        Native::Cmov { cc, size, dst, src } => {
            restore_flags(a);
            setcc_dl(a, cc);
            load_rax(a, dst);
            load_rcx(a, src);
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

/// Does a shift (by a nonzero count) store any flag? See `shift_flags`.
fn shift_flags_needed(live: u64) -> bool {
    live & (flags::CF | flags::SF | flags::ZF | flags::PF | flags::OF) != 0
}

/// The flags of a shift by a nonzero count, from the host flags captured
/// in rdx, the result in rax and the original operand in rcx: CF, SF, ZF,
/// PF from the host; AF unchanged (undefined, as the interpreter); OF by
/// the interpreter's count-1 formula. Only live flags are stored, but OF
/// of SHL needs CF in edx, so CF is stored whenever OF is live.
fn shift_flags(a: &mut Asm, op: ShOp, size: u32, live: u64) {
    let cszp = flags::CF | flags::SF | flags::ZF | flags::PF;
    let of_live = live & flags::OF != 0;
    let keep = if of_live { live | flags::CF } else { live };
    let clear = (cszp | flags::OF) & keep;
    merge_flags(a, cszp & keep, clear);
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
            ; or r11, rcx
        ),
        // OF = MSB of the original operand (in rcx).
        ShOp::Shr if of_live => dynasm!(a
            ; .arch x64
            ; shr rcx, top
            ; and ecx, 1
            ; shl ecx, 11
            ; or r11, rcx
        ),
        _ => {}
    }
}

/// The whole PUSH/POP through the interpreter (`Cpu::push` / `Cpu::pop`).
fn stack_helper(a: &mut Asm, ictx: &InsCtx<'_>) {
    let ins = ictx.ins_addr as i64;
    let rem = ictx.remaining;
    dynasm!(a
        ; .arch x64
        ; mov rsi, QWORD ins
        ; mov rdx, QWORD rem
    );
    helper_call(a, ictx, ictx.addrs.stack);
}

/// ADC / SBB: the guest CF must be in the host flags first.
fn reads_cf(op: MemOp) -> bool {
    matches!(op, MemOp::Alu(AluOp::Adc | AluOp::Sbb))
}

/// The operation of a [`Native::MemDst`] on rax (and rcx): returns the
/// (take, clear) masks of its flag store.
fn mem_dst_op(a: &mut Asm, op: MemOp, size: u32) -> (u64, u64) {
    let all = flags::STATUS;
    match op {
        MemOp::Alu(o) => {
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
                AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Test => (all & !flags::AF, all),
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
    }
}
