//! The XSAVE-managed state (SDM Vol. 1 ch. 13): which state components
//! XCR0 can enable and the layout of the standard-form XSAVE area.
//!
//! xlat supports the x87 (component 0) and SSE (component 1) state, both
//! in the legacy region (the FXSAVE layout, `fxstate`); AVX (component 2)
//! and later are not implemented, so XCR0 can enable bits 0 and 1 only.

/// XCR0 bit of the x87 state; must always be 1 (SDM Vol. 1 §13.3).
pub const XCR0_X87: u64 = 1 << 0;
/// XCR0 bit of the SSE state (XMM registers and MXCSR).
pub const XCR0_SSE: u64 = 1 << 1;
/// The XCR0 bits XSETBV accepts: CPUID.(0DH,0):EDX:EAX.
pub const XCR0_SUPPORTED: u64 = XCR0_X87 | XCR0_SSE;
/// XCR0 after RESET and INIT (SDM Vol. 3 Table 10-1).
pub const XCR0_RESET: u64 = XCR0_X87;

/// Size of the legacy region (the FXSAVE image).
pub const LEGACY_REGION: usize = 512;
/// Offset of the XSAVE header: XSTATE_BV (8 bytes), XCOMP_BV (8 bytes),
/// then 48 reserved bytes.
pub const HEADER: usize = 512;
/// Size of the XSAVE header.
pub const HEADER_LEN: usize = 64;

/// The size of a standard-form XSAVE area holding every component of
/// XCR0 = CPUID.(0DH,0):ECX; x87 and SSE live in the legacy region, so it
/// is the legacy region and the header.
pub const XSAVE_AREA_MAX: u32 = (LEGACY_REGION + HEADER_LEN) as u32;

/// CPUID.(0DH,0):EBX: the size of the XSAVE area for the components
/// `xcr0` enables (the same 576 bytes for both of the supported ones).
pub fn xsave_area_size(xcr0: u64) -> u32 {
    debug_assert!(xcr0 & !XCR0_SUPPORTED == 0);
    XSAVE_AREA_MAX
}
