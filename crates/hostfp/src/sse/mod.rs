//! SSE/SSE2 floating-point arithmetic on the host's own unit, as the x87
//! operations are: one `asm!` block per operation that saves the host's
//! MXCSR, loads the guest's (rounding control, DAZ, FTZ) with its flags
//! clear and every exception masked, runs the instruction on XMM0 and
//! XMM1, stores XMM0 and the flags raised, and restores the host's MXCSR.
//! No Rust code runs between the two MXCSR loads.

/// MXCSR exception flags (bits 0-5: IE, DE, ZE, OE, UE, PE) and masks
/// (bits 7-12).
pub mod mxcsr {
    pub const IE: u32 = 1 << 0;
    pub const DE: u32 = 1 << 1;
    pub const ZE: u32 = 1 << 2;
    pub const OE: u32 = 1 << 3;
    pub const UE: u32 = 1 << 4;
    pub const PE: u32 = 1 << 5;
    /// Denormals are zeros (inputs).
    pub const DAZ: u32 = 1 << 6;
    pub const FLAGS: u32 = 0x3f;
    pub const MASKS: u32 = 0x3f << 7;
}

/// The flags an operation that raised `flags` reports under the guest's
/// MXCSR `guest` when one of them is unmasked: only its pre-computation
/// exceptions (IE, DE, ZE) if one of those is unmasked, since the
/// operation stops before it computes anything (SDM Vol. 1 §11.5.1),
/// else all of them. (Nothing changes while everything raised is
/// masked.)
pub fn reported(flags: u32, guest: u32) -> u32 {
    let unmasked = flags & !(guest >> 7) & mxcsr::FLAGS;
    let pre = flags & (mxcsr::IE | mxcsr::DE | mxcsr::ZE);
    if pre & unmasked != 0 {
        pre
    } else {
        flags
    }
}

/// The host MXCSR for a guest MXCSR: its rounding control, DAZ and FTZ,
/// flags clear, every exception masked.
pub(crate) fn host_mxcsr(guest: u32) -> u32 {
    (guest & 0xffc0 & 0xffff) | mxcsr::MASKS
}

/// Two-operand SSE/SSE2 arithmetic: XMM0 := XMM0 op XMM1 (scalar forms
/// change the low element only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseOp {
    Addps,
    Addss,
    Addpd,
    Addsd,
    Subps,
    Subss,
    Subpd,
    Subsd,
    Mulps,
    Mulss,
    Mulpd,
    Mulsd,
    Divps,
    Divss,
    Divpd,
    Divsd,
    Minps,
    Minss,
    Minpd,
    Minsd,
    Maxps,
    Maxss,
    Maxpd,
    Maxsd,
    Sqrtps,
    Sqrtss,
    Sqrtpd,
    Sqrtsd,
    /// Approximate reciprocals and reciprocal square roots: their bits
    /// are the implementation's (SDM: relative error at most 1.5 * 2^-12),
    /// here the host's.
    Rcpps,
    Rcpss,
    Rsqrtps,
    Rsqrtss,
}

/// `sse_op!(a, b, csr, "op xmm0, xmm1")`; with `imm = N;` first, the
/// template's `{imm}` is the constant `N` (an instruction's imm8 must be
/// part of its encoding: see `sse41.rs`).
macro_rules! sse_op {
    (@with [$($extra:tt)*] $a:expr, $b:expr, $csr:expr, $($op:tt)+) => {{
        let a: [u8; 16] = $a;
        let b: [u8; 16] = $b;
        let csr: u32 = $csr;
        let mut r = [0u8; 16];
        let mut flags: u32 = 0;
        let mut saved: u32 = 0;
        // SAFETY: the block reads `a`, `b` and `csr` and writes `r`,
        // `flags` and `saved` (16-byte arrays and u32s, unaligned moves);
        // it changes MXCSR only between saving and restoring it, with
        // every exception masked so nothing traps, and declares XMM0 and
        // XMM1 clobbered.
        unsafe {
            core::arch::asm!(
                "stmxcsr dword ptr [{saved}]",
                "ldmxcsr dword ptr [{csr}]",
                "movups xmm0, xmmword ptr [{a}]",
                "movups xmm1, xmmword ptr [{b}]",
                $($op)+,
                "movups xmmword ptr [{r}], xmm0",
                "stmxcsr dword ptr [{flags}]",
                "ldmxcsr dword ptr [{saved}]",
                a = in(reg) &a,
                b = in(reg) &b,
                csr = in(reg) &csr,
                r = in(reg) &mut r,
                flags = in(reg) &mut flags,
                saved = in(reg) &mut saved,
                $($extra)*
                out("xmm0") _,
                out("xmm1") _,
                options(nostack),
            );
        }
        let _ = saved;
        (r, flags & mxcsr::FLAGS)
    }};
    (imm = $imm:expr; $a:expr, $b:expr, $csr:expr, $($op:tt)+) => {
        sse_op!(@with [imm = const $imm,] $a, $b, $csr, $($op)+)
    };
    ($a:expr, $b:expr, $csr:expr, $($op:tt)+) => {
        sse_op!(@with [] $a, $b, $csr, $($op)+)
    };
}

mod convert;
mod dot;
mod sse3;
mod sse41;
#[cfg(test)]
mod test_values;
mod unbounded;
pub use convert::*;
pub use sse3::*;
pub use sse41::*;

/// `a op b` under the guest's MXCSR `guest`: the destination's new value
/// (its masked response) and the exception flags raised (MXCSR bits 0-5).
/// What the guest's unmasked exceptions change is the caller's business.
pub fn sse(op: SseOp, a: [u8; 16], b: [u8; 16], guest: u32) -> ([u8; 16], u32) {
    let (r, flags) = with_tininess(guest, |c| sse_on(op, a, b, c));
    let flags =
        unbounded::fix_precision(flags, guest, || unbounded::arith_precision(op, a, b, guest));
    (r, flags)
}

/// An unmasked underflow is raised for a tiny result even when it is
/// exact (SDM Vol. 1 §11.5.2.5), which the host, running with underflow
/// masked, does not report. Where the guest unmasked it and the host
/// reported none, the operation runs again with FTZ set: flushing to
/// zero reports UE for every tiny result, exact or not.
pub(crate) fn with_tininess(guest: u32, run: impl Fn(u32) -> ([u8; 16], u32)) -> ([u8; 16], u32) {
    let c = host_mxcsr(guest);
    let (r, flags) = run(c);
    let ue_unmasked = guest & (mxcsr::UE << 7) == 0;
    if ue_unmasked && flags & mxcsr::UE == 0 {
        let (_, again) = run(c | 1 << 15);
        if again & mxcsr::UE != 0 {
            return (r, flags | mxcsr::UE);
        }
    }
    (r, flags)
}

/// `sse` with the host MXCSR given.
fn sse_on(op: SseOp, a: [u8; 16], b: [u8; 16], c: u32) -> ([u8; 16], u32) {
    use SseOp::*;
    match op {
        Addps => sse_op!(a, b, c, "addps xmm0, xmm1"),
        Addss => sse_op!(a, b, c, "addss xmm0, xmm1"),
        Addpd => sse_op!(a, b, c, "addpd xmm0, xmm1"),
        Addsd => sse_op!(a, b, c, "addsd xmm0, xmm1"),
        Subps => sse_op!(a, b, c, "subps xmm0, xmm1"),
        Subss => sse_op!(a, b, c, "subss xmm0, xmm1"),
        Subpd => sse_op!(a, b, c, "subpd xmm0, xmm1"),
        Subsd => sse_op!(a, b, c, "subsd xmm0, xmm1"),
        Mulps => sse_op!(a, b, c, "mulps xmm0, xmm1"),
        Mulss => sse_op!(a, b, c, "mulss xmm0, xmm1"),
        Mulpd => sse_op!(a, b, c, "mulpd xmm0, xmm1"),
        Mulsd => sse_op!(a, b, c, "mulsd xmm0, xmm1"),
        Divps => sse_op!(a, b, c, "divps xmm0, xmm1"),
        Divss => sse_op!(a, b, c, "divss xmm0, xmm1"),
        Divpd => sse_op!(a, b, c, "divpd xmm0, xmm1"),
        Divsd => sse_op!(a, b, c, "divsd xmm0, xmm1"),
        Minps => sse_op!(a, b, c, "minps xmm0, xmm1"),
        Minss => sse_op!(a, b, c, "minss xmm0, xmm1"),
        Minpd => sse_op!(a, b, c, "minpd xmm0, xmm1"),
        Minsd => sse_op!(a, b, c, "minsd xmm0, xmm1"),
        Maxps => sse_op!(a, b, c, "maxps xmm0, xmm1"),
        Maxss => sse_op!(a, b, c, "maxss xmm0, xmm1"),
        Maxpd => sse_op!(a, b, c, "maxpd xmm0, xmm1"),
        Maxsd => sse_op!(a, b, c, "maxsd xmm0, xmm1"),
        Sqrtps => sse_op!(a, b, c, "sqrtps xmm0, xmm1"),
        Sqrtss => sse_op!(a, b, c, "sqrtss xmm0, xmm1"),
        Sqrtpd => sse_op!(a, b, c, "sqrtpd xmm0, xmm1"),
        Sqrtsd => sse_op!(a, b, c, "sqrtsd xmm0, xmm1"),
        Rcpps => sse_op!(a, b, c, "rcpps xmm0, xmm1"),
        Rcpss => sse_op!(a, b, c, "rcpss xmm0, xmm1"),
        Rsqrtps => sse_op!(a, b, c, "rsqrtps xmm0, xmm1"),
        Rsqrtss => sse_op!(a, b, c, "rsqrtss xmm0, xmm1"),
    }
}

#[cfg(test)]
mod tests {
    use super::test_values::*;
    use super::*;

    #[test]
    fn packed_and_scalar() {
        let (r, f) = sse(
            SseOp::Addps,
            ps([1.0, 2.0, 3.0, 4.0]),
            ps([0.5; 4]),
            DEFAULT,
        );
        assert_eq!((r, f), (ps([1.5, 2.5, 3.5, 4.5]), 0));
        // Scalar: the upper half of the destination is kept.
        let (r, f) = sse(SseOp::Divsd, sd(1.0, 7), sd(3.0, 9), DEFAULT);
        assert_eq!(r, sd(1.0 / 3.0, 7));
        assert_eq!(f, mxcsr::PE);
        let (_, f) = sse(SseOp::Divss, ps([1.0; 4]), ps([0.0; 4]), DEFAULT);
        assert_eq!(f, mxcsr::ZE);
        let (r, f) = sse(SseOp::Sqrtpd, [0; 16], sd(-1.0, 4.0f64.to_bits()), DEFAULT);
        assert_eq!(f, mxcsr::IE);
        assert_eq!(
            r[8..],
            2.0f64.to_le_bytes(),
            "sqrt 4 beside the invalid sqrt -1"
        );
    }

    #[test]
    fn rounding_daz_ftz_from_the_guest() {
        // Round toward zero: 1/3 truncated.
        let (r, _) = sse(SseOp::Divss, ps([1.0; 4]), ps([3.0; 4]), DEFAULT | 0x6000);
        assert_eq!(r[..4], 0x3eaa_aaaau32.to_le_bytes());
        let (r, _) = sse(SseOp::Divss, ps([1.0; 4]), ps([3.0; 4]), DEFAULT);
        assert_eq!(r[..4], 0x3eaa_aaabu32.to_le_bytes());
        // DAZ: a denormal operand counts as zero (and raises no DE).
        let den = f32::from_bits(1);
        let (r, f) = sse(SseOp::Addss, ps([den; 4]), ps([0.0; 4]), DEFAULT | 0x40);
        assert_eq!((r[..4].to_vec(), f), (0.0f32.to_le_bytes().to_vec(), 0));
        let (_, f) = sse(SseOp::Addss, ps([den; 4]), ps([0.0; 4]), DEFAULT);
        assert_eq!(f, mxcsr::DE);
        // The host's own rounding is untouched afterwards.
        assert_eq!(1.0f32 / 3.0, f32::from_bits(0x3eaa_aaab));
    }

    #[test]
    fn unmasked_underflow_of_an_exact_tiny_result() {
        // 2^-125 - 1.5 * 2^-126 = 2^-127: normal operands, an exact tiny
        // result.
        let a = ps([f32::from_bits(0x0100_0000); 4]);
        let b = ps([f32::from_bits(0x00c0_0000); 4]);
        let (_, masked) = sse(SseOp::Subss, a, b, DEFAULT);
        assert_eq!(masked, 0, "masked: exact, no flag");
        let (_, unmasked) = sse(SseOp::Subss, a, b, DEFAULT & !(mxcsr::UE << 7));
        assert_eq!(unmasked, mxcsr::UE);
    }
}
