//! SSE3 packed floating-point arithmetic on the host's unit (the
//! discipline of `sse_op!`, see the parent module): the alternating
//! ADDSUBPS/ADDSUBPD and the horizontal HADDPS/HADDPD/HSUBPS/HSUBPD (SDM
//! Vol. 2 under each mnemonic). xlat runs on x86-64 hosts with SSE3
//! (every x86-64 processor since 2005 has it).

use super::{mxcsr, unbounded, SseOp};
use crate::BinOp;

/// XMM0 := XMM0 op XMM1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sse3Op {
    /// Even elements a - b, odd elements a + b.
    Addsubps,
    Addsubpd,
    /// Sums of adjacent pairs: those of XMM0 in the low half of the
    /// result, those of XMM1 in the high half.
    Haddps,
    Haddpd,
    /// The same with differences (even element minus odd element).
    Hsubps,
    Hsubpd,
}

/// `a op b` under the guest's MXCSR: the masked result and the exception
/// flags raised, as `super::sse` (PE of an unmasked overflow or
/// underflow the unbounded result's, see `unbounded`).
pub fn sse3(op: Sse3Op, a: [u8; 16], b: [u8; 16], guest: u32) -> ([u8; 16], u32) {
    let (r, flags) = super::with_tininess(guest, |c| sse3_on(op, a, b, c));
    let flags = unbounded::fix_precision(flags, guest, || Some(precision(op, a, b, guest)));
    (r, flags)
}

/// PE over the result's elements, each one scalar addition or
/// subtraction of two source elements (`unbounded::element_precision`):
/// ADDSUB pairs element i of `a` and `b` (subtracting in the even ones),
/// the horizontal operations adjacent elements of `a` (low half of the
/// result), then of `b`.
fn precision(op: Sse3Op, a: [u8; 16], b: [u8; 16], guest: u32) -> bool {
    use Sse3Op::*;
    let double = matches!(op, Addsubpd | Haddpd | Hsubpd);
    let count = if double { 2 } else { 4 };
    let (add, sub) = if double {
        (SseOp::Addsd, SseOp::Subsd)
    } else {
        (SseOp::Addss, SseOp::Subss)
    };
    let el = |v: &[u8; 16], i| unbounded::alone(v, i, double);
    (0..count).any(|k| {
        let (x, y, subtract) = match op {
            Addsubps | Addsubpd => (el(&a, k), el(&b, k), k % 2 == 0),
            _ => {
                let half = count / 2;
                let src = if k < half { &a } else { &b };
                let i = 2 * (k % half);
                (el(src, i), el(src, i + 1), matches!(op, Hsubps | Hsubpd))
            }
        };
        let (bin, scalar) = if subtract {
            (BinOp::Sub, sub)
        } else {
            (BinOp::Add, add)
        };
        unbounded::element_precision(bin, scalar, x, y, double, guest)
    })
}

fn sse3_on(op: Sse3Op, a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    use Sse3Op::*;
    match op {
        Addsubps => sse_op!(a, b, c, "addsubps xmm0, xmm1"),
        Addsubpd => sse_op!(a, b, c, "addsubpd xmm0, xmm1"),
        Haddps => sse_op!(a, b, c, "haddps xmm0, xmm1"),
        Haddpd => sse_op!(a, b, c, "haddpd xmm0, xmm1"),
        Hsubps => sse_op!(a, b, c, "hsubps xmm0, xmm1"),
        Hsubpd => sse_op!(a, b, c, "hsubpd xmm0, xmm1"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_values::*;
    use super::*;

    #[test]
    fn lanes_of_each_operation() {
        let a = ps([1.0, 2.0, 3.0, 4.0]);
        let b = ps([10.0, 20.0, 30.0, 40.0]);
        let r = |op| sse3(op, a, b, DEFAULT);
        assert_eq!(r(Sse3Op::Addsubps), (ps([-9.0, 22.0, -27.0, 44.0]), 0));
        assert_eq!(r(Sse3Op::Haddps), (ps([3.0, 7.0, 30.0, 70.0]), 0));
        assert_eq!(r(Sse3Op::Hsubps), (ps([-1.0, -1.0, -10.0, -10.0]), 0));
        let a = pd([1.0, 2.0]);
        let b = pd([10.0, 40.0]);
        let r = |op| sse3(op, a, b, DEFAULT);
        assert_eq!(r(Sse3Op::Addsubpd), (pd([-9.0, 42.0]), 0));
        assert_eq!(r(Sse3Op::Haddpd), (pd([3.0, 50.0]), 0));
        assert_eq!(r(Sse3Op::Hsubpd), (pd([-1.0, -30.0]), 0));
    }

    #[test]
    fn flags_under_the_guest_mxcsr() {
        // inf - inf: the default NaN and IE; 1 + 2^-24 inexact.
        let a = ps([f32::INFINITY, f32::INFINITY, 1.0, f32::EPSILON / 2.0]);
        let (r, f) = sse3(Sse3Op::Haddps, a, a, DEFAULT);
        assert_eq!(f, mxcsr::PE);
        assert_eq!(r[..4], f32::INFINITY.to_le_bytes());
        // (1 - 2^-24 is exact: below 1 the spacing is 2^-24.)
        let (r, f) = sse3(Sse3Op::Hsubps, a, a, DEFAULT);
        assert_eq!(f, mxcsr::IE);
        assert_eq!(r[..4], 0xffc0_0000u32.to_le_bytes());
        // Unmasked overflow: PE as the unbounded sum's, element by
        // element (MAX + MAX = 2^129 - 2^105 is exact; 1 + 2^-24 beside it
        // is inexact, 1 + 1 is not).
        let unmasked_oe = DEFAULT & !(mxcsr::OE << 7);
        let big = ps([f32::MAX, f32::MAX, 1.0, f32::EPSILON / 2.0]);
        let (_, f) = sse3(Sse3Op::Haddps, big, ps([0.0; 4]), unmasked_oe);
        assert_eq!(f, mxcsr::OE | mxcsr::PE);
        let big = ps([f32::MAX, f32::MAX, 1.0, 1.0]);
        let (_, f) = sse3(Sse3Op::Haddps, big, ps([0.0; 4]), unmasked_oe);
        assert_eq!(f, mxcsr::OE);
        // Round up: 1 + 2^-24 becomes 1 + 2^-23.
        let (r, _) = sse3(Sse3Op::Haddps, a, a, DEFAULT | 0x4000);
        assert_eq!(r[4..8], (1.0 + f32::EPSILON).to_le_bytes());
    }
}
