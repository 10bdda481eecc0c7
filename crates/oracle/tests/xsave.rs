//! XSAVE, XSAVE64, XSAVEOPT64 and XRSTOR64 with RFBM = x87 | SSE against the
//! host CPU (Linux enables XSAVE; its XCR0 has more components, which
//! RFBM = 3 leaves out): the area written, the state loaded, the faults.
//! Both components are kept out of their initial configuration, so
//! XSTATE_BV does not depend on how the host tracks XINUSE.

use cpu_model::fxstate::X87Reg;
use cpu_model::model::XLAT;
use oracle::emulate::{run_emulated, Engine};
use oracle::native::run_native;
use oracle::{compare, initial_fx, Case, Regs, DATA_ADDR, DATA_SIZE};

/// `code` with RAX = 3, RDX = 0, RBX = the (64-byte aligned) data buffer
/// plus `offset`, a busy x87/SSE state and `data`.
fn case(code: &[u8], offset: u64, data: Vec<u8>) -> Case {
    let mut fx = initial_fx();
    fx.fcw = 0x027f;
    fx.fsw = 0x2800 | 0x0100; // TOP = 5, C0
    fx.ftw = 0xe0; // R5-R7 valid: ST0-ST2
    fx.mxcsr = 0x3f80;
    for (i, r) in fx.st.iter_mut().take(3).enumerate() {
        *r = X87Reg {
            signif: 0xc90f_daa2_2168_c235 ^ (i as u64) << 8,
            sign_exp: 0x4000 + i as u16,
            reserved: [0; 6],
        };
    }
    for (i, x) in fx.xmm.iter_mut().enumerate() {
        *x = [0x11u8.wrapping_mul(i as u8 + 1); 16];
    }
    let mut regs = Regs::default();
    regs.gpr[0] = 3;
    regs.gpr[3] = DATA_ADDR + offset;
    regs.rflags = 0x202;
    Case {
        bits: 64,
        code: code.to_vec(),
        regs,
        data,
        fx,
    }
}

/// The data buffer: 0xaa everywhere, the header zero (so XRSTOR accepts
/// what XSAVE wrote).
fn area() -> Vec<u8> {
    let mut d = vec![0xaa; DATA_SIZE];
    d[512..576].fill(0);
    d
}

fn check(name: &str, c: Case) {
    let mut native = run_native(std::slice::from_ref(&c))
        .expect("native run")
        .remove(0);
    // MXCSR_MASK (bytes 28-31) is the processor's: the host's may allow
    // more bits (AMD's MM, bit 17) than xlat's 0000FFFFH; it must allow
    // those at least.
    let mask = u32::from_le_bytes(native.data[28..32].try_into().unwrap());
    if mask != 0xaaaa_aaaa {
        assert_eq!(mask & 0xffff, 0xffff, "{name}: host MXCSR_MASK {mask:#x}");
        native.data[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
    }
    for engine in [Engine::Interp, Engine::Jit] {
        let emulated = run_emulated(&c, engine, &XLAT);
        let diff = compare(c.bits, &native, &emulated);
        assert!(diff.is_empty(), "{name} ({engine:?}): {diff}");
    }
}

// Encodings (64-bit, [rbx]): XSAVE64 48 0F AE 23, XSAVE 0F AE 23,
// XSAVEOPT64 48 0F AE 33, XRSTOR64 48 0F AE 2B, XRSTOR 0F AE 2B.
const XSAVE64: [u8; 4] = [0x48, 0x0f, 0xae, 0x23];
const XSAVE: [u8; 3] = [0x0f, 0xae, 0x23];
const XSAVEOPT64: [u8; 4] = [0x48, 0x0f, 0xae, 0x33];
const XRSTOR64: [u8; 4] = [0x48, 0x0f, 0xae, 0x2b];

#[test]
fn xsave_images_match_the_host() {
    check("xsave64", case(&XSAVE64, 0, area()));
    check("xsave", case(&XSAVE, 0, area()));
    check("xsaveopt64", case(&XSAVEOPT64, 0, area()));
    // RFBM = x87 only: MXCSR and XMM bytes untouched, XSTATE_BV[1] kept.
    let mut only_x87 = case(&XSAVE64, 0, {
        let mut d = area();
        d[512] = 2;
        d
    });
    only_x87.regs.gpr[0] = 1;
    check("xsave64 rfbm=1", only_x87);
    check("xsave64 misaligned", case(&XSAVE64, 32, area()));
}

/// A valid image of a state other than the case's, for XRSTOR.
fn image(xstate_bv: u8, mxcsr: u32) -> Vec<u8> {
    let mut d = area();
    d[..416].fill(0);
    d[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
    d[4] = 0x80; // R7 valid
    d[24..28].copy_from_slice(&mxcsr.to_le_bytes());
    d[28..32].copy_from_slice(&0xffffu32.to_le_bytes());
    d[32..40].copy_from_slice(&0x8000_0000_0000_0000u64.to_le_bytes());
    d[40..42].copy_from_slice(&0x3fffu16.to_le_bytes());
    for (i, b) in d[160..416].iter_mut().enumerate() {
        *b = i as u8;
    }
    d[512] = xstate_bv;
    d
}

#[test]
fn xrstor_matches_the_host() {
    check("xrstor64", case(&XRSTOR64, 0, image(3, 0x1f80)));
    check(
        "xrstor64 x87 only in xstate_bv",
        case(&XRSTOR64, 0, image(1, 0x1fc0)),
    );
    check(
        "xrstor64 xstate_bv = 0",
        case(&XRSTOR64, 0, image(0, 0x1f81)),
    );
    check(
        "xrstor64 reserved mxcsr",
        case(&XRSTOR64, 0, image(3, 0x1_1f80)),
    );
    check(
        "xrstor64 xstate_bv bit 63",
        case(&XRSTOR64, 0, {
            let mut d = image(3, 0x1f80);
            d[519] = 0x80;
            d
        }),
    );
    check(
        "xrstor64 xcomp_bv",
        case(&XRSTOR64, 0, {
            let mut d = image(3, 0x1f80);
            d[520] = 1;
            d
        }),
    );
    check(
        "xrstor64 header bytes 16-23",
        case(&XRSTOR64, 0, {
            let mut d = image(3, 0x1f80);
            d[530] = 1;
            d
        }),
    );
    check(
        "xrstor64 header bytes 24-63",
        case(&XRSTOR64, 0, {
            let mut d = image(3, 0x1f80);
            d[560] = 1;
            d
        }),
    );
    check("xrstor64 misaligned", case(&XRSTOR64, 16, image(3, 0x1f80)));
}
