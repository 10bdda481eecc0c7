//! SSE/SSE2 compares and conversions on the host's unit (the discipline
//! of `sse_op!`, see the parent module).

use super::{host_mxcsr, mxcsr};

/// The four forms of CMPcc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpForm {
    Ps,
    Ss,
    Pd,
    Sd,
}

macro_rules! cmp_preds {
    ($a:expr, $b:expr, $c:expr, $pred:expr, $m:literal) => {
        match $pred & 7 {
            0 => sse_op!($a, $b, $c, concat!($m, " xmm0, xmm1, 0")),
            1 => sse_op!($a, $b, $c, concat!($m, " xmm0, xmm1, 1")),
            2 => sse_op!($a, $b, $c, concat!($m, " xmm0, xmm1, 2")),
            3 => sse_op!($a, $b, $c, concat!($m, " xmm0, xmm1, 3")),
            4 => sse_op!($a, $b, $c, concat!($m, " xmm0, xmm1, 4")),
            5 => sse_op!($a, $b, $c, concat!($m, " xmm0, xmm1, 5")),
            6 => sse_op!($a, $b, $c, concat!($m, " xmm0, xmm1, 6")),
            _ => sse_op!($a, $b, $c, concat!($m, " xmm0, xmm1, 7")),
        }
    };
}

/// CMPPS/CMPSS/CMPPD/CMPSD xmm0, xmm1, `pred & 7` (EQ, LT, LE, UNORD,
/// NEQ, NLT, NLE, ORD): each element all ones or all zeros; flags IE (an
/// SNaN, or any NaN with LT, LE, NLT, NLE) and DE.
pub fn cmp(form: CmpForm, pred: u8, a: [u8; 16], b: [u8; 16], guest: u32) -> ([u8; 16], u32) {
    let c = host_mxcsr(guest);
    match form {
        CmpForm::Ps => cmp_preds!(a, b, c, pred, "cmpps"),
        CmpForm::Ss => cmp_preds!(a, b, c, pred, "cmpss"),
        CmpForm::Pd => cmp_preds!(a, b, c, pred, "cmppd"),
        CmpForm::Sd => cmp_preds!(a, b, c, pred, "cmpsd"),
    }
}

/// Conversions between XMM registers: XMM0 := convert(XMM1), the scalar
/// forms keeping the rest of XMM0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cvt {
    Ss2sd,
    Sd2ss,
    Ps2pd,
    Pd2ps,
    Dq2ps,
    Ps2dq,
    Tps2dq,
    Dq2pd,
    Pd2dq,
    Tpd2dq,
}

/// `op` of `b` into `a` under the guest's MXCSR: the result and flags.
pub fn cvt(op: Cvt, a: [u8; 16], b: [u8; 16], guest: u32) -> ([u8; 16], u32) {
    let (r, flags) = super::with_tininess(guest, |c| cvt_on(op, a, b, c));
    // Only the narrowing conversions can overflow or underflow.
    let count = match op {
        Cvt::Sd2ss => 1,
        Cvt::Pd2ps => 2,
        _ => return (r, flags),
    };
    let flags = super::unbounded::fix_precision(flags, guest, || {
        let lane = |x| super::with_tininess(guest, |c| cvt_on(Cvt::Sd2ss, [0; 16], x, c)).1;
        Some(super::unbounded::narrowing_precision(count, b, guest, lane))
    });
    (r, flags)
}

fn cvt_on(op: Cvt, a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    match op {
        Cvt::Ss2sd => sse_op!(a, b, c, "cvtss2sd xmm0, xmm1"),
        Cvt::Sd2ss => sse_op!(a, b, c, "cvtsd2ss xmm0, xmm1"),
        Cvt::Ps2pd => sse_op!(a, b, c, "cvtps2pd xmm0, xmm1"),
        Cvt::Pd2ps => sse_op!(a, b, c, "cvtpd2ps xmm0, xmm1"),
        Cvt::Dq2ps => sse_op!(a, b, c, "cvtdq2ps xmm0, xmm1"),
        Cvt::Ps2dq => sse_op!(a, b, c, "cvtps2dq xmm0, xmm1"),
        Cvt::Tps2dq => sse_op!(a, b, c, "cvttps2dq xmm0, xmm1"),
        Cvt::Dq2pd => sse_op!(a, b, c, "cvtdq2pd xmm0, xmm1"),
        Cvt::Pd2dq => sse_op!(a, b, c, "cvtpd2dq xmm0, xmm1"),
        Cvt::Tpd2dq => sse_op!(a, b, c, "cvttpd2dq xmm0, xmm1"),
    }
}

/// (ZF, PF, CF) of a COMI/UCOMI compare.
pub type ComiFlags = (bool, bool, bool);

/// COMISS/UCOMISS/COMISD/UCOMISD of the low elements: (ZF, PF, CF) and
/// the flags (IE for an SNaN, or any NaN with the COMI forms; DE).
pub fn comi(double: bool, ordered: bool, a: [u8; 16], b: [u8; 16], guest: u32) -> (ComiFlags, u32) {
    let csr = host_mxcsr(guest);
    let (mut zf, mut pf, mut cf) = (0u8, 0u8, 0u8);
    let mut flags: u32 = 0;
    let mut saved: u32 = 0;
    macro_rules! run {
        ($op:literal) => {
            // SAFETY: reads `a`, `b` and `csr`, writes the three flag
            // bytes, `flags` and `saved`; MXCSR is changed only between
            // saving and restoring it, every exception masked; XMM0 and
            // XMM1 are declared clobbered.
            unsafe {
                core::arch::asm!(
                    "stmxcsr dword ptr [{saved}]",
                    "ldmxcsr dword ptr [{csr}]",
                    "movups xmm0, xmmword ptr [{a}]",
                    "movups xmm1, xmmword ptr [{b}]",
                    $op,
                    "setz byte ptr [{zf}]",
                    "setp byte ptr [{pf}]",
                    "setc byte ptr [{cf}]",
                    "stmxcsr dword ptr [{flags}]",
                    "ldmxcsr dword ptr [{saved}]",
                    a = in(reg) &a,
                    b = in(reg) &b,
                    csr = in(reg) &csr,
                    zf = in(reg) &mut zf,
                    pf = in(reg) &mut pf,
                    cf = in(reg) &mut cf,
                    flags = in(reg) &mut flags,
                    saved = in(reg) &mut saved,
                    out("xmm0") _,
                    out("xmm1") _,
                    options(nostack),
                );
            }
        };
    }
    match (double, ordered) {
        (false, true) => run!("comiss xmm0, xmm1"),
        (false, false) => run!("ucomiss xmm0, xmm1"),
        (true, true) => run!("comisd xmm0, xmm1"),
        (true, false) => run!("ucomisd xmm0, xmm1"),
    }
    let _ = saved;
    ((zf != 0, pf != 0, cf != 0), flags & mxcsr::FLAGS)
}

/// CVTSI2SS/CVTSI2SD xmm0, r32/r64 (`wide`): XMM0 with its low element
/// replaced, and the flags (PE).
pub fn cvtsi2f(double: bool, wide: bool, a: [u8; 16], v: u64, guest: u32) -> ([u8; 16], u32) {
    let csr = host_mxcsr(guest);
    let mut r = [0u8; 16];
    let mut flags: u32 = 0;
    let mut saved: u32 = 0;
    macro_rules! run {
        ($op:literal) => {
            // SAFETY: reads `a`, `v` and `csr`, writes `r`, `flags` and
            // `saved`; MXCSR restored, exceptions masked; XMM0 clobbered.
            unsafe {
                core::arch::asm!(
                    "stmxcsr dword ptr [{saved}]",
                    "ldmxcsr dword ptr [{csr}]",
                    "movups xmm0, xmmword ptr [{a}]",
                    $op,
                    "movups xmmword ptr [{r}], xmm0",
                    "stmxcsr dword ptr [{flags}]",
                    "ldmxcsr dword ptr [{saved}]",
                    a = in(reg) &a,
                    v = in(reg) v,
                    csr = in(reg) &csr,
                    r = in(reg) &mut r,
                    flags = in(reg) &mut flags,
                    saved = in(reg) &mut saved,
                    out("xmm0") _,
                    options(nostack),
                );
            }
        };
    }
    match (double, wide) {
        (false, false) => run!("cvtsi2ss xmm0, {v:e}"),
        (false, true) => run!("cvtsi2ss xmm0, {v}"),
        (true, false) => run!("cvtsi2sd xmm0, {v:e}"),
        (true, true) => run!("cvtsi2sd xmm0, {v}"),
    }
    let _ = saved;
    (r, flags & mxcsr::FLAGS)
}

/// CVT(T)SS2SI/CVT(T)SD2SI r32/r64 (`wide`) of the low element of `b`
/// (`truncate`: the T forms): the integer (the integer indefinite when
/// out of range; a 32-bit result zero-extended) and the flags (IE, PE).
pub fn cvtf2si(double: bool, wide: bool, truncate: bool, b: [u8; 16], guest: u32) -> (u64, u32) {
    let csr = host_mxcsr(guest);
    let mut v: u64;
    let mut flags: u32 = 0;
    let mut saved: u32 = 0;
    macro_rules! run {
        ($op:literal) => {
            // SAFETY: reads `b` and `csr`, writes `v` (a register),
            // `flags` and `saved`; MXCSR restored, exceptions masked;
            // XMM1 clobbered.
            unsafe {
                core::arch::asm!(
                    "stmxcsr dword ptr [{saved}]",
                    "ldmxcsr dword ptr [{csr}]",
                    "movups xmm1, xmmword ptr [{b}]",
                    "xor {v:e}, {v:e}",
                    $op,
                    "stmxcsr dword ptr [{flags}]",
                    "ldmxcsr dword ptr [{saved}]",
                    b = in(reg) &b,
                    v = out(reg) v,
                    csr = in(reg) &csr,
                    flags = in(reg) &mut flags,
                    saved = in(reg) &mut saved,
                    out("xmm1") _,
                    options(nostack),
                );
            }
        };
    }
    match (double, wide, truncate) {
        (false, false, false) => run!("cvtss2si {v:e}, xmm1"),
        (false, false, true) => run!("cvttss2si {v:e}, xmm1"),
        (false, true, false) => run!("cvtss2si {v}, xmm1"),
        (false, true, true) => run!("cvttss2si {v}, xmm1"),
        (true, false, false) => run!("cvtsd2si {v:e}, xmm1"),
        (true, false, true) => run!("cvttsd2si {v:e}, xmm1"),
        (true, true, false) => run!("cvtsd2si {v}, xmm1"),
        (true, true, true) => run!("cvttsd2si {v}, xmm1"),
    }
    let _ = saved;
    (v, flags & mxcsr::FLAGS)
}

#[cfg(test)]
mod tests {
    use super::super::test_values::*;
    use super::*;

    #[test]
    fn narrowing_conversions_report_the_unbounded_precision() {
        // 2^200 overflows a single exactly; 1/3 * 2^-140 underflows
        // inexactly.
        let (_, f) = cvt(
            Cvt::Sd2ss,
            [0; 16],
            pd([2f64.powi(200), 0.0]),
            all_masked_but(mxcsr::OE),
        );
        assert_eq!(f & (mxcsr::OE | mxcsr::PE), mxcsr::OE);
        let third = 2f64.powi(-140) / 3.0;
        let (_, f) = cvt(
            Cvt::Pd2ps,
            [0; 16],
            pd([1.0, third]),
            all_masked_but(mxcsr::UE),
        );
        assert_eq!(f & (mxcsr::UE | mxcsr::PE), mxcsr::UE | mxcsr::PE);
    }

    #[test]
    fn compares() {
        let (r, f) = cmp(
            CmpForm::Ps,
            1,
            ps([1.0, 2.0, 3.0, f32::NAN]),
            ps([2.0; 4]),
            DEFAULT,
        );
        assert_eq!(f, mxcsr::IE, "LT signals on a QNaN");
        assert_eq!(&r[..8], &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        let (_, f) = cmp(CmpForm::Ps, 0, ps([f32::NAN; 4]), ps([2.0; 4]), DEFAULT);
        assert_eq!(f, 0, "EQ is quiet");
        assert_eq!(
            comi(false, true, ps([1.0; 4]), ps([2.0; 4]), DEFAULT),
            ((false, false, true), 0)
        );
        assert_eq!(
            comi(true, false, sd(f64::NAN, 0), sd(1.0, 0), DEFAULT),
            ((true, true, true), 0)
        );
    }

    #[test]
    fn conversions() {
        let (r, _) = cvt(Cvt::Ss2sd, sd(0.0, 5), ps([1.5; 4]), DEFAULT);
        assert_eq!(r, sd(1.5, 5));
        let (r, f) = cvt(Cvt::Tps2dq, [0; 16], ps([1.9, -1.9, 3e10, 0.0]), DEFAULT);
        assert_eq!(
            &r[..12],
            &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x80]
        );
        assert_eq!(f & mxcsr::IE, mxcsr::IE);
        let (r, f) = cvtsi2f(false, true, [0; 16], u64::MAX, DEFAULT);
        assert_eq!((r[..4].to_vec(), f), ((-1.0f32).to_le_bytes().to_vec(), 0));
        assert_eq!(
            cvtf2si(true, false, false, sd(2.5, 0), DEFAULT),
            (2, mxcsr::PE)
        );
        assert_eq!(
            cvtf2si(true, true, true, sd(-2.5, 0), DEFAULT),
            ((-2i64) as u64, mxcsr::PE)
        );
        assert_eq!(
            cvtf2si(false, false, false, ps([3e10; 4]), DEFAULT),
            (0x8000_0000, mxcsr::IE)
        );
    }
}
