//! The precision exception that goes with an unmasked overflow or
//! underflow. SDM Vol. 1 §11.5.3.2: the post-computation exceptions an
//! instruction detects (OE or UE, and PE) are ORed into MXCSR, the
//! destination left unchanged. PE is then about the result rounded to the
//! destination's precision with an unbounded exponent: set when that is
//! inexact (the host CPU: 1e30f * 1e30f and (float)1e300 raise OE with PE,
//! 1e308 * 10.0, exact, raises OE alone; 1e-30f * 1e-10f raises UE with
//! PE, 2^-100 * 2^-30 UE alone). The host, running with OE and UE masked,
//! reports PE for the masked response (an infinity, a denormal, a zero)
//! instead; the x87 at 24- or 53-bit precision rounds as the SSE unit does
//! but with its wider exponent range, where such results stay normal.

use super::{mxcsr, Cvt, SseOp};
use crate::arith::{binary, BinOp};
use crate::convert::{load_f32, load_f64};
use crate::{sw, F80};

/// `flags` with PE replaced by `inexact()` when the guest unmasked an
/// overflow or underflow that was raised.
pub(super) fn unmasked_precision(guest: u32, flags: u32, inexact: impl FnOnce() -> bool) -> u32 {
    let unmasked = !(guest >> 7) & (mxcsr::OE | mxcsr::UE);
    if flags & unmasked == 0 {
        return flags;
    }
    (flags & !mxcsr::PE) | if inexact() { mxcsr::PE } else { 0 }
}

/// The x87 control word for the guest's MXCSR: everything masked, the
/// guest's rounding control, single or double precision.
fn x87_cw(double: bool, guest: u32) -> u16 {
    let rc = ((guest >> 13) & 3) as u16;
    let pc = if double { 0x0200 } else { 0 };
    0x007f | pc | rc << 10
}

/// Lane `i` of `v` (4 or 8 bytes), exactly, a denormal read as a zero of
/// its sign under DAZ.
fn lane(v: &[u8; 16], i: usize, double: bool, guest: u32) -> F80 {
    let daz = guest & 0x40 != 0;
    let cw = x87_cw(double, guest);
    if double {
        let mut b = [0u8; 8];
        b.copy_from_slice(&v[8 * i..8 * i + 8]);
        let mut x = u64::from_le_bytes(b);
        if daz && x & 0x7ff0_0000_0000_0000 == 0 {
            x &= 1 << 63;
        }
        load_f64(x, cw).0
    } else {
        let mut b = [0u8; 4];
        b.copy_from_slice(&v[4 * i..4 * i + 4]);
        let mut x = u32::from_le_bytes(b);
        if daz && x & 0x7f80_0000 == 0 {
            x &= 1 << 31;
        }
        load_f32(x, cw).0
    }
}

/// Whether `op` (one that can overflow or underflow) is inexact with an
/// unbounded exponent in any lane it computes.
pub(super) fn arith_inexact(op: SseOp, a: [u8; 16], b: [u8; 16], guest: u32) -> bool {
    use SseOp::*;
    let (bin, double, lanes) = match op {
        Addps => (BinOp::Add, false, 4),
        Addss => (BinOp::Add, false, 1),
        Addpd => (BinOp::Add, true, 2),
        Addsd => (BinOp::Add, true, 1),
        Subps => (BinOp::Sub, false, 4),
        Subss => (BinOp::Sub, false, 1),
        Subpd => (BinOp::Sub, true, 2),
        Subsd => (BinOp::Sub, true, 1),
        Mulps => (BinOp::Mul, false, 4),
        Mulss => (BinOp::Mul, false, 1),
        Mulpd => (BinOp::Mul, true, 2),
        Mulsd => (BinOp::Mul, true, 1),
        Divps => (BinOp::Div, false, 4),
        Divss => (BinOp::Div, false, 1),
        Divpd => (BinOp::Div, true, 2),
        Divsd => (BinOp::Div, true, 1),
        // MIN, MAX, SQRT and the approximations neither overflow nor
        // underflow.
        _ => return false,
    };
    (0..lanes).any(|i| {
        let x = lane(&a, i, double, guest);
        let y = lane(&b, i, double, guest);
        binary(bin, x, y, x87_cw(double, guest)).1 & sw::PE != 0
    })
}

/// The same for the conversions that narrow double to single precision
/// (the only ones that overflow or underflow): x + 0 at 24 bits.
pub(super) fn cvt_inexact(op: Cvt, b: [u8; 16], guest: u32) -> bool {
    let lanes = match op {
        Cvt::Sd2ss => 1,
        Cvt::Pd2ps => 2,
        _ => return false,
    };
    let zero = load_f64(0, x87_cw(true, guest)).0;
    (0..lanes).any(|i| {
        let x = lane(&b, i, true, guest);
        binary(BinOp::Add, x, zero, x87_cw(false, guest)).1 & sw::PE != 0
    })
}
