//! The flags of a DPPS or DPPD that an unmasked exception stops.
//!
//! The host runs the instruction with every exception masked, so it
//! reports the flags of all its steps: the products, then the sums of
//! their masked responses. An unmasked exception stops the instruction at
//! the step that raises it (SDM Vol. 2 "DPPS": "Exceptions are determined
//! separately for each add and multiply operation"), so the flags a
//! handler sees are those of the steps up to that one, each step's as
//! `reported` gives them (an earlier step's overflow stays reported when
//! a later one stops on an invalid operation), with the precision
//! flag of an unmasked overflow or underflow the unbounded result's
//! (`unbounded`). The steps, per the SDM's pseudo-code:
//!
//! ```text
//! products  Temp1[i] := imm8[4+i] ? a[i] * b[i] : +0.0   (unselected: not computed)
//! DPPS sums Temp2 := Temp1[0] + Temp1[1]; Temp3 := Temp1[2] + Temp1[3]
//!           Temp4 := Temp2 + Temp3
//! DPPD sum  Temp2 := Temp1[0] + Temp1[1]
//! ```
//!
//! each one an SSE multiply or add under the guest's MXCSR (`sse`, which
//! applies tininess and unbounded precision as the packed instructions
//! report them).

use super::{mxcsr, reported, sse, SseOp};

/// Does `flags` hold an exception `guest` leaves unmasked?
fn stops(flags: u32, guest: u32) -> bool {
    flags & !(guest >> 7) & mxcsr::FLAGS != 0
}

/// Element `i` (of `size` bytes) of `v` into element `j` of `r`.
fn put(r: &mut [u8; 16], j: usize, v: &[u8; 16], i: usize, size: usize) {
    r[j * size..(j + 1) * size].copy_from_slice(&v[i * size..(i + 1) * size]);
}

/// The flags DPPS (`double` false) or DPPD reports when an unmasked
/// exception stops it (final: not to be filtered by `reported` again).
pub(super) fn fault_flags(double: bool, a: [u8; 16], b: [u8; 16], imm: u8, guest: u32) -> u32 {
    let (size, count) = if double { (8, 2) } else { (4, 4) };
    let (mul, add) = if double {
        (SseOp::Mulpd, SseOp::Addpd)
    } else {
        (SseOp::Mulps, SseOp::Addps)
    };
    // Products of the selected elements; an unselected one is 0 * 0,
    // which raises nothing.
    let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
    for i in (0..count).filter(|i| imm >> (4 + i) & 1 != 0) {
        put(&mut x, i, &a, i, size);
        put(&mut y, i, &b, i, size);
    }
    let (products, f) = sse(mul, x, y, guest);
    let mut flags = reported(f, guest);
    if stops(flags, guest) {
        return flags;
    }
    // Pairwise sums: elements 0 + 1 (and 2 + 3) in one add.
    let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
    put(&mut x, 0, &products, 0, size);
    put(&mut y, 0, &products, 1, size);
    if !double {
        put(&mut x, 1, &products, 2, size);
        put(&mut y, 1, &products, 3, size);
    }
    let (sums, f) = sse(add, x, y, guest);
    flags |= reported(f, guest);
    if double || stops(flags, guest) {
        return flags;
    }
    let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
    put(&mut x, 0, &sums, 0, size);
    put(&mut y, 0, &sums, 1, size);
    flags | reported(sse(SseOp::Addss, x, y, guest).1, guest)
}

#[cfg(test)]
mod tests {
    use super::super::test_values::*;
    use super::*;
    use crate::sse::{dppd, dpps};

    #[test]
    fn the_steps_give_the_host_instructions_flags_when_nothing_stops_them() {
        // Masked: the staged model and the host's DPPS agree on the flags.
        let cases = [
            (ps([1.0, 2.0, 3.0, 4.0]), ps([5.0, 6.0, 7.0, 8.0])),
            (
                ps([f32::MAX, 2.0, 1e-30, 0.1]),
                ps([2.0, f32::MAX, 1e-10, 0.3]),
            ),
            (
                ps([1e-20, 1e-20, f32::MIN_POSITIVE, 3.0]),
                ps([1e-20, 1e-19, 0.5, 1.0 / 3.0]),
            ),
        ];
        for (a, b) in cases {
            for imm in [0xff, 0xf1, 0x31, 0xc4, 0x5f] {
                for guest in [0x1f80, 0x9f80, 0x3f80] {
                    let staged = fault_flags(false, a, b, imm, guest);
                    assert_eq!(staged, dpps(a, b, imm, guest).1, "{imm:#x} {guest:#x}");
                }
            }
        }
        let a = [0x11u8; 16];
        let b = [0xeeu8; 16];
        for imm in [0x33, 0x13, 0x21] {
            assert_eq!(
                fault_flags(true, a, b, imm, 0x1f80),
                dppd(a, b, imm, 0x1f80).1
            );
        }
    }

    #[test]
    fn an_unmasked_exception_stops_at_its_step() {
        // The products overflow (OM clear): the sums never run, so the
        // precision flag is the products' own (MAX * 2 is exact).
        let a = ps([f32::MAX, 1.0, 1.0, 1.0]);
        let b = ps([2.0, 1.0, 1.0, 1.0]);
        let guest = 0x1f80 & !(mxcsr::OE << 7);
        assert_eq!(fault_flags(false, a, b, 0xf1, guest), mxcsr::OE);
        // The products are fine; the sum overflows.
        let a = ps([f32::MAX, f32::MAX, 0.0, 0.0]);
        let b = ps([1.0, 1.0, 0.0, 0.0]);
        assert_eq!(fault_flags(false, a, b, 0xf1, guest), mxcsr::OE);
        // The products overflow masked (+inf and -inf, OE and PE), the sum
        // is an invalid operation with IM clear: the products' flags stay
        // reported beside IE (found by the host-CPU test).
        let mut a = [0u8; 16];
        a[..8].copy_from_slice(&f64::MAX.to_le_bytes());
        a[8..].copy_from_slice(&(-f64::MAX).to_le_bytes());
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&2f64.to_le_bytes());
        b[8..].copy_from_slice(&2f64.to_le_bytes());
        let no_im = 0x1f80 & !(mxcsr::IE << 7);
        let want = mxcsr::IE | mxcsr::OE | mxcsr::PE;
        assert_eq!(fault_flags(true, a, b, 0x33, no_im), want);
        assert_eq!(dppd(a, b, 0x33, no_im).1, want);
    }
}
