//! x87, SSE/SSE2/SSE3, SSSE3, SSE4.1 and SSE4.2's compares: the menu of
//! encodings (those the interpreter implements; on MMX registers, the
//! forms of SSSE3 and PEXTRW), the initial x87/SSE state and a data buffer
//! seeded with special values (±0, denormals, pseudo-denormals,
//! unnormals, infinities, QNaN/SNaN, integer indefinite, values near the
//! format limits) and valid control words for FLDCW/LDMXCSR.

use cpu_model::fxstate::{fsw, FxState, X87Reg};
use iced_x86::{Code, EncodingKind, Mnemonic as M, OpCodeOperandKind as K};
use std::sync::OnceLock;

use super::menu::Template;

const MNEMONICS: &[M] = &[
    // x87 loads, stores, constants.
    M::Fld,
    M::Fst,
    M::Fstp,
    M::Fild,
    M::Fist,
    M::Fistp,
    M::Fisttp,
    M::Fld1,
    M::Fldz,
    M::Fldpi,
    M::Fldl2e,
    M::Fldl2t,
    M::Fldlg2,
    M::Fldln2,
    // Arithmetic in every form.
    M::Fadd,
    M::Faddp,
    M::Fiadd,
    M::Fsub,
    M::Fsubp,
    M::Fisub,
    M::Fsubr,
    M::Fsubrp,
    M::Fisubr,
    M::Fmul,
    M::Fmulp,
    M::Fimul,
    M::Fdiv,
    M::Fdivp,
    M::Fidiv,
    M::Fdivr,
    M::Fdivrp,
    M::Fidivr,
    // Compares and classification.
    M::Fcom,
    M::Fcomp,
    M::Fcompp,
    M::Ficom,
    M::Ficomp,
    M::Fucom,
    M::Fucomp,
    M::Fucompp,
    M::Fcomi,
    M::Fcomip,
    M::Fucomi,
    M::Fucomip,
    M::Ftst,
    M::Fxam,
    // Other arithmetic, transcendentals.
    M::Fchs,
    M::Fabs,
    M::Fsqrt,
    M::Frndint,
    M::Fscale,
    M::Fprem,
    M::Fprem1,
    M::Fxtract,
    M::F2xm1,
    M::Fyl2x,
    M::Fyl2xp1,
    M::Fptan,
    M::Fpatan,
    M::Fsin,
    M::Fcos,
    M::Fsincos,
    // Stack and control.
    M::Fxch,
    M::Fincstp,
    M::Fdecstp,
    M::Ffree,
    M::Fcmovb,
    M::Fcmove,
    M::Fcmovbe,
    M::Fcmovu,
    M::Fcmovnb,
    M::Fcmovne,
    M::Fcmovnbe,
    M::Fcmovnu,
    M::Fldcw,
    M::Fnstcw,
    M::Fnstsw,
    M::Fnclex,
    M::Fninit,
    M::Fnop,
    M::Wait,
    // SSE/SSE2 floating point.
    M::Addps,
    M::Addss,
    M::Addpd,
    M::Addsd,
    M::Subps,
    M::Subss,
    M::Subpd,
    M::Subsd,
    M::Mulps,
    M::Mulss,
    M::Mulpd,
    M::Mulsd,
    M::Divps,
    M::Divss,
    M::Divpd,
    M::Divsd,
    M::Minps,
    M::Minss,
    M::Minpd,
    M::Minsd,
    M::Maxps,
    M::Maxss,
    M::Maxpd,
    M::Maxsd,
    M::Sqrtps,
    M::Sqrtss,
    M::Sqrtpd,
    M::Sqrtsd,
    M::Rcpps,
    M::Rcpss,
    M::Rsqrtps,
    M::Rsqrtss,
    M::Cmpps,
    M::Cmpss,
    M::Cmppd,
    M::Cmpsd,
    M::Comiss,
    M::Ucomiss,
    M::Comisd,
    M::Ucomisd,
    M::Cvtsi2ss,
    M::Cvtsi2sd,
    M::Cvtss2si,
    M::Cvtsd2si,
    M::Cvttss2si,
    M::Cvttsd2si,
    M::Cvtss2sd,
    M::Cvtsd2ss,
    M::Cvtps2pd,
    M::Cvtpd2ps,
    M::Cvtdq2ps,
    M::Cvtps2dq,
    M::Cvttps2dq,
    M::Cvtdq2pd,
    M::Cvtpd2dq,
    M::Cvttpd2dq,
    M::Andps,
    M::Andpd,
    M::Andnps,
    M::Andnpd,
    M::Orps,
    M::Orpd,
    M::Xorps,
    M::Xorpd,
    M::Movaps,
    M::Movapd,
    M::Movups,
    M::Movupd,
    M::Movss,
    M::Movsd,
    M::Movhps,
    M::Movlps,
    M::Movhpd,
    M::Movlpd,
    M::Movhlps,
    M::Movlhps,
    M::Movmskps,
    M::Movmskpd,
    M::Shufps,
    M::Shufpd,
    M::Unpcklps,
    M::Unpckhps,
    M::Unpcklpd,
    M::Unpckhpd,
    M::Ldmxcsr,
    M::Stmxcsr,
    // SSE3 (FISTTP is with the x87 stores above).
    M::Addsubps,
    M::Addsubpd,
    M::Haddps,
    M::Haddpd,
    M::Hsubps,
    M::Hsubpd,
    M::Movshdup,
    M::Movsldup,
    M::Movddup,
    M::Lddqu,
    // SSSE3, MMX and XMM forms.
    M::Pshufb,
    M::Phaddw,
    M::Phaddd,
    M::Phaddsw,
    M::Phsubw,
    M::Phsubd,
    M::Phsubsw,
    M::Pmaddubsw,
    M::Pmulhrsw,
    M::Psignb,
    M::Psignw,
    M::Psignd,
    M::Pabsb,
    M::Pabsw,
    M::Pabsd,
    M::Palignr,
    // SSE4.1.
    M::Blendps,
    M::Blendpd,
    M::Blendvps,
    M::Blendvpd,
    M::Pblendvb,
    M::Pblendw,
    M::Dpps,
    M::Dppd,
    M::Extractps,
    M::Insertps,
    M::Movntdqa,
    M::Mpsadbw,
    M::Packusdw,
    M::Pcmpeqq,
    M::Pextrb,
    M::Pextrd,
    M::Pextrq,
    M::Pextrw,
    M::Phminposuw,
    M::Pinsrb,
    M::Pinsrd,
    M::Pinsrq,
    M::Pmaxsb,
    M::Pmaxsd,
    M::Pmaxud,
    M::Pmaxuw,
    M::Pminsb,
    M::Pminsd,
    M::Pminud,
    M::Pminuw,
    M::Pmovsxbw,
    M::Pmovsxbd,
    M::Pmovsxbq,
    M::Pmovsxwd,
    M::Pmovsxwq,
    M::Pmovsxdq,
    M::Pmovzxbw,
    M::Pmovzxbd,
    M::Pmovzxbq,
    M::Pmovzxwd,
    M::Pmovzxwq,
    M::Pmovzxdq,
    M::Pmuldq,
    M::Pmulld,
    M::Ptest,
    M::Roundps,
    M::Roundpd,
    M::Roundss,
    M::Roundsd,
    // SSE4.2 compares (the explicit lengths come from RAX/RDX, the
    // random GPRs: edge values include small and negative lengths).
    M::Pcmpestri,
    M::Pcmpestri64,
    M::Pcmpestrm,
    M::Pcmpestrm64,
    M::Pcmpistri,
    M::Pcmpistrm,
    M::Pcmpgtq,
];

/// The x87/SSE menu (64-bit code only).
pub(super) fn templates() -> &'static [Template] {
    static T: OnceLock<Vec<Template>> = OnceLock::new();
    T.get_or_init(|| {
        Code::values()
            .filter(|c| {
                let info = c.op_code();
                info.is_instruction()
                    && info.mode64()
                    && c.encoding() == EncodingKind::Legacy
                    && MNEMONICS.contains(&c.mnemonic())
                    && cpu_model::interp::desc(*c).handler.is_some()
                    && info.op_kinds().iter().all(|k| supported(*k))
            })
            .map(Template::Code)
            .collect()
    })
}

fn supported(k: K) -> bool {
    matches!(
        k,
        K::st0
            | K::sti_opcode
            | K::xmm_reg
            | K::xmm_rm
            | K::xmm_or_mem
            | K::mm_reg
            | K::mm_rm
            | K::mm_or_mem
            | K::mem
            | K::r32_reg
            | K::r64_reg
            | K::r32_or_mem
            | K::r64_or_mem
            | K::imm8
            | K::ax
    )
}

/// A xorshift stream for the seeded parts of a case.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub(super) fn next(&mut self) -> u64 {
        let x = &mut self.0;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

const F32: &[u32] = &[
    0,
    0x8000_0000, // -0, also the 32-bit integer indefinite
    0x3f80_0000,
    0xbf80_0000,
    0x3fc0_0000,
    0x4020_0000,
    0x0000_0001, // denormals
    0x007f_ffff,
    0x8040_0000,
    0x0080_0000, // smallest normal
    0x7f7f_ffff, // largest finite
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000, // QNaN
    0xffc0_0000, // indefinite
    0x7f80_0001, // SNaN
    0xffa0_0000,
    0x4b00_0000, // 2^23
    0x4f00_0000, // 2^31
    0xcf00_0000,
    0x5f00_0000, // 2^63
    0x3eff_ffff,
];

const F64: &[u64] = &[
    0,
    0x8000_0000_0000_0000, // -0, also the 64-bit integer indefinite
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x3fe0_0000_0000_0000,
    0x4004_0000_0000_0000,
    0x0000_0000_0000_0001,
    0x000f_ffff_ffff_ffff,
    0x8008_0000_0000_0000,
    0x0010_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0xfff8_0000_0000_0000,
    0x7ff0_0000_0000_0001,
    0xfff4_0000_0000_0000,
    0x4330_0000_0000_0000, // 2^52
    0x41e0_0000_0000_0000, // 2^31
    0xc1e0_0000_0000_0000,
    0x43e0_0000_0000_0000, // 2^63
    0x4009_21fb_5444_2d18, // pi
    0x47ef_ffff_e000_0000, // f32 max
    0x3810_0000_0000_0000, // f32 min normal
    0x36a0_0000_0000_0000, // f32 min denormal
];

/// (sign and exponent, significand)
const F80: &[(u16, u64)] = &[
    (0, 0),
    (0x8000, 0),
    (0x3fff, 1 << 63),
    (0xbfff, 1 << 63),
    (0x3ffe, 0xc000_0000_0000_0000),
    (0x4000, 0xc90f_daa2_2168_c235), // pi
    (0xc00d, 0xa000_0000_0000_0000),
    (0x0000, 1),                     // denormal
    (0x8000, 0x7fff_ffff_ffff_ffff), // denormal
    (0x0000, 0x8000_0000_0000_0005), // pseudo-denormal
    (0x3fff, 0x4000_0000_0000_0000), // unnormal
    (0x0001, 1 << 63),               // smallest normal
    (0x7ffe, u64::MAX),              // largest finite
    (0x7fff, 1 << 63),               // +inf
    (0xffff, 1 << 63),               // -inf
    (0x7fff, 0xc000_0000_0000_0000), // QNaN
    (0xffff, 0xc000_0000_0000_0000), // indefinite
    (0x7fff, 0x8000_0000_0000_0001), // SNaN
    (0x7fff, 0x4000_0000_0000_0000), // pseudo-NaN
    (0x7fff, 0),                     // pseudo-infinity
    (0x403e, 1 << 63),               // 2^63
    (0x401e, 0xffff_ffff_0000_0000), // near 2^32
    (0x407e, 0xffff_ff00_0000_0000), // f32 max
    (0x43fe, 0xffff_ffff_ffff_f800), // f64 max
    (0x3f81, 1 << 63),               // f32 min normal
    (0x3c01, 1 << 63),               // f64 min normal
    (0x3bcd, 1 << 63),               // f64 min denormal
    (0x3ffd, 0xb504_f333_f9de_6484), // 0.707
];

fn f80(r: &mut Rng) -> (u16, u64) {
    if r.next().is_multiple_of(8) {
        let x = r.next();
        // Random normals near 1, with a random sign.
        return (
            (0x3ff0 + (x % 32) as u16) | ((x >> 40) as u16 & 0x8000),
            r.next() | 1 << 63,
        );
    }
    r.pick(F80)
}

/// A valid MXCSR: random flags, DAZ, rounding and FTZ, masks mostly set.
fn mxcsr(r: &mut Rng) -> u32 {
    let x = r.next() as u32 & 0xffff;
    if r.next().is_multiple_of(4) {
        x
    } else {
        x | 0x1f80
    }
}

/// A FCW: random precision and rounding control, masks mostly set.
fn fcw(r: &mut Rng) -> u16 {
    let x = r.next() as u16;
    let x = if r.next().is_multiple_of(4) {
        x
    } else {
        x | 0x3f
    };
    // Bit 6 reads as 1 on FNSTCW; reserved bits as FNINIT leaves them.
    (x & 0x1f3f) | 0x0040
}

/// The initial x87/SSE state of an FP case.
pub(super) fn initial_state(seed: u64) -> FxState {
    let mut r = Rng::new(seed);
    let mut fx = crate::initial_fx();
    fx.fcw = if r.next().is_multiple_of(3) {
        0x037f
    } else {
        fcw(&mut r)
    };
    let top = (r.next() % 8) as u16;
    // Sticky exception flags only where masked (an unmasked one with ES
    // would fault at the first waiting instruction: also worth a case,
    // now and then).
    let flags = r.next() as u16 & 0x3f;
    let mut sticky = flags & fx.fcw & 0x3f;
    if r.next().is_multiple_of(16) {
        sticky = flags;
    }
    let es = if sticky & !fx.fcw & 0x3f != 0 {
        fsw::ES | fsw::B
    } else {
        0
    };
    fx.fsw = (top << fsw::TOP_SHIFT) | sticky | es | (r.next() as u16 & 0x4700);
    fx.ftw = match r.next() % 4 {
        0 => 0,
        1 => 0xff,
        _ => r.next() as u8,
    };
    for st in fx.st.iter_mut() {
        let (se, m) = f80(&mut r);
        *st = X87Reg {
            signif: m,
            sign_exp: se,
            reserved: [0; 6],
        };
    }
    fx.mxcsr = if r.next().is_multiple_of(3) {
        0x1f80
    } else {
        mxcsr(&mut r)
    };
    for x in fx.xmm.iter_mut() {
        fill_chunk(&mut r, x, false);
    }
    fx
}

/// 16 bytes of special values: four f32, two f64, an f80, control words
/// or random bytes.
fn fill_chunk(r: &mut Rng, c: &mut [u8; 16], control: bool) {
    let kind = r.next() % if control { 7 } else { 6 };
    match kind {
        0 | 1 => {
            for k in 0..4 {
                c[4 * k..4 * k + 4].copy_from_slice(&r.pick(F32).to_le_bytes());
            }
        }
        2 | 3 => {
            for k in 0..2 {
                c[8 * k..8 * k + 8].copy_from_slice(&r.pick(F64).to_le_bytes());
            }
        }
        4 => {
            let (se, m) = f80(r);
            c[..8].copy_from_slice(&m.to_le_bytes());
            c[8..10].copy_from_slice(&se.to_le_bytes());
            c[10..14].copy_from_slice(&r.pick(F32).to_le_bytes());
        }
        5 => c.copy_from_slice(&(u128::from(r.next()) << 64 | u128::from(r.next())).to_le_bytes()),
        _ => {
            // A valid MXCSR whose low half is a FCW, twice.
            let m = mxcsr(r);
            c[..4].copy_from_slice(&m.to_le_bytes());
            c[4..8].copy_from_slice(&u32::from(fcw(r)).to_le_bytes());
            c[8..12].copy_from_slice(&m.to_le_bytes());
            c[12..16].copy_from_slice(&r.pick(F32).to_le_bytes());
        }
    }
}

/// A data buffer of special values, 16 bytes at a time.
pub(super) fn data(seed: u64, data: &mut [u8]) {
    let mut r = Rng::new(seed);
    for chunk in data.chunks_exact_mut(16) {
        let mut c = [0u8; 16];
        fill_chunk(&mut r, &mut c, true);
        chunk.copy_from_slice(&c);
    }
}
