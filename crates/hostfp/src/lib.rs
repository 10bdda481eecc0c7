//! Floating-point arithmetic on the host's own x87 unit, for xlat's
//! interpreter (issue #9).
//!
//! xlat runs only on x86-64 hosts (its translator emits x86-64 code), and
//! every such host has an x87 unit: running the guest's x87 arithmetic on
//! it gives the hardware's results bit for bit — 80-bit values, precision
//! and rounding control, denormals, pseudo-denormals, unnormals, NaN and
//! infinity rules, the exception flags and C1 — where a software model
//! (SoftFloat, as Bochs and QEMU use) has to reproduce each of those
//! rules, and QEMU's is known to differ in some. The host-CPU oracle
//! (`xlat diff`) compares against the same hardware.
//!
//! Each operation is one `asm!` block that saves the host's control word,
//! starts from FNINIT's clean state, loads the guest's precision and
//! rounding control with invalid, denormal, zero-divide and precision
//! masked (overflow and underflow as the guest has them, since their
//! unmasked response is a different result), loads the operands (in
//! 80-bit format, which raises nothing: SDM Vol. 2 "FLD"), runs the
//! instruction, stores the status word, clears the pending exception with
//! FNCLEX (which does not wait, so nothing traps in xlat itself), stores
//! the result, and ends with FNINIT and the host's own control word: the
//! host's x87 is left empty and clean whatever the operation did (an
//! unmasked store does not pop). What the guest's unmasked exceptions
//! change (no result, ES, #MF) is the interpreter's business, from the
//! flags returned here.
//!
//! This is the crate's only `unsafe`, one block per operation.

#![cfg(target_arch = "x86_64")]

/// An x87 80-bit value: significand (bit 63 the explicit integer bit),
/// sign and biased exponent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct F80 {
    pub signif: u64,
    pub sign_exp: u16,
}

const _: () = assert!(core::mem::size_of::<F80>() == 16);

impl F80 {
    pub const ZERO: F80 = F80 {
        signif: 0,
        sign_exp: 0,
    };
    pub const ONE: F80 = F80 {
        signif: 1 << 63,
        sign_exp: 0x3fff,
    };

    pub fn negative(self) -> bool {
        self.sign_exp & 0x8000 != 0
    }
    pub fn exponent(self) -> u16 {
        self.sign_exp & 0x7fff
    }
}

/// FSW bits an operation reports: the exception flags IE, DE, ZE, OE, UE,
/// PE (bits 0-5), C1 (bit 9: rounded up) and C0/C2/C3. Each block starts
/// with FNINIT, so bits an instruction leaves undefined are what the
/// hardware makes of a clear status word, the same every time.
pub mod sw {
    pub const IE: u16 = 1 << 0;
    pub const DE: u16 = 1 << 1;
    pub const ZE: u16 = 1 << 2;
    pub const OE: u16 = 1 << 3;
    pub const UE: u16 = 1 << 4;
    pub const PE: u16 = 1 << 5;
    pub const C0: u16 = 1 << 8;
    pub const C1: u16 = 1 << 9;
    pub const C2: u16 = 1 << 10;
    pub const C3: u16 = 1 << 14;
    /// The bits an operation reports (the rest of the host's FSW, TOP and
    /// the summary bits, says nothing about the guest).
    pub const REPORTED: u16 = 0x3f | C0 | C1 | C2 | C3;
}

/// The host control word for an arithmetic operation under guest FCW
/// `fcw`: its precision (bits 8-9) and rounding (bits 10-11) control;
/// invalid, denormal, zero-divide and precision masked (their masked
/// response is computed and the caller discards it where the guest
/// unmasked them); overflow and underflow masked as the guest has them,
/// since their unmasked response is a different result (the exponent
/// bias-adjusted by 24576, SDM Vol. 1 §8.5.4-8.5.5), which the host then
/// computes. The pending exception this leaves is cleared (FNCLEX, which
/// does not wait) before anything else runs.
fn host_cw(fcw: u16) -> u16 {
    (fcw & 0x0f18) | 0x0067
}

/// The host control word for a conversion or store: everything masked
/// (an unmasked exception on a store writes nothing; the caller decides).
fn host_cw_masked(fcw: u16) -> u16 {
    (fcw & 0x0f00) | 0x007f
}

/// One x87 operation with two operands in memory and the result stored.
/// Expands to one `asm!` block (see the module comment).
macro_rules! x87_binary {
    ($a:expr, $b:expr, $cw:expr, $op:literal) => {{
        let a: F80 = $a;
        let b: F80 = $b;
        let cw: u16 = $cw;
        let mut r = F80::ZERO;
        let mut status: u16 = 0;
        let mut saved: u16 = 0;
        // SAFETY: the block reads `a`, `b` and `cw` and writes `r`,
        // `status` and `saved`, all live locals of the sizes the
        // instructions access (10-byte F80 inside a 16-byte struct, 2-byte
        // words); it pushes two x87 registers and pops both, leaves the
        // host control word as it found it and clears the exception flags
        // it raised, and declares the x87 registers clobbered.
        unsafe {
            core::arch::asm!(
                "fnstcw word ptr [{saved}]",
                "fninit",
                "fldcw word ptr [{cw}]",
                "fld tbyte ptr [{b}]",
                "fld tbyte ptr [{a}]",
                $op,
                "fnstsw word ptr [{status}]",
                "fnclex",
                "fstp tbyte ptr [{r}]",
                "fstp st(0)",
                "fninit",
                "fldcw word ptr [{saved}]",
                a = in(reg) &a,
                b = in(reg) &b,
                cw = in(reg) &cw,
                r = in(reg) &mut r,
                status = in(reg) &mut status,
                saved = in(reg) &mut saved,
                out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                options(nostack),
            );
        }
        let _ = saved;
        (r, status & sw::REPORTED)
    }};
}

/// One x87 operation on a memory operand of any format: `$load` pushes
/// it, `$op` runs, the status is taken, then `$store` stores ST(0) into
/// `$out` (popping it); `$pops` more registers are popped. The same
/// discipline as `x87_binary`.
macro_rules! x87_convert {
    ($input:expr, $out:ty, $cw:expr, $load:literal, $op:literal, $store:literal) => {{
        let input = $input;
        let cw: u16 = $cw;
        let mut out: $out = Default::default();
        let mut status: u16 = 0;
        let mut saved: u16 = 0;
        // SAFETY: the block reads `input` and `cw` and writes `out`,
        // `status` and `saved`, live locals at least as large as the
        // accesses (`$load` and `$store` name the operand sizes); the
        // x87 stack is empty before and after (one push, one pop), the
        // host control word is restored and the flags raised are
        // cleared; x87 registers are declared clobbered.
        unsafe {
            core::arch::asm!(
                "fnstcw word ptr [{saved}]",
                "fninit",
                "fldcw word ptr [{cw}]",
                $load,
                $op,
                "fnstsw word ptr [{status}]",
                "fnclex",
                $store,
                "fninit",
                "fldcw word ptr [{saved}]",
                input = in(reg) &input,
                cw = in(reg) &cw,
                out = in(reg) &mut out,
                status = in(reg) &mut status,
                saved = in(reg) &mut saved,
                out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                options(nostack),
            );
        }
        let _ = saved;
        (out, status & sw::REPORTED)
    }};
}

mod arith;
mod convert;
mod push;
pub mod sse;

pub use arith::*;
pub use convert::*;
pub use push::*;

#[cfg(test)]
mod tests;
