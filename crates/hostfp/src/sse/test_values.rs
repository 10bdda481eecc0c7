//! XMM values and MXCSR settings for the tests of this module's files.

/// Four singles.
pub(crate) fn ps(v: [f32; 4]) -> [u8; 16] {
    let mut b = [0u8; 16];
    for (i, x) in v.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
    }
    b
}

/// Two doubles.
pub(crate) fn pd(v: [f64; 2]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&v[0].to_le_bytes());
    b[8..].copy_from_slice(&v[1].to_le_bytes());
    b
}

/// A double and the raw upper quadword.
pub(crate) fn sd(v: f64, hi: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&v.to_le_bytes());
    b[8..].copy_from_slice(&hi.to_le_bytes());
    b
}

/// MXCSR at reset: round to nearest, everything masked.
pub(crate) const DEFAULT: u32 = 0x1f80;

/// `DEFAULT` with the exceptions of `unmasked` (flag bits 0-5) unmasked.
pub(crate) fn all_masked_but(unmasked: u32) -> u32 {
    DEFAULT & !(unmasked << 7)
}
