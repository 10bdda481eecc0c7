//! ALU instructions on cached guest registers run in place: the guest's
//! instruction on the host registers that hold its operands (the same
//! ISA: a byte or word operation leaves the other bits, a dword one
//! zero-extends, exactly as the guest's), with no copy through rax/rcx.

use super::plan::{AluOp, Loc, Src};
use super::Asm;
use dynasmrt::{dynasm, DynasmApi};

/// `$op` on two cached guest registers in their host registers.
macro_rules! sized_hh {
    ($a:expr, $size:expr, $op:ident, $d:expr, $s:expr) => {
        match $size {
            1 => dynasm!($a ; .arch x64 ; $op Rb($d), Rb($s)),
            2 => dynasm!($a ; .arch x64 ; $op Rw($d), Rw($s)),
            4 => dynasm!($a ; .arch x64 ; $op Rd($d), Rd($s)),
            _ => dynasm!($a ; .arch x64 ; $op Rq($d), Rq($s)),
        }
    };
}

/// `$op` on a cached guest register in its host register and an
/// immediate (`imm32` form).
macro_rules! sized_hi {
    ($a:expr, $size:expr, $op:ident, $d:expr, $imm:expr) => {
        match $size {
            1 => dynasm!($a ; .arch x64 ; $op Rb($d), $imm as i8),
            2 => dynasm!($a ; .arch x64 ; $op Rw($d), $imm as i16),
            4 => dynasm!($a ; .arch x64 ; $op Rd($d), $imm),
            _ => dynasm!($a ; .arch x64 ; $op Rq($d), $imm),
        }
    };
}

/// A two-operand ALU instruction whose destination is a cached guest
/// register and whose source is an immediate or a cached register, run
/// as itself on the host registers (the same ISA: a byte or word
/// operation leaves the other bits, a dword one zero-extends, exactly as
/// the guest's), its flags in the host RFLAGS as after `sized_rr!`.
/// False (nothing emitted) for other operands; MOV is not handled here.
pub(super) fn alu_in_place(a: &mut Asm, op: AluOp, size: u32, dst: Loc, src: Src) -> bool {
    let Some(d) = a.cache.host(dst) else {
        return false;
    };
    match src {
        Src::Imm(v) => {
            let Some(i) = imm32(v, size) else {
                return false;
            };
            match op {
                AluOp::Add => sized_hi!(a, size, add, d, i),
                AluOp::Adc => sized_hi!(a, size, adc, d, i),
                AluOp::Sub => sized_hi!(a, size, sub, d, i),
                AluOp::Sbb => sized_hi!(a, size, sbb, d, i),
                AluOp::And => sized_hi!(a, size, and, d, i),
                AluOp::Or => sized_hi!(a, size, or, d, i),
                AluOp::Xor => sized_hi!(a, size, xor, d, i),
                AluOp::Cmp => sized_hi!(a, size, cmp, d, i),
                AluOp::Test => sized_hi!(a, size, test, d, i),
                AluOp::Mov => return false,
            }
        }
        Src::Reg(l) => {
            let Some(s) = a.cache.host(l) else {
                return false;
            };
            match op {
                AluOp::Add => sized_hh!(a, size, add, d, s),
                AluOp::Adc => sized_hh!(a, size, adc, d, s),
                AluOp::Sub => sized_hh!(a, size, sub, d, s),
                AluOp::Sbb => sized_hh!(a, size, sbb, d, s),
                AluOp::And => sized_hh!(a, size, and, d, s),
                AluOp::Or => sized_hh!(a, size, or, d, s),
                AluOp::Xor => sized_hh!(a, size, xor, d, s),
                AluOp::Cmp => sized_hh!(a, size, cmp, d, s),
                AluOp::Test => sized_hh!(a, size, test, d, s),
                AluOp::Mov => return false,
            }
        }
        Src::Mem => return false,
    }
    true
}

/// An immediate operand of `size` bytes as the host instruction's
/// immediate (sign-extended to 64 bits for QWORD operations; None if it
/// does not fit).
pub(super) fn imm32(v: u64, size: u32) -> Option<i32> {
    match size {
        1 => Some(i32::from(v as u8 as i8)),
        2 => Some(i32::from(v as u16 as i16)),
        4 => Some(v as u32 as i32),
        _ => i32::try_from(v as i64).ok(),
    }
}
