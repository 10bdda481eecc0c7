//! RFLAGS bits and the arithmetic-flag computations shared by every
//! instruction handler. SDM Vol. 1 §3.4.3 and Appendix A.
//!
//! Values are carried as `u64` with an operand size in bytes (1, 2, 4, 8);
//! results are truncated to that size before flags are derived.

pub const CF: u64 = 1 << 0;
pub const FIXED: u64 = 1 << 1;
pub const PF: u64 = 1 << 2;
pub const AF: u64 = 1 << 4;
pub const ZF: u64 = 1 << 6;
pub const SF: u64 = 1 << 7;
pub const TF: u64 = 1 << 8;
pub const IF: u64 = 1 << 9;
pub const DF: u64 = 1 << 10;
pub const OF: u64 = 1 << 11;
pub const IOPL: u64 = 3 << 12;
pub const NT: u64 = 1 << 14;
pub const RF: u64 = 1 << 16;
pub const VM: u64 = 1 << 17;
pub const AC: u64 = 1 << 18;
pub const VIF: u64 = 1 << 19;
pub const VIP: u64 = 1 << 20;
pub const ID: u64 = 1 << 21;

/// The six status flags.
pub const STATUS: u64 = CF | PF | AF | ZF | SF | OF;

/// Bits software can ever see set (everything else reads as 0, bit 1 as 1).
pub const IMPLEMENTED: u64 =
    STATUS | FIXED | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;

/// Mask of an operand of `size` bytes.
#[inline]
pub fn mask(size: u32) -> u64 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    }
}

/// Sign bit of an operand of `size` bytes.
#[inline]
pub fn sign_bit(size: u32) -> u64 {
    1u64 << (size * 8 - 1)
}

/// Sign-extend the low `size` bytes of `v` to 64 bits.
#[inline]
pub fn sign_extend(v: u64, size: u32) -> u64 {
    match size {
        1 => v as u8 as i8 as i64 as u64,
        2 => v as u16 as i16 as i64 as u64,
        4 => v as u32 as i32 as i64 as u64,
        _ => v,
    }
}

#[inline]
fn parity(v: u64) -> u64 {
    if (v as u8).count_ones() % 2 == 0 {
        PF
    } else {
        0
    }
}

/// ZF, SF and PF of a result.
#[inline]
pub fn szp(result: u64, size: u32) -> u64 {
    let r = result & mask(size);
    let mut f = parity(r);
    if r == 0 {
        f |= ZF;
    }
    if r & sign_bit(size) != 0 {
        f |= SF;
    }
    f
}

/// ADD / ADC: returns (result, status flags).
#[inline]
pub fn add(a: u64, b: u64, carry_in: bool, size: u32) -> (u64, u64) {
    let m = mask(size);
    let (a, b) = (a & m, b & m);
    let c = u64::from(carry_in);
    let wide = u128::from(a) + u128::from(b) + u128::from(c);
    let r = (wide as u64) & m;
    let mut f = szp(r, size);
    if wide > u128::from(m) {
        f |= CF;
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= AF;
    }
    if (!(a ^ b) & (a ^ r)) & sign_bit(size) != 0 {
        f |= OF;
    }
    (r, f)
}

/// SUB / SBB / CMP / NEG: returns (a - b - borrow, status flags).
#[inline]
pub fn sub(a: u64, b: u64, borrow_in: bool, size: u32) -> (u64, u64) {
    let m = mask(size);
    let (a, b) = (a & m, b & m);
    let c = u64::from(borrow_in);
    let r = a.wrapping_sub(b).wrapping_sub(c) & m;
    let mut f = szp(r, size);
    if u128::from(a) < u128::from(b) + u128::from(c) {
        f |= CF;
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= AF;
    }
    if ((a ^ b) & (a ^ r)) & sign_bit(size) != 0 {
        f |= OF;
    }
    (r, f)
}

/// AND / OR / XOR / TEST: CF = OF = 0, AF undefined (cleared, as hardware does).
#[inline]
pub fn logic(r: u64, size: u32) -> u64 {
    szp(r, size)
}

/// Evaluate a condition code (the low nibble of Jcc/SETcc/CMOVcc opcodes).
#[inline]
pub fn condition(rflags: u64, cc: u8) -> bool {
    let cf = rflags & CF != 0;
    let zf = rflags & ZF != 0;
    let sf = rflags & SF != 0;
    let of = rflags & OF != 0;
    let pf = rflags & PF != 0;
    let r = match cc >> 1 {
        0 => of,
        1 => cf,
        2 => zf,
        3 => cf || zf,
        4 => sf,
        5 => pf,
        6 => sf != of,
        _ => zf || (sf != of),
    };
    r ^ (cc & 1 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_flags() {
        assert_eq!(add(0x7f, 1, false, 1), (0x80, SF | OF | AF));
        assert_eq!(add(0xff, 1, false, 1), (0, ZF | CF | AF | PF));
        assert_eq!(add(u64::MAX, 0, true, 8), (0, ZF | CF | AF | PF));
    }

    #[test]
    fn sub_flags() {
        assert_eq!(sub(0, 1, false, 2), (0xffff, SF | CF | AF | PF));
        assert_eq!(sub(0x80, 1, false, 1), (0x7f, OF | AF));
        assert_eq!(sub(5, 5, false, 4), (0, ZF | PF));
    }

    #[test]
    fn conditions() {
        assert!(condition(ZF, 0x4)); // E
        assert!(!condition(ZF, 0x5)); // NE
        assert!(condition(SF, 0xc)); // L: SF != OF
        assert!(condition(SF | OF, 0xd)); // GE
        assert!(condition(CF, 0x6)); // BE
    }
}
