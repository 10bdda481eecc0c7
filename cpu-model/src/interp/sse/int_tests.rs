//! MMX, SSE and SSE2 integer instructions: the lane operations on values
//! computed by hand from the SDM's definitions, then the instructions
//! themselves (MMX state rules, availability, alignment, every move).
//! Its lane builders (`v`, `b`, `w`, `d`, `q`) serve the other SSE test
//! files too.

use super::super::super::tests::{asm, exec, exec_n, long64, prot32};
use super::super::mmx::tests::{mmx, put, set_mmx, transition_from_top5};
use super::{binary, movemask, shifted, shifted_bytes, shuffled, V};
use crate::exception::Exception;
use crate::fxstate::fsw;
use crate::state::{cr0, cr4};
use iced_x86::code_asm::*;
use iced_x86::Mnemonic::{self, *};

/// Little-endian lanes of `size` bytes into a 16-byte value.
pub(in crate::interp::sse) fn v(size: usize, lanes: &[u64]) -> V {
    let mut r = [0u8; 16];
    for (i, x) in lanes.iter().enumerate() {
        r[i * size..(i + 1) * size].copy_from_slice(&x.to_le_bytes()[..size]);
    }
    r
}

pub(in crate::interp::sse) fn b(lanes: &[u64]) -> V {
    v(1, lanes)
}
pub(in crate::interp::sse) fn w(lanes: &[u64]) -> V {
    v(2, lanes)
}
pub(in crate::interp::sse) fn d(lanes: &[u64]) -> V {
    v(4, lanes)
}
pub(in crate::interp::sse) fn q(lanes: &[u64]) -> V {
    v(8, lanes)
}

/// `m` on the XMM width (16 bytes).
fn x(m: Mnemonic, a: V, b: V) -> V {
    binary(m, &a, &b, 16)
}

/// `m` on the MMX width (8 bytes).
fn mm(m: Mnemonic, a: V, b: V) -> V {
    binary(m, &a, &b, 8)
}

#[test]
fn add_sub_wrap_and_saturate() {
    let a = b(&[0x7f, 0x80, 0xff, 0x01, 0x00, 0x80, 0x7f, 0xfe]);
    let c = b(&[0x01, 0xff, 0x01, 0x02, 0x01, 0x80, 0x81, 0xff]);
    assert_eq!(
        mm(Paddb, a, c),
        b(&[0x80, 0x7f, 0x00, 0x03, 0x01, 0x00, 0x00, 0xfd])
    );
    // Signed: 127 + 1 = 127, -128 + -1 = -128, -1 + 1 = 0, -128 + -128 =
    // -128, 127 + -127 = 0, -2 + -1 = -3.
    assert_eq!(
        mm(Paddsb, a, c),
        b(&[0x7f, 0x80, 0x00, 0x03, 0x01, 0x80, 0x00, 0xfd])
    );
    // Unsigned: 255 + 1 = 255, 128 + 255 = 255, 128 + 128 = 255.
    assert_eq!(
        mm(Paddusb, a, c),
        b(&[0x80, 0xff, 0xff, 0x03, 0x01, 0xff, 0xff, 0xff])
    );
    // 0 - 1 = 0 unsigned; 1 - 2 = 0; 127 - 129 = 0.
    assert_eq!(
        mm(Psubusb, a, c),
        b(&[0x7e, 0x00, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00])
    );
    // Signed: 127 - 1 = 126, -128 - -1 = -127, -1 - 1 = -2, 0 - 1 = -1,
    // -128 - -128 = 0, 127 - -127 = 127 (254 saturated), -2 - -1 = -1.
    assert_eq!(
        mm(Psubsb, a, c),
        b(&[0x7e, 0x81, 0xfe, 0xff, 0xff, 0x00, 0x7f, 0xff])
    );
    let a = w(&[0x7fff, 0x8000, 0xffff, 0x0001, 0x8000, 0x7fff, 0, 0xfffe]);
    let c = w(&[0x7fff, 0x0001, 0x0001, 0x0002, 0x8000, 0x8000, 1, 0x0001]);
    assert_eq!(
        x(Paddsw, a, c),
        w(&[0x7fff, 0x8001, 0, 3, 0x8000, 0xffff, 1, 0xffff])
    );
    assert_eq!(
        x(Psubsw, a, c),
        w(&[0, 0x8000, 0xfffe, 0xffff, 0, 0x7fff, 0xffff, 0xfffd])
    );
    assert_eq!(
        x(Paddusw, a, c),
        w(&[0xfffe, 0x8001, 0xffff, 3, 0xffff, 0xffff, 1, 0xffff])
    );
    assert_eq!(
        x(Psubusw, a, c),
        w(&[0, 0x7fff, 0xfffe, 0, 0, 0, 0, 0xfffd])
    );
    assert_eq!(
        x(Paddw, a, c),
        w(&[0xfffe, 0x8001, 0, 3, 0, 0xffff, 1, 0xffff])
    );
    // Doubleword and quadword lanes wrap; the carry does not cross lanes.
    let a = d(&[0xffff_ffff, 0x8000_0000, 1, 0]);
    let c = d(&[1, 0x8000_0000, 2, 0xffff_ffff]);
    assert_eq!(x(Paddd, a, c), d(&[0, 0, 3, 0xffff_ffff]));
    assert_eq!(x(Psubd, a, c), d(&[0xffff_fffe, 0, 0xffff_ffff, 1]));
    let a = q(&[u64::MAX, 5]);
    let c = q(&[1, 7]);
    assert_eq!(x(Paddq, a, c), q(&[0, 12]));
    assert_eq!(x(Psubq, a, c), q(&[u64::MAX - 1, u64::MAX - 1]));
    // MMX width: the upper 8 bytes are not computed.
    assert_eq!(mm(Paddq, a, c), q(&[0, 0]));
}

#[test]
fn multiplies() {
    let a = w(&[0x8000, 0xffff, 0x7fff, 3, 0x8000, 0xffff, 0x1234, 0]);
    let c = w(&[0x8000, 0xffff, 0x7fff, 0xfffe, 0x7fff, 2, 0x10, 9]);
    // Low words: 0x4000_0000, 0xfffe_0001 (unsigned), 0x3fff_0001, 3 *
    // 0xfffe = 0x2_fffa, ..., 0x1234 * 0x10 = 0x1_2340.
    assert_eq!(
        x(Pmullw, a, c),
        w(&[0, 0x0001, 0x0001, 0xfffa, 0x8000, 0xfffe, 0x2340, 0])
    );
    // Signed high words: -32768 * -32768 = 0x4000_0000; -1 * -1 = 1;
    // 3 * -2 = -6 (high word all ones); -32768 * 32767 = 0xc000_8000.
    assert_eq!(
        x(Pmulhw, a, c),
        w(&[0x4000, 0, 0x3fff, 0xffff, 0xc000, 0xffff, 0x0001, 0])
    );
    // Unsigned high words: 0xffff * 0xffff = 0xfffe_0001; 3 * 0xfffe =
    // 0x2_fffa; 0xffff * 2 = 0x1_fffe.
    assert_eq!(
        x(Pmulhuw, a, c),
        w(&[0x4000, 0xfffe, 0x3fff, 2, 0x3fff, 1, 0x0001, 0])
    );
    // PMULUDQ: the low doublewords of each quadword, unsigned, 64-bit
    // product.
    let a = d(&[0xffff_ffff, 0x1234, 0x8000_0000, 7]);
    let c = d(&[0xffff_ffff, 0x5678, 2, 9]);
    assert_eq!(x(Pmuludq, a, c), q(&[0xffff_fffe_0000_0001, 0x1_0000_0000]));
    assert_eq!(mm(Pmuludq, a, c), q(&[0xffff_fffe_0000_0001, 0]));
    // PMADDWD: 8000H * 8000H + 8000H * 8000H = 8000_0000H (wraps, as the
    // SDM says); -1 * 1 + 2 * 3 = 5; 32767 * 32767 + -32768 * 1.
    let a = w(&[0x8000, 0x8000, 0xffff, 2, 0x7fff, 0x8000, 0, 0]);
    let c = w(&[0x8000, 0x8000, 1, 3, 0x7fff, 1, 0, 0]);
    assert_eq!(
        x(Pmaddwd, a, c),
        d(&[0x8000_0000, 5, 0x3fff_0001u64.wrapping_sub(0x8000), 0])
    );
}

#[test]
fn logic_compares_averages_min_max_sad() {
    let a = q(&[0xff00_ff00_f0f0_1234, 0x0123_4567_89ab_cdef]);
    let c = q(&[0x0ff0_0ff0_ffff_0000, 0xffff_0000_ffff_0000]);
    assert_eq!(
        x(Pand, a, c),
        q(&[0x0f00_0f00_f0f0_0000, 0x0123_0000_89ab_0000])
    );
    assert_eq!(
        x(Pandn, a, c),
        q(&[0x00f0_00f0_0f0f_0000, 0xfedc_0000_7654_0000])
    );
    assert_eq!(
        x(Por, a, c),
        q(&[0xfff0_fff0_ffff_1234, 0xffff_4567_ffff_cdef])
    );
    assert_eq!(
        x(Pxor, a, c),
        q(&[0xf0f0_f0f0_0f0f_1234, 0xfedc_4567_7654_cdef])
    );
    let a = b(&[0x80, 0x7f, 0x00, 0xff, 5, 5, 0x01, 0xfe]);
    let c = b(&[0x7f, 0x80, 0x00, 0x00, 5, 6, 0xff, 0xff]);
    assert_eq!(mm(Pcmpeqb, a, c), b(&[0, 0, 0xff, 0, 0xff, 0, 0, 0]));
    // Signed: -128 > 127 no; 127 > -128 yes; -1 > 0 no; 1 > -1 yes.
    assert_eq!(mm(Pcmpgtb, a, c), b(&[0, 0xff, 0, 0, 0, 0, 0xff, 0]));
    let a = w(&[0x8000, 1, 0xffff, 7]);
    let c = w(&[0x7fff, 1, 0, 8]);
    assert_eq!(mm(Pcmpeqw, a, c), w(&[0, 0xffff, 0, 0]));
    assert_eq!(mm(Pcmpgtw, a, c), w(&[0, 0, 0, 0]));
    assert_eq!(mm(Pcmpgtw, c, a), w(&[0xffff, 0, 0xffff, 0xffff]));
    let a = d(&[0x8000_0000, 3, 0xffff_ffff, 0]);
    let c = d(&[0x7fff_ffff, 3, 0xffff_fffe, 0]);
    assert_eq!(x(Pcmpeqd, a, c), d(&[0, 0xffff_ffff, 0, 0xffff_ffff]));
    assert_eq!(x(Pcmpgtd, a, c), d(&[0, 0, 0xffff_ffff, 0]));
    // Averages round up: (255 + 255 + 1) >> 1 = 255, (0 + 1 + 1) >> 1 = 1.
    let a = b(&[0xff, 0, 2, 0x80, 0, 0, 0, 0]);
    let c = b(&[0xff, 1, 3, 0x7f, 0, 0, 0, 0]);
    assert_eq!(mm(Pavgb, a, c), b(&[0xff, 1, 3, 0x80, 0, 0, 0, 0]));
    let a = w(&[0xffff, 0, 0x8000, 1]);
    let c = w(&[0xffff, 1, 0x8001, 1]);
    assert_eq!(mm(Pavgw, a, c), w(&[0xffff, 1, 0x8001, 1]));
    // Min/max: PMAXSW/PMINSW signed words, PMAXUB/PMINUB unsigned bytes.
    let a = w(&[0x8000, 0x7fff, 0xffff, 5]);
    let c = w(&[0x0001, 0x8000, 0x0000, 5]);
    assert_eq!(mm(Pmaxsw, a, c), w(&[1, 0x7fff, 0, 5]));
    assert_eq!(mm(Pminsw, a, c), w(&[0x8000, 0x8000, 0xffff, 5]));
    let a = b(&[0x80, 0x7f, 0xff, 0, 1, 2, 3, 4]);
    let c = b(&[0x7f, 0x80, 0x00, 0, 4, 3, 2, 1]);
    assert_eq!(mm(Pmaxub, a, c), b(&[0x80, 0x80, 0xff, 0, 4, 3, 3, 4]));
    assert_eq!(mm(Pminub, a, c), b(&[0x7f, 0x7f, 0, 0, 1, 2, 2, 1]));
    // PSADBW: |0-255| * 8 = 2040 = 7F8H in the low word of each quadword;
    // 1+1+3+3+0+... for the second.
    let a = b(&[0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9, 9]);
    let c = b(&[
        255, 255, 255, 255, 255, 255, 255, 255, 2, 1, 6, 1, 9, 9, 9, 9,
    ]);
    assert_eq!(x(Psadbw, a, c), q(&[0x7f8, 8]));
    assert_eq!(mm(Psadbw, a, c), q(&[0x7f8, 0]));
}

#[test]
fn packs_and_unpacks() {
    // Words 256, -256, 0x42, -1 | 0x7f, 0x80, -128, -129.
    let a = w(&[0x0100, 0xff00, 0x0042, 0xffff]);
    let c = w(&[0x007f, 0x0080, 0xff80, 0xff7f]);
    assert_eq!(
        mm(Packsswb, a, c),
        b(&[0x7f, 0x80, 0x42, 0xff, 0x7f, 0x7f, 0x80, 0x80])
    );
    assert_eq!(
        mm(Packuswb, a, c),
        b(&[0xff, 0x00, 0x42, 0x00, 0x7f, 0x80, 0x00, 0x00])
    );
    let a = d(&[0x0001_0000, 0xffff_0000, 0x7fff, 0xffff_8000]);
    let c = d(&[0x8000, 0xffff_7fff, 1, 0xffff_ffff]);
    assert_eq!(
        x(Packssdw, a, c),
        w(&[0x7fff, 0x8000, 0x7fff, 0x8000, 0x7fff, 0x8000, 1, 0xffff])
    );
    assert_eq!(mm(Packssdw, a, c), w(&[0x7fff, 0x8000, 0x7fff, 0x8000]));
    let a = b(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    let c = b(&[
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
        0x1f,
    ]);
    assert_eq!(
        mm(Punpcklbw, a, c),
        b(&[0, 0x10, 1, 0x11, 2, 0x12, 3, 0x13])
    );
    assert_eq!(
        mm(Punpckhbw, a, c),
        b(&[4, 0x14, 5, 0x15, 6, 0x16, 7, 0x17])
    );
    assert_eq!(
        x(Punpckhbw, a, c),
        b(&[8, 0x18, 9, 0x19, 10, 0x1a, 11, 0x1b, 12, 0x1c, 13, 0x1d, 14, 0x1e, 15, 0x1f])
    );
    assert_eq!(mm(Punpcklwd, a, c), w(&[0x0100, 0x1110, 0x0302, 0x1312]));
    assert_eq!(
        x(Punpckhwd, a, c),
        w(&[0x0908, 0x1918, 0x0b0a, 0x1b1a, 0x0d0c, 0x1d1c, 0x0f0e, 0x1f1e])
    );
    assert_eq!(mm(Punpckldq, a, c), d(&[0x0302_0100, 0x1312_1110]));
    assert_eq!(mm(Punpckhdq, a, c), d(&[0x0706_0504, 0x1716_1514]));
    assert_eq!(
        x(Punpckldq, a, c),
        d(&[0x0302_0100, 0x1312_1110, 0x0706_0504, 0x1716_1514])
    );
    assert_eq!(
        x(Punpcklqdq, a, c),
        q(&[0x0706_0504_0302_0100, 0x1716_1514_1312_1110])
    );
    assert_eq!(
        x(Punpckhqdq, a, c),
        q(&[0x0f0e_0d0c_0b0a_0908, 0x1f1e_1d1c_1b1a_1918])
    );
}

#[test]
fn shifts_and_counts_beyond_the_width() {
    let a = w(&[0x8001, 0x7fff, 0xffff, 0x0100, 0x8000, 1, 2, 3]);
    assert_eq!(
        shifted(Psllw, &a, 1, 16),
        w(&[0x0002, 0xfffe, 0xfffe, 0x0200, 0, 2, 4, 6])
    );
    assert_eq!(shifted(Psllw, &a, 15, 8), w(&[0x8000, 0x8000, 0x8000, 0]));
    assert_eq!(shifted(Psllw, &a, 16, 16), [0; 16]);
    assert_eq!(shifted(Psrlw, &a, 15, 8), w(&[1, 0, 1, 0]));
    assert_eq!(shifted(Psrlw, &a, 16, 8), [0; 16]);
    // Arithmetic: a count of 16 or more fills each word with its sign.
    assert_eq!(
        shifted(Psraw, &a, 4, 8),
        w(&[0xf800, 0x07ff, 0xffff, 0x0010])
    );
    let fill = w(&[0xffff, 0, 0xffff, 0, 0xffff, 0, 0, 0]);
    assert_eq!(shifted(Psraw, &a, 16, 16), fill);
    assert_eq!(shifted(Psraw, &a, u64::MAX, 16), fill);
    let a = d(&[0x8000_0001, 0x4000_0000, 0xffff_ffff, 1]);
    assert_eq!(
        shifted(Pslld, &a, 31, 16),
        d(&[0x8000_0000, 0, 0x8000_0000, 0x8000_0000])
    );
    assert_eq!(shifted(Pslld, &a, 32, 16), [0; 16]);
    assert_eq!(shifted(Psrld, &a, 30, 16), d(&[2, 1, 3, 0]));
    assert_eq!(
        shifted(Psrad, &a, 32, 16),
        d(&[0xffff_ffff, 0, 0xffff_ffff, 0])
    );
    assert_eq!(
        shifted(Psrad, &a, 1, 16),
        d(&[0xc000_0000, 0x2000_0000, 0xffff_ffff, 0])
    );
    let a = q(&[0x8000_0000_0000_0001, 3]);
    assert_eq!(shifted(Psllq, &a, 63, 16), q(&[1 << 63, 1 << 63]));
    assert_eq!(shifted(Psllq, &a, 64, 16), [0; 16]);
    assert_eq!(shifted(Psrlq, &a, 63, 8), q(&[1, 0]));
    assert_eq!(shifted(Psrlq, &a, 1 << 32, 16), [0; 16]);
    // Byte shifts of the whole register.
    let a = b(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    assert_eq!(
        shifted_bytes(true, &a, 3),
        b(&[0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    );
    assert_eq!(
        shifted_bytes(false, &a, 15),
        b(&[16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    );
    assert_eq!(shifted_bytes(false, &a, 16), [0; 16]);
    assert_eq!(shifted_bytes(true, &a, 255), [0; 16]);
    assert_eq!(shifted_bytes(true, &a, 0), a);
}

#[test]
fn shuffles_and_masks() {
    let a = w(&[0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17]);
    // 1BH = 00 01 10 11: reversed.
    assert_eq!(
        shuffled(Pshuflw, &a, 0x1b),
        w(&[0x13, 0x12, 0x11, 0x10, 0x14, 0x15, 0x16, 0x17])
    );
    assert_eq!(
        shuffled(Pshufhw, &a, 0x1b),
        w(&[0x10, 0x11, 0x12, 0x13, 0x17, 0x16, 0x15, 0x14])
    );
    assert_eq!(shuffled(Pshufw, &a, 0x00), w(&[0x10, 0x10, 0x10, 0x10]));
    assert_eq!(shuffled(Pshufw, &a, 0xe4), w(&[0x10, 0x11, 0x12, 0x13]));
    let a = d(&[0xa, 0xb, 0xc, 0xd]);
    assert_eq!(shuffled(Pshufd, &a, 0x1b), d(&[0xd, 0xc, 0xb, 0xa]));
    assert_eq!(shuffled(Pshufd, &a, 0x55), d(&[0xb, 0xb, 0xb, 0xb]));
    let a = b(&[
        0x80, 0x7f, 0xff, 0, 0, 0, 0, 0x80, 1, 0x81, 0, 0, 0, 0, 0, 0xfe,
    ]);
    assert_eq!(movemask(&a, 16), 0x8285);
    assert_eq!(movemask(&a, 8), 0x85);
}

// --- the instructions ---

#[test]
fn packed_mmx_operands_through_top_then_emms() {
    // MM1 = R1 = ST(4), MM2 = R2 = ST(5): 0x104 + 0x105 = 0x209.
    transition_from_top5(|a| a.paddb(mm1, mm2), 0x209);
}

#[test]
fn mmx_instructions_that_write_no_mmx_register_still_switch() {
    // PMOVMSKB, PEXTRW, MOVD r/m32 and a store: TOP := 0 and all valid,
    // no exponent written.
    let code = asm(32, |a| {
        a.pmovmskb(eax, mm3)?;
        a.pextrw(ebx, mm3, 2)?;
        a.movd(ecx, mm3)?;
        a.movq(qword_ptr(0x3000), mm3)?;
        a.movntq(qword_ptr(0x3008), mm3)
    });
    let (mut cpu, mut bus) = prot32(&code);
    for k in 0..5 {
        cpu.state.fx.fsw = 2 << fsw::TOP_SHIFT;
        cpu.state.fx.ftw = 0x0f;
        // MM3 = R3 = ST(1).
        cpu.state.fx.st = Default::default();
        cpu.state.fx.st[1].signif = 0x8012_3456_7890_80ff;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.fx.top(), cpu.state.fx.ftw), (0, 0xff), "{k}");
        assert_eq!(mmx(&cpu, 3), 0x8012_3456_7890_80ff);
        assert_eq!(cpu.state.fx.st[3].sign_exp, 0, "{k}: not written");
    }
    assert_eq!(cpu.state.gpr[0], 0b1000_0111);
    assert_eq!(cpu.state.gpr[3], 0x3456);
    assert_eq!(cpu.state.gpr[1], 0x7890_80ff);
    assert_eq!(
        &bus.ram[0x3000..0x3008],
        &0x8012_3456_7890_80ffu64.to_le_bytes()
    );
    assert_eq!(
        &bus.ram[0x3008..0x3010],
        &0x8012_3456_7890_80ffu64.to_le_bytes()
    );
}

#[test]
fn availability_of_the_mmx_and_xmm_forms() {
    // MMX forms: no CR4.OSFXSR needed, #UD with CR0.EM, #NM with CR0.TS,
    // #MF for a pending x87 exception (see mmx_tests for the details).
    let code = asm(32, |a| a.paddb(mm0, mm1));
    for (c0, status, want) in [
        (0, 0, None),
        (cr0::EM | cr0::TS, 0, Some(Exception::UD)),
        (cr0::TS, 0, Some(Exception::NM)),
        (cr0::NE, fsw::ES | 1, Some(Exception::MF)),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr0 |= c0;
        cpu.state.fx.fsw = status | (3 << fsw::TOP_SHIFT);
        let got = exec(&mut cpu, &mut bus).err();
        assert_eq!(got, want.map(crate::Fault::from), "{c0:#x}");
        let top = if want.is_none() { 0 } else { 3 };
        assert_eq!(cpu.state.fx.top(), top);
    }
    // The SSE and SSE2 forms on MMX registers (PSHUFW, PAVGB, PMULUDQ mm)
    // do not need CR4.OSFXSR either; the XMM forms do.
    let code = asm(32, |a| {
        a.pshufw(mm0, mm1, 0)?;
        a.pavgb(mm0, mm1)?;
        a.pmuludq(mm0, mm1)
    });
    let (mut cpu, mut bus) = prot32(&code);
    exec_n(&mut cpu, &mut bus, 3);
    for code in [
        asm(32, |a| a.paddb(xmm0, xmm1)),
        asm(32, |a| a.pslldq(xmm0, 1)),
        asm(32, |a| a.pmovmskb(eax, xmm1)),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        cpu.state.cr4 |= cr4::OSFXSR;
        cpu.state.cr0 |= cr0::TS;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::NM.into()));
        cpu.state.cr0 &= !cr0::TS;
        exec(&mut cpu, &mut bus).unwrap();
    }
    // The XMM forms ignore a pending x87 exception and leave TOP alone.
    let code = asm(32, |a| a.paddb(xmm0, xmm1));
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.cr0 |= cr0::NE;
    cpu.state.fx.fsw = fsw::ES | 1 | (4 << fsw::TOP_SHIFT);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.top(), 4, "no MMX transition");
}

#[test]
fn a_faulting_packed_mmx_instruction_changes_no_x87_state() {
    // A non-canonical m64: #GP(0), TOP and tags as they were.
    let code = asm(64, |a| a.paddw(mm0, qword_ptr(rax)));
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.gpr[0] = 0x8000_0000_0000_0000;
    cpu.state.fx.fsw = 7 << fsw::TOP_SHIFT;
    cpu.state.fx.ftw = 0x01;
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    assert_eq!((cpu.state.fx.top(), cpu.state.fx.ftw), (7, 0x01));
}

#[test]
fn alignment_of_xmm_memory_operands() {
    let misaligned = [
        asm(32, |a| a.paddb(xmm0, xmmword_ptr(0x3004))),
        asm(32, |a| a.psllw(xmm0, xmmword_ptr(0x3004))),
        asm(32, |a| a.punpcklbw(xmm0, xmmword_ptr(0x3008))),
        asm(32, |a| a.pshufd(xmm0, xmmword_ptr(0x3001), 0)),
        asm(32, |a| a.psadbw(xmm0, xmmword_ptr(0x3002))),
        asm(32, |a| a.movntdq(xmmword_ptr(0x3008), xmm0)),
    ];
    for code in misaligned {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr4 |= cr4::OSFXSR;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    }
    // MMX m64, MOVQ/MOVD and PINSRW have no alignment rule; aligned m128
    // is fine.
    let fine = [
        asm(32, |a| a.paddb(mm0, qword_ptr(0x3004))),
        asm(32, |a| a.punpcklbw(mm0, dword_ptr(0x3001))),
        asm(32, |a| a.movq(xmm0, qword_ptr(0x3004))),
        asm(32, |a| a.movq(qword_ptr(0x3003), xmm0)),
        asm(32, |a| a.movd(xmm0, dword_ptr(0x3001))),
        asm(32, |a| a.pinsrw(xmm0, word_ptr(0x3001), 3)),
        asm(32, |a| a.paddb(xmm0, xmmword_ptr(0x3010))),
        asm(32, |a| a.movntdq(xmmword_ptr(0x3010), xmm0)),
    ];
    for code in fine {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr4 |= cr4::OSFXSR;
        exec(&mut cpu, &mut bus).unwrap();
    }
}

#[test]
fn packed_instructions_on_both_files() {
    let code = asm(32, |a| {
        a.paddusb(mm0, qword_ptr(0x3000))?;
        a.paddusb(xmm0, xmmword_ptr(0x3000))?;
        a.punpcklwd(mm1, dword_ptr(0x3000))?;
        a.psllq(mm2, 4)?;
        a.psrlw(xmm2, xmm3)?;
        a.psraw(mm3, qword_ptr(0x3010))?;
        a.pslldq(xmm4, 2)?;
        a.pshufd(xmm5, xmmword_ptr(0x3000), 0x1b)?;
        a.pinsrw(mm5, eax, 6)?; // word 2 (imm8[1:0])
        a.pinsrw(xmm6, word_ptr(0x3002), 9)?; // word 1 (imm8[2:0])
        a.pextrw(ecx, xmm0, 15)?; // word 7
        a.pmovmskb(edx, xmm0)
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    let m: Vec<u8> = (0..16u8).map(|i| 0xf8u8.wrapping_add(i)).collect(); // f8..ff, 00..07
    put(&mut bus, 0x3000, &m);
    put(&mut bus, 0x3010, &17u64.to_le_bytes());
    set_mmx(&mut cpu, 0, 0x0101_0101_0101_0101);
    cpu.state.fx.xmm[0] = [0x01; 16];
    set_mmx(&mut cpu, 1, 0xaaaa_bbbb_cccc_dddd);
    set_mmx(&mut cpu, 2, 0x0fed_cba9_8765_4321);
    cpu.state.fx.xmm[2] = w(&[0x8000, 0xffff, 1, 2, 3, 4, 5, 0x7fff]);
    cpu.state.fx.xmm[3] = q(&[15, 0xffff]);
    set_mmx(&mut cpu, 3, 0x8000_7fff_ffff_0001);
    cpu.state.fx.xmm[4] = b(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    set_mmx(&mut cpu, 5, 0);
    cpu.state.gpr[0] = 0xdead_beef;
    cpu.state.gpr[1] = u64::MAX;
    exec_n(&mut cpu, &mut bus, 12);
    // F8+1 .. FE+1, FF+1 saturates; the XMM form, and 00..07 + 1.
    assert_eq!(mmx(&cpu, 0), 0xffff_fefd_fcfb_faf9);
    assert_eq!(
        cpu.state.fx.xmm[0],
        b(&[0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8])
    );
    // Low words of MM1 (dddd, cccc) with those of m32 (f9f8, fbfa).
    assert_eq!(mmx(&cpu, 1), 0xfbfa_cccc_f9f8_dddd);
    assert_eq!(mmx(&cpu, 2), 0xfedc_ba98_7654_3210);
    assert_eq!(cpu.state.fx.xmm[2], w(&[1, 1, 0, 0, 0, 0, 0, 0]));
    assert_eq!(mmx(&cpu, 3), 0xffff_0000_ffff_0000);
    assert_eq!(
        cpu.state.fx.xmm[4],
        b(&[0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
    );
    assert_eq!(
        cpu.state.fx.xmm[5],
        d(&[0x0706_0504, 0x0302_0100, 0xfffe_fdfc, 0xfbfa_f9f8])
    );
    assert_eq!(mmx(&cpu, 5), 0x0000_beef_0000_0000);
    assert_eq!(cpu.state.fx.xmm[6], w(&[0, 0xfbfa, 0, 0, 0, 0, 0, 0]));
    assert_eq!(cpu.state.gpr[1], 0x0807);
    // Bytes f9..ff, ff have the top bit; 1..8 do not.
    assert_eq!(cpu.state.gpr[2], 0x00ff);
}

#[test]
fn masked_stores_and_non_temporal_stores() {
    // MASKMOVQ to DS:EDI in 32-bit code; MASKMOVDQU with a 32-bit address
    // size (67H) in 64-bit mode uses EDI, not RDI.
    let code = asm(32, |a| a.maskmovq(mm0, mm1));
    let (mut cpu, mut bus) = prot32(&code);
    put(&mut bus, 0x3000, &[0xee; 16]);
    cpu.state.gpr[7] = 0x3002;
    set_mmx(&mut cpu, 0, 0x8877_6655_4433_2211);
    set_mmx(&mut cpu, 1, 0x8000_80ff_007f_0180);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(
        &bus.ram[0x3000..0x300c],
        &[0xee, 0xee, 0x11, 0xee, 0xee, 0xee, 0x55, 0x66, 0xee, 0x88, 0xee, 0xee]
    );
    assert_eq!((cpu.state.fx.top(), cpu.state.fx.ftw), (0, 0xff));

    let code = [0x67, 0x66, 0x0f, 0xf7, 0xc1]; // maskmovdqu xmm0, xmm1 (EDI)
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    put(&mut bus, 0x3000, &[0x55; 16]);
    cpu.state.gpr[7] = 0xffff_ffff_0000_3000;
    cpu.state.fx.xmm[0] = b(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    cpu.state.fx.xmm[1] = b(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    exec(&mut cpu, &mut bus).unwrap();
    let mut want = [0x55; 16];
    want[0] = 1;
    want[14] = 15;
    want[15] = 16;
    assert_eq!(&bus.ram[0x3000..0x3010], &want);

    // A fault stores nothing: the last selected byte is beyond the 4 GiB
    // limit of the flat segment, the first is not.
    let code = asm(32, |a| a.maskmovq(mm0, mm1));
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.gpr[7] = 0xffff_fffc;
    set_mmx(&mut cpu, 1, 0x8000_0000_0000_0080);
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    // The whole operand is checked whatever the mask; an all-zero mask
    // stores nothing.
    set_mmx(&mut cpu, 1, 0x7f7f_7f7f_7f7f_7f7f);
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    cpu.state.gpr[7] = 0x3000;
    put(&mut bus, 0x3000, &[0xee; 8]);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(&bus.ram[0x3000..0x3008], &[0xee; 8]);

    // Alignment checking at CPL 3: #AC unless the address is 8-byte
    // aligned (MASKMOVQ's size; the SDM's rule for unaligned 128-bit
    // accesses for MASKMOVDQU), mask or no mask. MMX m64 operands too.
    for (code, at, want) in [
        (
            asm(32, |a| a.maskmovq(mm0, mm1)),
            0x3004,
            Some(Exception::AC),
        ),
        (asm(32, |a| a.maskmovq(mm0, mm1)), 0x3008, None),
        (asm(32, |a| a.maskmovdqu(xmm0, xmm1)), 0x3008, None),
        (
            asm(32, |a| a.maskmovdqu(xmm0, xmm1)),
            0x3002,
            Some(Exception::AC),
        ),
        (
            asm(32, |a| a.paddb(mm0, qword_ptr(edi))),
            0x3004,
            Some(Exception::AC),
        ),
        (asm(32, |a| a.paddb(mm0, qword_ptr(edi))), 0x3008, None),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr4 |= cr4::OSFXSR;
        cpu.state.cr0 |= cr0::AM;
        cpu.state.rflags |= crate::flags::AC;
        cpu.state.seg[crate::state::SegReg::Cs as usize].selector |= 3;
        cpu.state.gpr[7] = at;
        let got = exec(&mut cpu, &mut bus).err();
        assert_eq!(got, want.map(crate::Fault::from), "{at:#x}");
    }

    let code = asm(32, |a| {
        a.movntq(qword_ptr(0x3001), mm2)?;
        a.movntdq(xmmword_ptr(0x3010), xmm2)
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    set_mmx(&mut cpu, 2, 0x0807_0605_0403_0201);
    cpu.state.fx.xmm[2] = [0xab; 16];
    exec_n(&mut cpu, &mut bus, 2);
    assert_eq!(&bus.ram[0x3001..0x3009], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&bus.ram[0x3010..0x3020], &[0xab; 16]);
}
