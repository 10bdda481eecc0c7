//! Arithmetic, comparisons and the functions of one or two operands.

use crate::{host_cw, sw, F80};

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

/// Two operands in, the flags (C0, C2, C3, IE, DE) out: FCOM (`ordered`,
/// IE for any NaN) or FUCOM (IE for an SNaN only) of ST(0) = a with b.
pub fn compare(a: F80, b: F80, ordered: bool) -> u16 {
    let pair = [a, b];
    let cw = 0x037f;
    let r: (u64, u16) = if ordered {
        x87_convert!(
            pair,
            u64,
            cw,
            "fld tbyte ptr [{input} + 16]",
            "fld tbyte ptr [{input}]\n fcompp",
            "# {out}"
        )
    } else {
        x87_convert!(
            pair,
            u64,
            cw,
            "fld tbyte ptr [{input} + 16]",
            "fld tbyte ptr [{input}]\n fucompp",
            "# {out}"
        )
    };
    r.1
}

/// Operations with ST(0) = a and ST(1) = b that pop, leaving one result:
/// FYL2X (b * log2 a), FYL2XP1 (b * log2(a + 1)), FPATAN (arctan(b / a)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopOp {
    Yl2x,
    Yl2xp1,
    Patan,
}

/// `op` under `fcw`: the result that replaces ST(1), and the flags.
pub fn binary_pop(op: PopOp, a: F80, b: F80, fcw: u16) -> (F80, u16) {
    let pair = [a, b];
    let cw = host_cw(fcw);
    match op {
        PopOp::Yl2x => x87_convert!(
            pair,
            F80,
            cw,
            "fld tbyte ptr [{input} + 16]\n fld tbyte ptr [{input}]",
            "fyl2x",
            "fstp tbyte ptr [{out}]"
        ),
        PopOp::Yl2xp1 => x87_convert!(
            pair,
            F80,
            cw,
            "fld tbyte ptr [{input} + 16]\n fld tbyte ptr [{input}]",
            "fyl2xp1",
            "fstp tbyte ptr [{out}]"
        ),
        PopOp::Patan => x87_convert!(
            pair,
            F80,
            cw,
            "fld tbyte ptr [{input} + 16]\n fld tbyte ptr [{input}]",
            "fpatan",
            "fstp tbyte ptr [{out}]"
        ),
    }
}

/// The second operand of an x87 arithmetic or compare instruction, in the
/// format the instruction reads it (so a denormal m32fp raises DE and an
/// SNaN m64fp IE exactly as the hardware does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    Reg(F80),
    F32(u32),
    F64(u64),
    I16(i16),
    I32(i32),
}

/// The six arithmetic operations: ST(0) := ST(0) op b, or b op ST(0) for
/// the reversed ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    SubR,
    Mul,
    Div,
    DivR,
}

macro_rules! arith_reg {
    ($a:expr, $b:expr, $cw:expr, $op:literal) => {{
        let pair = [$a, $b];
        x87_convert!(
            pair,
            F80,
            $cw,
            "fld tbyte ptr [{input} + 16]\n fld tbyte ptr [{input}]",
            $op,
            "fstp tbyte ptr [{out}]\n fstp st(0)"
        )
    }};
}

#[repr(C)]
#[derive(Clone, Copy)]
struct WithMem<T: Copy> {
    a: F80,
    b: T,
}

macro_rules! arith_mem {
    ($a:expr, $b:expr, $cw:expr, $op:literal) => {{
        let v = WithMem { a: $a, b: $b };
        x87_convert!(
            v,
            F80,
            $cw,
            "fld tbyte ptr [{input}]",
            $op,
            "fstp tbyte ptr [{out}]"
        )
    }};
}

/// `a op b` (see [`Arith`]) under `fcw`, `b` in its memory format or a
/// register: the result and the flags, as [`binary`].
pub fn arith(op: Arith, a: F80, b: Operand, fcw: u16) -> (F80, u16) {
    let cw = host_cw(fcw);
    match (op, b) {
        (Arith::Add, Operand::Reg(b)) => arith_reg!(a, b, cw, "fadd st(0), st(1)"),
        (Arith::Add, Operand::F32(b)) => arith_mem!(a, b, cw, "fadd dword ptr [{input} + 16]"),
        (Arith::Add, Operand::F64(b)) => arith_mem!(a, b, cw, "fadd qword ptr [{input} + 16]"),
        (Arith::Add, Operand::I16(b)) => arith_mem!(a, b, cw, "fiadd word ptr [{input} + 16]"),
        (Arith::Add, Operand::I32(b)) => arith_mem!(a, b, cw, "fiadd dword ptr [{input} + 16]"),
        (Arith::Sub, Operand::Reg(b)) => arith_reg!(a, b, cw, "fsub st(0), st(1)"),
        (Arith::Sub, Operand::F32(b)) => arith_mem!(a, b, cw, "fsub dword ptr [{input} + 16]"),
        (Arith::Sub, Operand::F64(b)) => arith_mem!(a, b, cw, "fsub qword ptr [{input} + 16]"),
        (Arith::Sub, Operand::I16(b)) => arith_mem!(a, b, cw, "fisub word ptr [{input} + 16]"),
        (Arith::Sub, Operand::I32(b)) => arith_mem!(a, b, cw, "fisub dword ptr [{input} + 16]"),
        (Arith::SubR, Operand::Reg(b)) => arith_reg!(a, b, cw, "fsubr st(0), st(1)"),
        (Arith::SubR, Operand::F32(b)) => arith_mem!(a, b, cw, "fsubr dword ptr [{input} + 16]"),
        (Arith::SubR, Operand::F64(b)) => arith_mem!(a, b, cw, "fsubr qword ptr [{input} + 16]"),
        (Arith::SubR, Operand::I16(b)) => arith_mem!(a, b, cw, "fisubr word ptr [{input} + 16]"),
        (Arith::SubR, Operand::I32(b)) => arith_mem!(a, b, cw, "fisubr dword ptr [{input} + 16]"),
        (Arith::Mul, Operand::Reg(b)) => arith_reg!(a, b, cw, "fmul st(0), st(1)"),
        (Arith::Mul, Operand::F32(b)) => arith_mem!(a, b, cw, "fmul dword ptr [{input} + 16]"),
        (Arith::Mul, Operand::F64(b)) => arith_mem!(a, b, cw, "fmul qword ptr [{input} + 16]"),
        (Arith::Mul, Operand::I16(b)) => arith_mem!(a, b, cw, "fimul word ptr [{input} + 16]"),
        (Arith::Mul, Operand::I32(b)) => arith_mem!(a, b, cw, "fimul dword ptr [{input} + 16]"),
        (Arith::Div, Operand::Reg(b)) => arith_reg!(a, b, cw, "fdiv st(0), st(1)"),
        (Arith::Div, Operand::F32(b)) => arith_mem!(a, b, cw, "fdiv dword ptr [{input} + 16]"),
        (Arith::Div, Operand::F64(b)) => arith_mem!(a, b, cw, "fdiv qword ptr [{input} + 16]"),
        (Arith::Div, Operand::I16(b)) => arith_mem!(a, b, cw, "fidiv word ptr [{input} + 16]"),
        (Arith::Div, Operand::I32(b)) => arith_mem!(a, b, cw, "fidiv dword ptr [{input} + 16]"),
        (Arith::DivR, Operand::Reg(b)) => arith_reg!(a, b, cw, "fdivr st(0), st(1)"),
        (Arith::DivR, Operand::F32(b)) => arith_mem!(a, b, cw, "fdivr dword ptr [{input} + 16]"),
        (Arith::DivR, Operand::F64(b)) => arith_mem!(a, b, cw, "fdivr qword ptr [{input} + 16]"),
        (Arith::DivR, Operand::I16(b)) => arith_mem!(a, b, cw, "fidivr word ptr [{input} + 16]"),
        (Arith::DivR, Operand::I32(b)) => arith_mem!(a, b, cw, "fidivr dword ptr [{input} + 16]"),
    }
}

/// FCOM (`ordered`: IE for any NaN) or FUCOM (IE for an SNaN only) of
/// a with b in its format: the flags C0, C2, C3 (and IE, DE).
pub fn compare_with(a: F80, b: Operand, ordered: bool) -> u16 {
    let cw = 0x037f;
    macro_rules! cmp_mem {
        ($b:expr, $op:literal) => {{
            let v = WithMem { a, b: $b };
            let r: (u64, u16) = x87_convert!(
                v,
                u64,
                cw,
                "fld tbyte ptr [{input}]",
                $op,
                "fstp st(0) # {out}"
            );
            r.1
        }};
    }
    match b {
        Operand::Reg(b) => compare(a, b, ordered),
        Operand::F32(b) => cmp_mem!(b, "fcom dword ptr [{input} + 16]"),
        Operand::F64(b) => cmp_mem!(b, "fcom qword ptr [{input} + 16]"),
        Operand::I16(b) => cmp_mem!(b, "ficom word ptr [{input} + 16]"),
        Operand::I32(b) => cmp_mem!(b, "ficom dword ptr [{input} + 16]"),
    }
}
