//! SSE4.1 floating point on the host's unit (the discipline of `sse_op!`,
//! see the parent module): DPPS and DPPD (SDM Vol. 2 "DPPS", "DPPD"), whose
//! products and sums are each rounded under MXCSR in an order the SDM's
//! pseudocode fixes and the host instruction follows, and ROUNDPS,
//! ROUNDPD, ROUNDSS, ROUNDSD (SDM Vol. 2 "ROUNDPS" and siblings; their
//! imm8 in Table 4-18 "Rounding Modes and Encoding of Rounding Control
//! (RC) Field").
//!
//! The imm8 of these instructions is part of their encoding, not a
//! register operand, so every value a guest can give needs its own host
//! instruction: one function per value (a const generic in the `asm!`
//! template), picked from a table by the guest's imm8. Only the bits the
//! SDM defines select an entry: all eight for DPPS (source mask 7:4,
//! destination mask 3:0), bits 5:4 and 1:0 for DPPD, bits 3:0 for the
//! ROUND forms (the others are ignored by the instructions).

use super::{host_mxcsr, mxcsr, with_tininess};

/// A host operation with its imm8 built in: XMM0 := op(XMM0, XMM1) under
/// the host MXCSR given, with the flags raised.
type ImmOp = fn([u8; 16], [u8; 16], u32) -> ([u8; 16], u32);

fn dpps_imm<const IMM: u8>(a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    sse_op!(imm = IMM; a, b, c, "dpps xmm0, xmm1, {imm}")
}

fn dppd_imm<const IMM: u8>(a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    sse_op!(imm = IMM; a, b, c, "dppd xmm0, xmm1, {imm}")
}

fn roundps_imm<const IMM: u8>(a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    sse_op!(imm = IMM; a, b, c, "roundps xmm0, xmm1, {imm}")
}

fn roundpd_imm<const IMM: u8>(a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    sse_op!(imm = IMM; a, b, c, "roundpd xmm0, xmm1, {imm}")
}

fn roundss_imm<const IMM: u8>(a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    sse_op!(imm = IMM; a, b, c, "roundss xmm0, xmm1, {imm}")
}

fn roundsd_imm<const IMM: u8>(a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    sse_op!(imm = IMM; a, b, c, "roundsd xmm0, xmm1, {imm}")
}

/// `f::<base + 0>` .. `f::<base + 15>`.
macro_rules! row16 {
    ($f:ident, $base:literal) => {
        [
            $f::<{ $base }>,
            $f::<{ $base + 1 }>,
            $f::<{ $base + 2 }>,
            $f::<{ $base + 3 }>,
            $f::<{ $base + 4 }>,
            $f::<{ $base + 5 }>,
            $f::<{ $base + 6 }>,
            $f::<{ $base + 7 }>,
            $f::<{ $base + 8 }>,
            $f::<{ $base + 9 }>,
            $f::<{ $base + 10 }>,
            $f::<{ $base + 11 }>,
            $f::<{ $base + 12 }>,
            $f::<{ $base + 13 }>,
            $f::<{ $base + 14 }>,
            $f::<{ $base + 15 }>,
        ]
    };
}

/// DPPS for every imm8, indexed [imm8 >> 4][imm8 & 15].
const DPPS: [[ImmOp; 16]; 16] = [
    row16!(dpps_imm, 0x00),
    row16!(dpps_imm, 0x10),
    row16!(dpps_imm, 0x20),
    row16!(dpps_imm, 0x30),
    row16!(dpps_imm, 0x40),
    row16!(dpps_imm, 0x50),
    row16!(dpps_imm, 0x60),
    row16!(dpps_imm, 0x70),
    row16!(dpps_imm, 0x80),
    row16!(dpps_imm, 0x90),
    row16!(dpps_imm, 0xa0),
    row16!(dpps_imm, 0xb0),
    row16!(dpps_imm, 0xc0),
    row16!(dpps_imm, 0xd0),
    row16!(dpps_imm, 0xe0),
    row16!(dpps_imm, 0xf0),
];

/// DPPD for imm8 bits 5:4 (which products) and 1:0 (which results),
/// indexed [imm8[5:4]][imm8 & 15] (bits 3:2 of the column are 0 in use).
const DPPD: [[ImmOp; 16]; 4] = [
    row16!(dppd_imm, 0x00),
    row16!(dppd_imm, 0x10),
    row16!(dppd_imm, 0x20),
    row16!(dppd_imm, 0x30),
];

const ROUNDPS: [ImmOp; 16] = row16!(roundps_imm, 0);
const ROUNDPD: [ImmOp; 16] = row16!(roundpd_imm, 0);
const ROUNDSS: [ImmOp; 16] = row16!(roundss_imm, 0);
const ROUNDSD: [ImmOp; 16] = row16!(roundsd_imm, 0);

/// DPPS xmm0, xmm1, imm8 under the guest's MXCSR: the result and flags;
/// with an exception unmasked, the flags its fault reports (`dot`).
pub fn dpps(a: [u8; 16], b: [u8; 16], imm: u8, guest: u32) -> ([u8; 16], u32) {
    let op = DPPS[usize::from(imm >> 4)][usize::from(imm & 15)];
    dot_flags(
        false,
        a,
        b,
        imm,
        guest,
        with_tininess(guest, |c| op(a, b, c)),
    )
}

/// A dot product's result and flags as the host's masked run gave them,
/// or, where an exception the guest leaves unmasked was raised, the flags
/// of the steps up to the one that raised it (`dot`).
fn dot_flags(
    double: bool,
    a: [u8; 16],
    b: [u8; 16],
    imm: u8,
    guest: u32,
    (r, flags): ([u8; 16], u32),
) -> ([u8; 16], u32) {
    if flags & !(guest >> 7) & mxcsr::FLAGS == 0 {
        return (r, flags);
    }
    (r, super::dot::fault_flags(double, a, b, imm, guest))
}

/// DPPD xmm0, xmm1, imm8 under the guest's MXCSR: as `dpps`.
pub fn dppd(a: [u8; 16], b: [u8; 16], imm: u8, guest: u32) -> ([u8; 16], u32) {
    let op = DPPD[usize::from(imm >> 4 & 3)][usize::from(imm & 3)];
    dot_flags(
        true,
        a,
        b,
        imm,
        guest,
        with_tininess(guest, |c| op(a, b, c)),
    )
}

/// The four ROUND forms: XMM0 := round(XMM1), the scalar forms keeping
/// the rest of XMM0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    Ps,
    Pd,
    Ss,
    Sd,
}

/// ROUNDxx xmm0, xmm1, imm8 under the guest's MXCSR: imm8[1:0] the
/// rounding mode unless imm8[2] selects MXCSR.RC, imm8[3] suppressing the
/// precision exception. (A result rounded to an integer is never tiny, so
/// there is no exact underflow to look for.)
pub fn round(form: Round, a: [u8; 16], b: [u8; 16], imm: u8, guest: u32) -> ([u8; 16], u32) {
    let table = match form {
        Round::Ps => &ROUNDPS,
        Round::Pd => &ROUNDPD,
        Round::Ss => &ROUNDSS,
        Round::Sd => &ROUNDSD,
    };
    table[usize::from(imm & 15)](a, b, host_mxcsr(guest))
}

#[cfg(test)]
mod tests {
    use super::super::test_values::*;
    use super::*;

    #[test]
    fn dot_products_select_and_broadcast() {
        let a = ps([1.0, 2.0, 3.0, 4.0]);
        let b = ps([10.0, 100.0, 1000.0, 10000.0]);
        // All products, result in every element.
        assert_eq!(dpps(a, b, 0xff, DEFAULT), (ps([43210.0; 4]), 0));
        // Products 0 and 2, result in elements 1 and 3, zeros elsewhere.
        assert_eq!(
            dpps(a, b, 0x5a, DEFAULT),
            (ps([0.0, 3010.0, 0.0, 3010.0]), 0)
        );
        let a = pd([1.5, 2.0]);
        let b = pd([4.0, 8.0]);
        assert_eq!(dppd(a, b, 0x31, DEFAULT), (pd([22.0, 0.0]), 0));
        assert_eq!(dppd(a, b, 0x22, DEFAULT), (pd([0.0, 16.0]), 0));
        // Bits 7:6 and 3:2 are not DPPD's.
        assert_eq!(dppd(a, b, 0xee, DEFAULT), dppd(a, b, 0x22, DEFAULT));
    }

    #[test]
    fn dot_product_rounds_each_step() {
        // 2^24 + 1 + (-2^24): the first sum rounds (to nearest even, PE),
        // so the result is 0 rather than 1; toward +inf it is 2.
        let a = ps([16_777_216.0, 1.0, -16_777_216.0, 0.0]);
        let b = ps([1.0; 4]);
        let (r, f) = dpps(a, b, 0x71, DEFAULT);
        assert_eq!((r, f), (ps([0.0, 0.0, 0.0, 0.0]), mxcsr::PE));
        let (r, _) = dpps(a, b, 0x71, DEFAULT | 0x4000);
        assert_eq!(r, ps([2.0, 0.0, 0.0, 0.0]));
    }

    #[test]
    fn unmasked_exception_stops_at_its_stage() {
        let ones = ps([1.0; 4]);
        let no_om = DEFAULT & !(mxcsr::OE << 7);
        // 3e38 * 2 overflows exactly: OE alone, not the PE of the
        // infinity the host's later sums see (checked on the host CPU by
        // test-roms/gen/sse_native.py, simd4-long).
        let a = ps([3e38, 3e38, 1.0, 1.0]);
        let b = ps([2.0, 1.0, 0.0, 0.0]);
        assert_eq!(dpps(a, b, 0xff, no_om).1, mxcsr::OE);
        // An inexact overflowing product: OE and PE.
        let b = ps([1.3, 1.0, 0.0, 0.0]);
        assert_eq!(dpps(a, b, 0xff, no_om).1, mxcsr::OE | mxcsr::PE);
        // Exact products, the pair sum overflows exactly; then the final sum.
        assert_eq!(dpps(a, ones, 0x31, no_om).1, mxcsr::OE);
        let a = ps([3e38, 1.0, 3e38, 1.0]);
        assert_eq!(dpps(a, ones, 0x5f, no_om).1, mxcsr::OE);
        // A tiny product with underflow unmasked: UE and PE, not the DE of
        // the denormal product in the sums.
        let a = ps([1e-20, 1.0, 1.0, 1.0]);
        let no_um = DEFAULT & !(mxcsr::UE << 7);
        assert_eq!(dpps(a, a, 0x11, no_um).1, mxcsr::UE | mxcsr::PE);
        // DPPD's sum overflowing exactly.
        let a = pd([1.5e308, 1.5e308]);
        assert_eq!(dppd(a, pd([1.0, 1.0]), 0x31, no_om).1, mxcsr::OE);
        // Masked, the flags are the host instruction's.
        assert_eq!(
            dppd(a, pd([1.0, 1.0]), 0x31, DEFAULT).1,
            mxcsr::OE | mxcsr::PE
        );
    }

    #[test]
    fn rounding_modes_precision_and_nans() {
        let v = pd([2.5, -2.5]);
        let nearest = round(Round::Pd, [0; 16], v, 0, DEFAULT);
        assert_eq!(nearest, (pd([2.0, -2.0]), mxcsr::PE));
        assert_eq!(round(Round::Pd, [0; 16], v, 1, DEFAULT).0, pd([2.0, -3.0]));
        assert_eq!(round(Round::Pd, [0; 16], v, 2, DEFAULT).0, pd([3.0, -2.0]));
        assert_eq!(round(Round::Pd, [0; 16], v, 3, DEFAULT).0, pd([2.0, -2.0]));
        // Bit 2: MXCSR.RC (here up) instead of bits 1:0.
        assert_eq!(
            round(Round::Pd, [0; 16], v, 4 | 1, DEFAULT | 0x4000).0,
            pd([3.0, -2.0])
        );
        // Bit 3: no precision exception.
        assert_eq!(round(Round::Pd, [0; 16], v, 8, DEFAULT).1, 0);
        // Scalar: the rest of the destination kept; an SNaN is invalid and
        // comes back quiet, a QNaN raises nothing.
        let (r, f) = round(
            Round::Ss,
            ps([9.0; 4]),
            ps([f32::from_bits(0x7f80_0001), 0.0, 0.0, 0.0]),
            0,
            DEFAULT,
        );
        assert_eq!(
            (r, f),
            (ps([f32::from_bits(0x7fc0_0001), 9.0, 9.0, 9.0]), mxcsr::IE)
        );
        let qnan = ps([f32::from_bits(0x7fc0_0000); 4]);
        assert_eq!(round(Round::Ps, [0; 16], qnan, 0, DEFAULT), (qnan, 0));
    }

    #[test]
    fn round_denormals_with_and_without_daz() {
        // A denormal rounds up to 1 toward +inf, but is 0 under DAZ.
        let den = pd([f64::from_bits(1), 0.0]);
        assert_eq!(round(Round::Sd, [0; 16], den, 2, DEFAULT).0, pd([1.0, 0.0]));
        assert_eq!(
            round(Round::Sd, [0; 16], den, 2, DEFAULT | 0x40),
            (pd([0.0, 0.0]), 0)
        );
    }
}
