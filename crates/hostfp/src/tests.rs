//! Each operation against values computed by hand or by the host's own
//! f32/f64 arithmetic.

use crate::*;

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
        sign_exp: sign | (exp + 16383 - 1023),
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

#[test]
fn conversions() {
    assert_eq!(load_f32(1.5f32.to_bits(), PC64), (f(1.5), 0));
    assert_eq!(load_f64(0.25f64.to_bits(), PC64), (f(0.25), 0));
    let (q, s) = load_f32(0x7fa0_0000, PC64); // SNaN
    assert_eq!(s, sw::IE);
    assert_eq!(q.signif, 0xe000_0000_0000_0000, "quieted");
    assert_eq!(load_f32(1, PC64).1, sw::DE);
    assert_eq!(load_int(-3), f(-3.0));
    let third = binary(BinOp::Div, F80::ONE, f(3.0), PC64).0;
    assert_eq!(
        store_f32(third, PC64),
        ((1.0f32 / 3.0).to_bits(), sw::PE | sw::C1)
    );
    assert_eq!(store_f64(third, PC64).0, (1.0f64 / 3.0).to_bits());
    assert_eq!(store_i16(f(40000.0), PC64), (0x8000, sw::IE));
    assert_eq!(store_i32(f(2.5), PC64), (2, sw::PE));
    assert_eq!(store_i32(f(2.5), PC64 | RC_UP), (3, sw::PE | sw::C1));
    assert_eq!(store_i32_trunc(f(-2.7), PC64 | RC_UP).0, (-2i32) as u32);
    assert_eq!(store_i64(f(-5.0), PC64).0, (-5i64) as u64);
    let (bcd, s) = store_bcd(f(1234.0), PC64);
    assert_eq!((bcd[0], bcd[1], bcd[9], s), (0x34, 0x12, 0, 0));
    assert_eq!(load_bcd(bcd), f(1234.0));
}

#[test]
fn constants_compare_and_popping_ops() {
    let down = constant(Constant::Pi, PC64 | 0x0400);
    let up = constant(Constant::Pi, PC64 | RC_UP);
    assert_eq!(down.signif + 1, up.signif, "pi rounded both ways");
    assert_eq!(constant(Constant::One, PC64), F80::ONE);
    assert_eq!(compare(F80::ONE, f(2.0), true), sw::C0);
    assert_eq!(compare(f(2.0), F80::ONE, true), 0);
    assert_eq!(compare(F80::ONE, F80::ONE, true), sw::C3);
    let qnan = F80 {
        signif: 0xc000_0000_0000_0000,
        sign_exp: 0x7fff,
    };
    let unordered = sw::C0 | sw::C2 | sw::C3;
    assert_eq!(compare(qnan, F80::ONE, true), unordered | sw::IE);
    assert_eq!(compare(qnan, F80::ONE, false), unordered);
    // (C0, C2 and C3 are undefined after FYL2X: not compared.)
    let (r, s) = binary_pop(PopOp::Yl2x, f(8.0), F80::ONE, PC64);
    assert_eq!(r, f(3.0));
    assert_eq!(s & (sw::IE | sw::DE | sw::ZE | sw::OE | sw::UE), 0);
    let (r, _) = binary_pop(PopOp::Patan, F80::ONE, F80::ZERO, PC64);
    assert_eq!(r, F80::ZERO, "atan(0/1)");
}

#[test]
fn unmasked_overflow_gives_the_bias_adjusted_result() {
    let big = F80 {
        signif: 1 << 63,
        sign_exp: 0x7ffe,
    };
    // OE unmasked (bit 3 clear): 2^16383 * 2^16383 = 2^32766, which
    // exceeds the range; the stored exponent is reduced by 24576.
    let (r, s) = binary(BinOp::Mul, big, big, PC64 & !0x08);
    assert_eq!(s & sw::OE, sw::OE);
    assert_eq!(r.exponent(), (32766 + 16383 - 24576) as u16);
    // The host's state is clean afterwards: nothing pending.
    assert_eq!(binary(BinOp::Add, F80::ONE, F80::ONE, PC64), (f(2.0), 0));
}

#[test]
fn arith_in_every_operand_format() {
    let three = f(3.0);
    assert_eq!(
        arith(Arith::Sub, three, Operand::Reg(F80::ONE), PC64),
        (f(2.0), 0)
    );
    assert_eq!(
        arith(Arith::SubR, three, Operand::Reg(F80::ONE), PC64),
        (f(-2.0), 0)
    );
    assert_eq!(
        arith(Arith::Add, three, Operand::F32(1.5f32.to_bits()), PC64),
        (f(4.5), 0)
    );
    assert_eq!(
        arith(Arith::DivR, three, Operand::F64(6.0f64.to_bits()), PC64),
        (f(2.0), 0)
    );
    assert_eq!(
        arith(Arith::Mul, three, Operand::I16(-2), PC64),
        (f(-6.0), 0)
    );
    assert_eq!(arith(Arith::Div, three, Operand::I32(0), PC64).1, sw::ZE);
    // A denormal single raises DE though its 80-bit form is normal.
    assert_eq!(
        arith(Arith::Add, three, Operand::F32(1), PC64).1 & sw::DE,
        sw::DE
    );
    assert_eq!(compare_with(three, Operand::I32(4), true), sw::C0);
    assert_eq!(
        compare_with(three, Operand::F64(3.0f64.to_bits()), true),
        sw::C3
    );
}

#[test]
fn two_result_ops() {
    let (r, s) = push_op(PushOp::Xtract, f(12.0), PC64);
    assert_eq!(r, Some((f(1.5), f(3.0))), "significand on top");
    assert_eq!(s & 0x3f, 0);
    let (r, _) = push_op(PushOp::Ptan, F80::ZERO, PC64);
    assert_eq!(r, Some((F80::ONE, F80::ZERO)));
    let (r, _) = push_op(PushOp::Sincos, F80::ZERO, PC64);
    assert_eq!(r, Some((F80::ONE, F80::ZERO)), "cos on top, sin below");
    let huge = F80 {
        signif: 1 << 63,
        sign_exp: 0x3fff + 64,
    };
    let (r, s) = push_op(PushOp::Sincos, huge, PC64);
    assert_eq!((r, s & sw::C2), (None, sw::C2), "out of range");
    // The host stack is balanced on both paths.
    assert_eq!(binary(BinOp::Add, F80::ONE, F80::ONE, PC64), (f(2.0), 0));
}
