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
//! loads the guest's precision and rounding control with every exception
//! masked (an unmasked host exception would trap in xlat itself), clears
//! the status word, loads the operands in 80-bit format (which raises
//! nothing, SDM Vol. 2 "FLD": no #IA or #D for m80fp), runs the
//! instruction, stores the status word and then the result in 80-bit
//! format (which raises nothing either, but would change C1), and
//! restores the control word. The x87
//! stack is empty between Rust functions on x86-64 (System V ABI), and
//! each block pops what it pushed. What the guest's own unmasked
//! exceptions change (no result, or a bias-adjusted one, and #MF) is the
//! interpreter's business, from the flags returned here.
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
/// PE (bits 0-5), C1 (bit 9: rounded up, or the sign of a comparison's
/// ...), and C0/C2/C3 for comparisons and FXAM.
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

/// The host control word for a guest FCW: its precision (bits 8-9) and
/// rounding (bits 10-11) control, every exception masked.
fn host_cw(fcw: u16) -> u16 {
    (fcw & 0x0f00) | 0x007f
}

/// A two-operand x87 arithmetic operation, as FADD ST(0), ST(i) and its
/// relatives compute it: `a op b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    /// a - b
    Sub,
    Mul,
    /// a / b
    Div,
    /// FPREM (partial remainder, truncating quotient).
    Prem,
    /// FPREM1 (IEEE remainder).
    Prem1,
    /// FSCALE: a * 2^trunc(b).
    Scale,
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
                "fldcw word ptr [{cw}]",
                "fnclex",
                "fld tbyte ptr [{b}]",
                "fld tbyte ptr [{a}]",
                $op,
                "fnstsw word ptr [{status}]",
                "fstp tbyte ptr [{r}]",
                "fstp st(0)",
                "fnclex",
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

/// `a op b` under the guest's precision and rounding control `fcw`:
/// the result (what the masked response would store) and the FSW bits
/// raised (`sw::REPORTED`). With ST(0) = a and ST(1) = b.
pub fn binary(op: BinOp, a: F80, b: F80, fcw: u16) -> (F80, u16) {
    let cw = host_cw(fcw);
    match op {
        BinOp::Add => x87_binary!(a, b, cw, "fadd st(0), st(1)"),
        BinOp::Sub => x87_binary!(a, b, cw, "fsub st(0), st(1)"),
        BinOp::Mul => x87_binary!(a, b, cw, "fmul st(0), st(1)"),
        BinOp::Div => x87_binary!(a, b, cw, "fdiv st(0), st(1)"),
        BinOp::Prem => x87_binary!(a, b, cw, "fprem"),
        BinOp::Prem1 => x87_binary!(a, b, cw, "fprem1"),
        BinOp::Scale => x87_binary!(a, b, cw, "fscale"),
    }
}

/// A one-operand x87 operation on ST(0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Sqrt,
    Rndint,
    /// F2XM1: 2^a - 1.
    F2xm1,
    Sin,
    Cos,
}

/// `op a` under `fcw`, as `binary`. (FSIN/FCOS leave C2 set and ST(0)
/// unchanged when the operand is out of range.)
pub fn unary(op: UnOp, a: F80, fcw: u16) -> (F80, u16) {
    let cw = host_cw(fcw);
    // The second operand is pushed and ignored, so one shape serves all.
    match op {
        UnOp::Sqrt => x87_binary!(a, F80::ZERO, cw, "fsqrt"),
        UnOp::Rndint => x87_binary!(a, F80::ZERO, cw, "frndint"),
        UnOp::F2xm1 => x87_binary!(a, F80::ZERO, cw, "f2xm1"),
        UnOp::Sin => x87_binary!(a, F80::ZERO, cw, "fsin"),
        UnOp::Cos => x87_binary!(a, F80::ZERO, cw, "fcos"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PC24: u16 = 0x037f & !0x0300;
    const PC64: u16 = 0x037f;
    const RC_UP: u16 = 0x0800;
    const RC_CHOP: u16 = 0x0c00;

    fn f(v: f64) -> F80 {
        // Exact conversion of a normal double.
        let b = v.to_bits();
        let exp = ((b >> 52) & 0x7ff) as u16;
        let sign = ((b >> 63) as u16) << 15;
        F80 {
            signif: (1 << 63) | ((b & ((1 << 52) - 1)) << 11),
            sign_exp: sign | (exp - 1023 + 16383),
        }
    }

    #[test]
    fn add_and_precision_control() {
        let (r, s) = binary(BinOp::Add, f(1.5), f(2.25), PC64);
        assert_eq!(r, f(3.75));
        assert_eq!(s, 0);
        // 1/3 rounded to 64 and to 24 significand bits.
        let (r64, s64) = binary(BinOp::Div, F80::ONE, f(3.0), PC64);
        assert_eq!(r64.signif, 0xaaaa_aaaa_aaaa_aaab);
        assert_eq!(s64, sw::PE | sw::C1, "inexact, rounded up");
        let (r24, _) = binary(BinOp::Div, F80::ONE, f(3.0), PC24);
        assert_eq!(r24.signif, 0xaaaa_ab00_0000_0000);
        // Round toward zero: no round-up.
        let (rz, sz) = binary(BinOp::Div, F80::ONE, f(3.0), PC64 | RC_CHOP);
        assert_eq!(rz.signif, 0xaaaa_aaaa_aaaa_aaaa);
        assert_eq!(sz, sw::PE);
        let (ru, _) = binary(BinOp::Div, f(-1.0), f(3.0), PC64 | RC_UP);
        assert_eq!(
            ru.signif, 0xaaaa_aaaa_aaaa_aaaa,
            "toward +inf on a negative"
        );
    }

    #[test]
    fn exceptions_are_reported_not_raised() {
        let (r, s) = binary(BinOp::Div, F80::ONE, F80::ZERO, PC64);
        assert_eq!((r.signif, r.exponent()), (1 << 63, 0x7fff), "infinity");
        assert_eq!(s, sw::ZE);
        let (r, s) = binary(BinOp::Sub, inf(), inf(), PC64);
        assert_eq!(s, sw::IE);
        assert_eq!(r.signif, 0xc000_0000_0000_0000, "the indefinite QNaN");
        let big = F80 {
            signif: 1 << 63,
            sign_exp: 0x7ffe,
        };
        let (_, s) = binary(BinOp::Mul, big, big, PC64);
        assert_eq!(s & (sw::OE | sw::PE), sw::OE | sw::PE);
        // A denormal operand.
        let den = F80 {
            signif: 1,
            sign_exp: 0,
        };
        let (_, s) = binary(BinOp::Add, den, F80::ONE, PC64);
        assert!(s & sw::DE != 0);
        // The host's own control word and flags are untouched.
        let (_, s) = binary(BinOp::Add, F80::ONE, F80::ONE, PC64);
        assert_eq!(s, 0);
        assert_eq!(1.0f64 / 3.0, 0.333_333_333_333_333_3);
    }

    fn inf() -> F80 {
        F80 {
            signif: 1 << 63,
            sign_exp: 0x7fff,
        }
    }

    #[test]
    fn unary_ops() {
        let (r, s) = unary(UnOp::Sqrt, f(2.25), PC64);
        assert_eq!((r, s), (f(1.5), 0));
        let (r, _) = unary(UnOp::Rndint, f(2.5), PC64);
        assert_eq!(r, f(2.0), "to even");
        let (r, _) = unary(UnOp::Sin, F80::ZERO, PC64);
        assert_eq!(r, F80::ZERO);
        let (_, s) = unary(UnOp::Sqrt, f(-1.0), PC64);
        assert_eq!(s, sw::IE);
    }
}
