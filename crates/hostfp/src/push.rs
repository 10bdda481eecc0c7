//! The operations that leave two results: FPTAN, FSINCOS, FXTRACT.

use crate::{host_cw, sw, F80};

/// Operations on ST(0) that replace it and push a second result:
/// FPTAN (tan, then 1.0), FSINCOS (sin, then cos), FXTRACT (exponent, then
/// significand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOp {
    Ptan,
    Sincos,
    Xtract,
}

/// `op a` under `fcw`: `Some((st0, st1))` as the stack holds them after
/// the instruction (ST(0) the pushed value), or `None` when FPTAN or
/// FSINCOS found the operand out of range (C2 set, nothing changed); and
/// the flags.
pub fn push_op(op: PushOp, a: F80, fcw: u16) -> (Option<(F80, F80)>, u16) {
    let cw = host_cw(fcw);
    let mut r = [F80::ZERO; 2];
    let mut status: u16 = 0;
    let mut saved: u16 = 0;
    macro_rules! run {
        ($op:literal) => {
            // SAFETY: reads `a` and `cw`, writes `r` (two 16-byte F80s),
            // `status` and `saved`; pushes one register and the operation
            // pushes at most one more, and both are popped on either path
            // (C2 set: the operand alone is left); the control word is
            // restored and the flags cleared; x87 registers are clobbered.
            unsafe {
                core::arch::asm!(
                    "fnstcw word ptr [{saved}]",
                    "fninit",
                    "fldcw word ptr [{cw}]",
                    "fld tbyte ptr [{a}]",
                    $op,
                    "fnstsw word ptr [{status}]",
                    "fnclex",
                    "test word ptr [{status}], 0x400",
                    "jnz 2f",
                    "fstp tbyte ptr [{r}]",
                    "fstp tbyte ptr [{r} + 16]",
                    "jmp 3f",
                    "2:",
                    "fstp st(0)",
                    "3:",
                    "fninit",
                "fldcw word ptr [{saved}]",
                    a = in(reg) &a,
                    cw = in(reg) &cw,
                    r = in(reg) &mut r,
                    status = in(reg) &mut status,
                    saved = in(reg) &mut saved,
                    out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                    out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                    options(nostack),
                );
            }
        };
    }
    match op {
        PushOp::Ptan => run!("fptan"),
        PushOp::Sincos => run!("fsincos"),
        PushOp::Xtract => run!("fxtract"),
    }
    let _ = saved;
    let out = (status & sw::C2 == 0 || op == PushOp::Xtract).then_some((r[0], r[1]));
    (out, status & sw::REPORTED)
}
