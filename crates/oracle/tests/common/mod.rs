//! Shared by the oracle's SIMD host-CPU tests (`simd_int`, `simd_ssse3`,
//! `sse41`, `sse42`): a random stream, special floating-point values, and
//! running cases natively and in both engines with every difference
//! reported.

// Each test file uses a part of this module.
#![allow(dead_code)]

use oracle::emulate::{run_emulated, Engine};
use oracle::native::run_native;
use oracle::Case;

/// A xorshift stream.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let x = &mut self.0;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
}

/// Special singles: zeros, ±1, halves and near-integers (for rounding),
/// 2^-23, denormals, the smallest normals, the largest finite values,
/// infinities, QNaNs and SNaNs.
pub const F32: &[u32] = &[
    0x0000_0000,
    0x8000_0000,
    0x3f80_0000,
    0xbf80_0000,
    0xbfc0_0000, // -1.5
    0x4020_0000, // 2.5
    0x3f00_0000, // 0.5
    0x3eff_ffff,
    0x4b00_0000, // 2^23
    0x4aff_ffff, // 2^23 - 0.5
    0x3400_0000, // 2^-23
    0x0000_0001, // denormals
    0x807f_ffff,
    0x0080_0000, // smallest normal
    0x00c0_0000,
    0x7f7f_ffff, // largest finite
    0xff7f_ffff,
    0x7f80_0000, // infinities
    0xff80_0000,
    0x7fc0_0000, // QNaNs
    0xffc0_0000,
    0xffc0_0001,
    0x7f80_0001, // SNaNs
    0xffa0_0000,
];

/// Special doubles, as `F32`.
pub const F64: &[u64] = &[
    0,
    0x8000_0000_0000_0000,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0xbff8_0000_0000_0000, // -1.5
    0x4004_0000_0000_0000, // 2.5
    0x3fe0_0000_0000_0000, // 0.5
    0x4330_0000_0000_0000, // 2^52
    0x432f_ffff_ffff_ffff, // 2^52 - 0.5
    0x3cb0_0000_0000_0000, // 2^-52
    0x0000_0000_0000_0001, // denormals
    0x800f_ffff_ffff_ffff,
    0x0010_0000_0000_0000, // smallest normal
    0x0018_0000_0000_0000,
    0x7fef_ffff_ffff_ffff, // largest finite
    0xffef_ffff_ffff_ffff,
    0x7ff0_0000_0000_0000, // infinities
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000, // QNaNs
    0xfff8_0000_0000_0001,
    0x7ff0_0000_0000_0001, // SNaNs
    0xfff4_0000_0000_0000,
];

/// Run every case natively, in the interpreter and in the translator,
/// and compare the whole outcome (`oracle::compare`); one line per case
/// and engine that differs (or is inconclusive), with the case's code and
/// initial state.
pub fn differences(cases: &[Case], names: &[String]) -> Vec<String> {
    let native = run_native(cases).expect("native run");
    let mut out = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        for engine in [Engine::Interp, Engine::Jit] {
            let emulated = run_emulated(c, engine, &cpu_model::model::XLAT);
            let d = if emulated.inconclusive {
                "inconclusive (an undefined value was read)\n".to_string()
            } else {
                oracle::compare(c.bits, &native[i], &emulated)
            };
            if !d.is_empty() {
                out.push(format!(
                    "{} ({engine:?}): {d}{}initial:\n{}{}",
                    names[i],
                    oracle::disassemble(&c.code, c.bits),
                    oracle::format_regs(&c.regs),
                    oracle::format_fx(&c.fx, true)
                ));
            }
        }
    }
    out
}

/// `differences` must find none.
pub fn check(cases: &[Case], names: &[String]) {
    let d = differences(cases, names);
    assert!(
        d.is_empty(),
        "{} of {} cases differ (interpreter and translator each):\n{}",
        d.len(),
        cases.len(),
        d.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}
