//! The precision flag of an unmasked SIMD overflow or underflow.
//!
//! With overflow or underflow unmasked, an SSE operation writes nothing
//! and raises #XM, and PE says whether the result, rounded to the
//! destination's precision with an unbounded exponent, was inexact (SDM
//! Vol. 1 §11.5.2.4-§11.5.2.6; the handler sees the flags, not a result).
//! The host computes with overflow and underflow masked (`host_mxcsr`), so
//! its PE is the masked response's: infinity or the largest finite value
//! for an overflow, a denormal or zero for an underflow, which is inexact
//! where the unbounded result may not be, and exact where it may not be.
//!
//! The x87 unit computes the same operation with precision control set to
//! the element's significand (24 or 53 bits) and its 15-bit exponent, in
//! which no product, quotient, sum or narrowing of single or double
//! values can overflow or underflow: one rounding to the element's
//! precision with, in effect, an unbounded exponent, the guest's rounding
//! mode, and its precision flag. Denormal inputs are zeroed first under
//! MXCSR.DAZ, as the SSE unit does.

use super::{mxcsr, sse_on, with_tininess, SseOp};
use crate::{binary, load_f32, load_f64, BinOp, F80};

/// Elements of one format in an XMM value: how many, and whether double.
#[derive(Clone, Copy)]
struct Lanes {
    count: usize,
    double: bool,
}

const PS: Lanes = Lanes {
    count: 4,
    double: false,
};
const SS: Lanes = Lanes {
    count: 1,
    double: false,
};
const PD: Lanes = Lanes {
    count: 2,
    double: true,
};
const SD: Lanes = Lanes {
    count: 1,
    double: true,
};

/// Element `i` of `v` as an exact 80-bit value (zeroed if denormal under
/// DAZ).
fn element(v: &[u8; 16], i: usize, double: bool, daz: bool) -> F80 {
    if double {
        let mut b = [0u8; 8];
        b.copy_from_slice(&v[i * 8..i * 8 + 8]);
        let mut x = u64::from_le_bytes(b);
        if daz && x & 0x7ff0_0000_0000_0000 == 0 {
            x &= 1 << 63;
        }
        load_f64(x, 0x37f).0
    } else {
        let mut b = [0u8; 4];
        b.copy_from_slice(&v[i * 4..i * 4 + 4]);
        let mut x = u32::from_le_bytes(b);
        if daz && x & 0x7f80_0000 == 0 {
            x &= 1 << 31;
        }
        load_f32(x, 0x37f).0
    }
}

/// The x87 control word for one rounding to `double`'s or single's
/// significand under the guest's rounding control, everything masked.
fn control_word(double: bool, guest: u32) -> u16 {
    let precision: u16 = if double { 2 } else { 0 };
    let rounding = ((guest >> 13) & 3) as u16;
    0x3f | (precision << 8) | (rounding << 10)
}

/// PE of `a op b` when an unmasked overflow or underflow stopped it, or
/// `None` for an operation without over- or underflow (min, max, sqrt,
/// the approximations): the OR over the elements of the unbounded
/// result's inexactness where the element over- or underflowed unmasked,
/// and of its masked response's PE elsewhere (a masked overflow in one
/// element still reports the precision exception of its infinity).
pub(super) fn arith_precision(op: SseOp, a: [u8; 16], b: [u8; 16], guest: u32) -> Option<bool> {
    use SseOp::*;
    let (bin, scalar, lanes) = match op {
        Addps => (BinOp::Add, Addss, PS),
        Addss => (BinOp::Add, Addss, SS),
        Addpd => (BinOp::Add, Addsd, PD),
        Addsd => (BinOp::Add, Addsd, SD),
        Subps => (BinOp::Sub, Subss, PS),
        Subss => (BinOp::Sub, Subss, SS),
        Subpd => (BinOp::Sub, Subsd, PD),
        Subsd => (BinOp::Sub, Subsd, SD),
        Mulps => (BinOp::Mul, Mulss, PS),
        Mulss => (BinOp::Mul, Mulss, SS),
        Mulpd => (BinOp::Mul, Mulsd, PD),
        Mulsd => (BinOp::Mul, Mulsd, SD),
        Divps => (BinOp::Div, Divss, PS),
        Divss => (BinOp::Div, Divss, SS),
        Divpd => (BinOp::Div, Divsd, PD),
        Divsd => (BinOp::Div, Divsd, SD),
        _ => return None,
    };
    Some((0..lanes.count).any(|i| {
        let (x, y) = (alone(&a, i, lanes.double), alone(&b, i, lanes.double));
        element_precision(bin, scalar, x, y, lanes.double, guest)
    }))
}

/// PE of one element `x op y` (element 0 of `x` and `y`; `scalar` the
/// SSE scalar instruction of `op`): the unbounded result's inexactness if
/// it over- or underflowed unmasked, else its masked response's PE.
pub(super) fn element_precision(
    op: BinOp,
    scalar: SseOp,
    x: [u8; 16],
    y: [u8; 16],
    double: bool,
    guest: u32,
) -> bool {
    let (_, f) = with_tininess(guest, |c| sse_on(scalar, x, y, c));
    if f & !(guest >> 7) & (mxcsr::OE | mxcsr::UE) == 0 {
        return f & mxcsr::PE != 0;
    }
    let daz = guest & mxcsr::DAZ != 0;
    let (x, y) = (element(&x, 0, double, daz), element(&y, 0, double, daz));
    binary(op, x, y, control_word(double, guest)).1 & crate::sw::PE != 0
}

/// PE of a narrowing conversion (CVTSD2SS, CVTPD2PS) of the `count`
/// doubles of `b` stopped by an unmasked overflow or underflow, element
/// by element as in `arith_precision`; `lane_flags` gives the flags the
/// host's CVTSD2SS raises for an element alone (in element 0).
pub(super) fn narrowing_precision(
    count: usize,
    b: [u8; 16],
    guest: u32,
    lane_flags: impl Fn([u8; 16]) -> u32,
) -> bool {
    let daz = guest & mxcsr::DAZ != 0;
    let cw = control_word(false, guest);
    (0..count).any(|i| {
        let x = alone(&b, i, true);
        let f = lane_flags(x);
        if f & !(guest >> 7) & (mxcsr::OE | mxcsr::UE) == 0 {
            return f & mxcsr::PE != 0;
        }
        // x + 0 is x, rounded once to 24 bits.
        let x = element(&x, 0, true, daz);
        binary(BinOp::Add, x, F80::ZERO, cw).1 & crate::sw::PE != 0
    })
}

/// Element `i` of `v` moved to element 0 of an otherwise zero value.
pub(super) fn alone(v: &[u8; 16], i: usize, double: bool) -> [u8; 16] {
    let n = if double { 8 } else { 4 };
    let mut r = [0u8; 16];
    r[..n].copy_from_slice(&v[i * n..i * n + n]);
    r
}

/// The flags of an operation whose host run reported `flags`: where the
/// guest has overflow or underflow unmasked and one was raised (and no
/// pre-computation exception stopped it first), PE is the unbounded
/// result's, `precision()`.
pub(super) fn fix_precision(
    flags: u32,
    guest: u32,
    precision: impl FnOnce() -> Option<bool>,
) -> u32 {
    let unmasked = flags & !(guest >> 7) & mxcsr::FLAGS;
    let pre = mxcsr::IE | mxcsr::DE | mxcsr::ZE;
    if unmasked & (mxcsr::OE | mxcsr::UE) == 0 || unmasked & pre != 0 {
        return flags;
    }
    match precision() {
        Some(true) => flags | mxcsr::PE,
        Some(false) => flags & !mxcsr::PE,
        None => flags,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_values::*;
    use super::*;
    use crate::sse::sse;

    #[test]
    fn exact_overflow_and_underflow_report_no_precision() {
        // 2^127 * 4 overflows exactly; 2^-126 * 2^-10 underflows exactly
        // (an exact tiny result still raises an unmasked UE).
        let (_, f) = sse(
            SseOp::Mulps,
            ps([2f32.powi(127); 4]),
            ps([4.0; 4]),
            all_masked_but(mxcsr::OE),
        );
        assert_eq!(f & (mxcsr::OE | mxcsr::PE), mxcsr::OE);
        let tiny = f32::MIN_POSITIVE;
        let (_, f) = sse(
            SseOp::Mulss,
            ps([tiny; 4]),
            ps([2f32.powi(-10); 4]),
            all_masked_but(mxcsr::UE),
        );
        assert_eq!(f & (mxcsr::UE | mxcsr::PE), mxcsr::UE);
        // Masked, the same underflow is exact too (a denormal power of
        // two): no PE either way.
        let (_, f) = sse(
            SseOp::Mulss,
            ps([tiny; 4]),
            ps([2f32.powi(-10); 4]),
            all_masked_but(0),
        );
        assert_eq!(f & mxcsr::PE, 0);
    }

    #[test]
    fn inexact_unbounded_results_report_precision() {
        // 3 * 2^-130 * (1 + 2^-23) needs more than 24 bits: inexact with
        // an unbounded exponent as well.
        let a = 3.0f64 * 2f64.powi(-1000);
        let b = (1.0 + 2f64.powi(-52)) * 2f64.powi(-60);
        let (_, f) = sse(
            SseOp::Mulsd,
            pd([a, 0.0]),
            pd([b, 0.0]),
            all_masked_but(mxcsr::UE),
        );
        assert_eq!(f & (mxcsr::UE | mxcsr::PE), mxcsr::UE | mxcsr::PE);
        // A tiny quotient that is exact unbounded but loses bits when
        // denormalised: masked, PE; unmasked, none.
        let a = (1.0 + 2f64.powi(-52)) * 2f64.powi(-1020);
        let (_, masked) = sse(
            SseOp::Divpd,
            pd([a, 1.0]),
            pd([16.0, 1.0]),
            all_masked_but(0),
        );
        assert_ne!(masked & mxcsr::PE, 0);
        let (_, f) = sse(
            SseOp::Divpd,
            pd([a, 1.0]),
            pd([16.0, 1.0]),
            all_masked_but(mxcsr::UE),
        );
        assert_eq!(f & (mxcsr::UE | mxcsr::PE), mxcsr::UE);
    }

    #[test]
    fn a_masked_overflow_beside_an_unmasked_underflow_keeps_its_precision_flag() {
        // Element 0 underflows exactly (unmasked), element 1 overflows
        // (masked: infinity, inexact).
        let a = pd([f64::MIN_POSITIVE, 2f64.powi(1000)]);
        let b = pd([0.5, 2f64.powi(100)]);
        let (_, f) = sse(SseOp::Mulpd, a, b, all_masked_but(mxcsr::UE));
        let want = mxcsr::UE | mxcsr::OE | mxcsr::PE;
        assert_eq!(f & (mxcsr::UE | mxcsr::OE | mxcsr::PE), want);
        // Without the overflow, no PE.
        let b = pd([0.5, 1.0]);
        let (_, f) = sse(SseOp::Mulpd, a, b, all_masked_but(mxcsr::UE));
        assert_eq!(f & (mxcsr::UE | mxcsr::OE | mxcsr::PE), mxcsr::UE);
    }
}
