//! Floating-point arithmetic on the host's own x87 unit, for xlat's
//! interpreter (issue #9).
//!
//! xlat runs only on x86-64 hosts (its translator emits x86-64 code), and
//! every such host has an x87 unit: running the guest's x87 arithmetic on
//! it gives the hardware's results bit for bit — 80-bit values, precision
//! and rounding control, denormals, pseudo-denormals, unnormals, NaN and
//! infinity rules, the exception flags and C1 — where a software model
//! (SoftFloat, as Bochs and QEMU use) has to reproduce each of those
//! rules, and QEMU's is known to differ in some. The host-CPU oracle
//! (`xlat diff`) compares against the same hardware.
//!
//! Each operation is one `asm!` block that saves the host's control word,
//! starts from FNINIT's clean state, loads the guest's precision and
//! rounding control with every exception masked (an unmasked host exception would trap in xlat itself), clears
//! the status word, loads the operands in 80-bit format (which raises
//! nothing, SDM Vol. 2 "FLD": no #IA or #D for m80fp), runs the
//! instruction, stores the status word and then the result in 80-bit
//! format (which raises nothing either, but would change C1), and
//! restores the control word. The x87
//! stack is empty between Rust functions on x86-64 (System V ABI), and
//! each block pops what it pushed. What the guest's own unmasked
//! exceptions change (no result, or a bias-adjusted one, and #MF) is the
//! interpreter's business, from the flags returned here.
//!
//! This is the crate's only `unsafe`, one block per operation.

#![cfg(target_arch = "x86_64")]

/// An x87 80-bit value: significand (bit 63 the explicit integer bit),
/// sign and biased exponent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct F80 {
    pub signif: u64,
    pub sign_exp: u16,
}

const _: () = assert!(core::mem::size_of::<F80>() == 16);

impl F80 {
    pub const ZERO: F80 = F80 {
        signif: 0,
        sign_exp: 0,
    };
    pub const ONE: F80 = F80 {
        signif: 1 << 63,
        sign_exp: 0x3fff,
    };

    pub fn negative(self) -> bool {
        self.sign_exp & 0x8000 != 0
    }
    pub fn exponent(self) -> u16 {
        self.sign_exp & 0x7fff
    }
}

/// FSW bits an operation reports: the exception flags IE, DE, ZE, OE, UE,
/// PE (bits 0-5), C1 (bit 9: rounded up) and C0/C2/C3. Each block starts
/// with FNINIT, so bits an instruction leaves undefined are what the
/// hardware makes of a clear status word, the same every time.
pub mod sw {
    pub const IE: u16 = 1 << 0;
    pub const DE: u16 = 1 << 1;
    pub const ZE: u16 = 1 << 2;
    pub const OE: u16 = 1 << 3;
    pub const UE: u16 = 1 << 4;
    pub const PE: u16 = 1 << 5;
    pub const C0: u16 = 1 << 8;
    pub const C1: u16 = 1 << 9;
    pub const C2: u16 = 1 << 10;
    pub const C3: u16 = 1 << 14;
    /// The bits an operation reports (the rest of the host's FSW, TOP and
    /// the summary bits, says nothing about the guest).
    pub const REPORTED: u16 = 0x3f | C0 | C1 | C2 | C3;
}

/// The host control word for an arithmetic operation under guest FCW
/// `fcw`: its precision (bits 8-9) and rounding (bits 10-11) control;
/// invalid, denormal, zero-divide and precision masked (their masked
/// response is computed and the caller discards it where the guest
/// unmasked them); overflow and underflow masked as the guest has them,
/// since their unmasked response is a different result (the exponent
/// bias-adjusted by 24576, SDM Vol. 1 §8.5.4-8.5.5), which the host then
/// computes. The pending exception this leaves is cleared (FNCLEX, which
/// does not wait) before anything else runs.
fn host_cw(fcw: u16) -> u16 {
    (fcw & 0x0f18) | 0x0067
}

/// The host control word for a conversion or store: everything masked
/// (an unmasked exception on a store writes nothing; the caller decides).
fn host_cw_masked(fcw: u16) -> u16 {
    (fcw & 0x0f00) | 0x007f
}

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

/// One x87 operation with two operands in memory and the result stored.
/// Expands to one `asm!` block (see the module comment).
macro_rules! x87_binary {
    ($a:expr, $b:expr, $cw:expr, $op:literal) => {{
        let a: F80 = $a;
        let b: F80 = $b;
        let cw: u16 = $cw;
        let mut r = F80::ZERO;
        let mut status: u16 = 0;
        let mut saved: u16 = 0;
        // SAFETY: the block reads `a`, `b` and `cw` and writes `r`,
        // `status` and `saved`, all live locals of the sizes the
        // instructions access (10-byte F80 inside a 16-byte struct, 2-byte
        // words); it pushes two x87 registers and pops both, leaves the
        // host control word as it found it and clears the exception flags
        // it raised, and declares the x87 registers clobbered.
        unsafe {
            core::arch::asm!(
                "fnstcw word ptr [{saved}]",
                "fninit",
                "fldcw word ptr [{cw}]",
                "fld tbyte ptr [{b}]",
                "fld tbyte ptr [{a}]",
                $op,
                "fnstsw word ptr [{status}]",
                "fnclex",
                "fstp tbyte ptr [{r}]",
                "fstp st(0)",
                "fldcw word ptr [{saved}]",
                a = in(reg) &a,
                b = in(reg) &b,
                cw = in(reg) &cw,
                r = in(reg) &mut r,
                status = in(reg) &mut status,
                saved = in(reg) &mut saved,
                out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                options(nostack),
            );
        }
        let _ = saved;
        (r, status & sw::REPORTED)
    }};
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

/// One x87 operation on a memory operand of any format: `$load` pushes
/// it, `$op` runs, the status is taken, then `$store` stores ST(0) into
/// `$out` (popping it); `$pops` more registers are popped. The same
/// discipline as `x87_binary`.
macro_rules! x87_convert {
    ($input:expr, $out:ty, $cw:expr, $load:literal, $op:literal, $store:literal) => {{
        let input = $input;
        let cw: u16 = $cw;
        let mut out: $out = Default::default();
        let mut status: u16 = 0;
        let mut saved: u16 = 0;
        // SAFETY: the block reads `input` and `cw` and writes `out`,
        // `status` and `saved`, live locals at least as large as the
        // accesses (`$load` and `$store` name the operand sizes); the
        // x87 stack is empty before and after (one push, one pop), the
        // host control word is restored and the flags raised are
        // cleared; x87 registers are declared clobbered.
        unsafe {
            core::arch::asm!(
                "fnstcw word ptr [{saved}]",
                "fninit",
                "fldcw word ptr [{cw}]",
                $load,
                $op,
                "fnstsw word ptr [{status}]",
                "fnclex",
                $store,
                "fldcw word ptr [{saved}]",
                input = in(reg) &input,
                cw = in(reg) &cw,
                out = in(reg) &mut out,
                status = in(reg) &mut status,
                saved = in(reg) &mut saved,
                out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                options(nostack),
            );
        }
        let _ = saved;
        (out, status & sw::REPORTED)
    }};
}

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
/// PE, C1; all masked on the host: with the guest's OE/UE/IE unmasked the
/// caller stores nothing).
pub fn store_f32(a: F80, fcw: u16) -> (u32, u16) {
    x87_convert!(
        a,
        u32,
        host_cw_masked(fcw),
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
        host_cw_masked(fcw),
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
        host_cw_masked(fcw),
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
        host_cw_masked(fcw),
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
        host_cw_masked(fcw),
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
        host_cw_masked(fcw),
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

/// Operations on ST(0) that replace it and push a second result:
/// FPTAN (tan, then 1.0), FSINCOS (sin, then cos), FXTRACT (exponent, then
/// significand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOp {
    Ptan,
    Sincos,
    Xtract,
}

/// `op a` under `fcw`: `Some((st0, st1))` as the stack holds them after
/// the instruction (ST(0) the pushed value), or `None` when FPTAN or
/// FSINCOS found the operand out of range (C2 set, nothing changed); and
/// the flags.
pub fn push_op(op: PushOp, a: F80, fcw: u16) -> (Option<(F80, F80)>, u16) {
    let cw = host_cw(fcw);
    let mut r = [F80::ZERO; 2];
    let mut status: u16 = 0;
    let mut saved: u16 = 0;
    macro_rules! run {
        ($op:literal) => {
            // SAFETY: reads `a` and `cw`, writes `r` (two 16-byte F80s),
            // `status` and `saved`; pushes one register and the operation
            // pushes at most one more, and both are popped on either path
            // (C2 set: the operand alone is left); the control word is
            // restored and the flags cleared; x87 registers are clobbered.
            unsafe {
                core::arch::asm!(
                    "fnstcw word ptr [{saved}]",
                    "fninit",
                    "fldcw word ptr [{cw}]",
                    "fld tbyte ptr [{a}]",
                    $op,
                    "fnstsw word ptr [{status}]",
                    "fnclex",
                    "test word ptr [{status}], 0x400",
                    "jnz 2f",
                    "fstp tbyte ptr [{r}]",
                    "fstp tbyte ptr [{r} + 16]",
                    "jmp 3f",
                    "2:",
                    "fstp st(0)",
                    "3:",
                    "fldcw word ptr [{saved}]",
                    a = in(reg) &a,
                    cw = in(reg) &cw,
                    r = in(reg) &mut r,
                    status = in(reg) &mut status,
                    saved = in(reg) &mut saved,
                    out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                    out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                    options(nostack),
                );
            }
        };
    }
    match op {
        PushOp::Ptan => run!("fptan"),
        PushOp::Sincos => run!("fsincos"),
        PushOp::Xtract => run!("fxtract"),
    }
    let _ = saved;
    let out = (status & sw::C2 == 0 || op == PushOp::Xtract).then_some((r[0], r[1]));
    (out, status & sw::REPORTED)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
