//! Loads, stores and constants: the memory formats to and from 80 bits.

use crate::{host_cw, host_cw_masked, sw, F80};

/// FLD m32fp: the value and the flags (IE for an SNaN, DE for a denormal).
pub fn load_f32(bits: u32, fcw: u16) -> (F80, u16) {
    x87_convert!(
        bits,
        F80,
        host_cw_masked(fcw),
        "fld dword ptr [{input}]",
        "",
        "fstp tbyte ptr [{out}]"
    )
}

/// FLD m64fp.
pub fn load_f64(bits: u64, fcw: u16) -> (F80, u16) {
    x87_convert!(
        bits,
        F80,
        host_cw_masked(fcw),
        "fld qword ptr [{input}]",
        "",
        "fstp tbyte ptr [{out}]"
    )
}

/// FILD m64int (exact: every 64-bit integer fits the significand).
pub fn load_int(v: i64) -> F80 {
    x87_convert!(
        v,
        F80,
        0x037f,
        "fild qword ptr [{input}]",
        "",
        "fstp tbyte ptr [{out}]"
    )
    .0
}

/// FBLD m80bcd (digits 0-9 each; others give an undefined value).
pub fn load_bcd(bcd: [u8; 10]) -> F80 {
    let b = Bcd(bcd);
    x87_convert!(
        b,
        F80,
        0x037f,
        "fbld tbyte ptr [{input}]",
        "",
        "fstp tbyte ptr [{out}]"
    )
    .0
}

/// A 10-byte packed BCD value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Bcd(pub [u8; 10]);

/// FST m32fp: the value rounded under `fcw` and the flags (IE, OE, UE,
/// PE, C1). Overflow and underflow follow the guest's masks, so an
/// unmasked one reports exactly what the hardware does (UE even for an
/// exact tiny result, no PE) and stores nothing; the caller then writes
/// nothing either.
pub fn store_f32(a: F80, fcw: u16) -> (u32, u16) {
    x87_convert!(
        a,
        u32,
        host_cw(fcw),
        "fld tbyte ptr [{input}]",
        "fstp dword ptr [{out}]",
        "# {out}"
    )
}

/// FST m64fp.
pub fn store_f64(a: F80, fcw: u16) -> (u64, u16) {
    x87_convert!(
        a,
        u64,
        host_cw(fcw),
        "fld tbyte ptr [{input}]",
        "fstp qword ptr [{out}]",
        ""
    )
}

/// FIST/FISTP m16int: rounded under `fcw` (IE and the integer indefinite
/// 0x8000 when out of range).
pub fn store_i16(a: F80, fcw: u16) -> (u16, u16) {
    x87_convert!(
        a,
        u16,
        host_cw_masked(fcw),
        "fld tbyte ptr [{input}]",
        "fistp word ptr [{out}]",
        ""
    )
}

/// FIST/FISTP m32int.
pub fn store_i32(a: F80, fcw: u16) -> (u32, u16) {
    x87_convert!(
        a,
        u32,
        host_cw(fcw),
        "fld tbyte ptr [{input}]",
        "fistp dword ptr [{out}]",
        ""
    )
}

/// FISTP m64int.
pub fn store_i64(a: F80, fcw: u16) -> (u64, u16) {
    x87_convert!(
        a,
        u64,
        host_cw(fcw),
        "fld tbyte ptr [{input}]",
        "fistp qword ptr [{out}]",
        ""
    )
}

/// FISTTP m16int (truncating whatever RC says; SSE3).
pub fn store_i16_trunc(a: F80, fcw: u16) -> (u16, u16) {
    x87_convert!(
        a,
        u16,
        host_cw_masked(fcw),
        "fld tbyte ptr [{input}]",
        "fisttp word ptr [{out}]",
        ""
    )
}

/// FISTTP m32int.
pub fn store_i32_trunc(a: F80, fcw: u16) -> (u32, u16) {
    x87_convert!(
        a,
        u32,
        host_cw(fcw),
        "fld tbyte ptr [{input}]",
        "fisttp dword ptr [{out}]",
        ""
    )
}

/// FISTTP m64int.
pub fn store_i64_trunc(a: F80, fcw: u16) -> (u64, u16) {
    x87_convert!(
        a,
        u64,
        host_cw(fcw),
        "fld tbyte ptr [{input}]",
        "fisttp qword ptr [{out}]",
        ""
    )
}

/// FBSTP m80bcd: rounded under `fcw`.
pub fn store_bcd(a: F80, fcw: u16) -> ([u8; 10], u16) {
    let (b, s) = x87_convert!(
        a,
        Bcd,
        host_cw_masked(fcw),
        "fld tbyte ptr [{input}]",
        "fbstp tbyte ptr [{out}]",
        ""
    );
    (b.0, s)
}

/// The x87 constants FLD1 ... FLDZ; the irrational ones are rounded as
/// RC says (SDM Vol. 1 §8.3.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constant {
    One,
    L2t,
    L2e,
    Pi,
    Lg2,
    Ln2,
    Zero,
}

/// The value of `k` under `fcw`'s rounding control.
pub fn constant(k: Constant, fcw: u16) -> F80 {
    let cw = host_cw_masked(fcw);
    let r = match k {
        Constant::One => x87_convert!(
            0u64,
            F80,
            cw,
            "fld1 # {input}",
            "",
            "fstp tbyte ptr [{out}]"
        ),
        Constant::L2t => x87_convert!(
            0u64,
            F80,
            cw,
            "fldl2t # {input}",
            "",
            "fstp tbyte ptr [{out}]"
        ),
        Constant::L2e => x87_convert!(
            0u64,
            F80,
            cw,
            "fldl2e # {input}",
            "",
            "fstp tbyte ptr [{out}]"
        ),
        Constant::Pi => x87_convert!(
            0u64,
            F80,
            cw,
            "fldpi # {input}",
            "",
            "fstp tbyte ptr [{out}]"
        ),
        Constant::Lg2 => x87_convert!(
            0u64,
            F80,
            cw,
            "fldlg2 # {input}",
            "",
            "fstp tbyte ptr [{out}]"
        ),
        Constant::Ln2 => x87_convert!(
            0u64,
            F80,
            cw,
            "fldln2 # {input}",
            "",
            "fstp tbyte ptr [{out}]"
        ),
        Constant::Zero => x87_convert!(
            0u64,
            F80,
            cw,
            "fldz # {input}",
            "",
            "fstp tbyte ptr [{out}]"
        ),
    };
    r.0
}
