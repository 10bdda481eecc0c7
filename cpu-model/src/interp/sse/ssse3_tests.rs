//! SSSE3: the lane operations on values worked out by hand from the SDM's
//! definitions (edge lanes: saturation, the most negative values, PSHUFB's
//! zeroing bit, PMULHRSW's rounding, PALIGNR beyond the operands), then
//! the instructions (MMX state rules, availability, alignment).

use super::super::super::tests::{asm, exec, exec_n, prot32};
use super::super::int::tests::{b, d, w};
use super::super::int::V;
use super::super::mmx::tests::{mmx, put, set_mmx, transition_from_top5};
use super::{absolute, align_right, binary};
use crate::exception::Exception;
use crate::fxstate::fsw;
use crate::state::{cr0, cr4};
use iced_x86::code_asm::*;
use iced_x86::Mnemonic::{self, *};

/// SSSE3's `m` on the XMM width (16 bytes) and the MMX width (8 bytes).
fn x(m: Mnemonic, a: V, c: V) -> V {
    binary(m, &a, &c, 16)
}
fn mm(m: Mnemonic, a: V, c: V) -> V {
    binary(m, &a, &c, 8)
}

#[test]
fn pshufb_selects_or_zeroes() {
    let a = b(&[
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
        0x1f,
    ]);
    // Bit 7 set: 0 (80H, FFH, 8FH); else the low 4 bits (XMM) select:
    // 1FH selects byte 15, 70H byte 0.
    let sel = b(&[
        0x0f, 0x80, 0x00, 0xff, 0x1f, 0x70, 0x8f, 0x07, 0x09, 0x03, 0x7f, 0x41, 0x0a, 0x0b, 0x00,
        0x01,
    ]);
    assert_eq!(
        x(Pshufb, a, sel),
        b(
            &[
                0x1f, 0, 0x10, 0, 0x1f, 0x10, 0, 0x17, 0x19, 0x13, 0x1f, 0x11, 0x1a, 0x1b, 0x10,
                0x11
            ]
        )
    );
    // MMX: the low 3 bits select among the 8 bytes (0FH selects byte 7,
    // 1FH too, 09H byte 1); the upper 8 bytes are not computed.
    assert_eq!(
        mm(Pshufb, a, sel),
        b(&[0x17, 0, 0x10, 0, 0x17, 0x10, 0, 0x17])
    );
}

#[test]
fn horizontal_adds_and_subtracts() {
    let a = w(&[1, 2, 0x7fff, 1, 0x8000, 0xffff, 0x8000, 0x8000]);
    let c = w(&[10, 0xfffe, 0x7fff, 0x7fff, 0x8000, 1, 5, 3]);
    // Pair sums of a, then of c; wrapping, then saturating.
    assert_eq!(
        x(Phaddw, a, c),
        w(&[3, 0x8000, 0x7fff, 0, 8, 0xfffe, 0x8001, 8])
    );
    assert_eq!(
        x(Phaddsw, a, c),
        w(&[3, 0x7fff, 0x8000, 0x8000, 8, 0x7fff, 0x8001, 8])
    );
    // Even minus odd: 1 - 2, 32767 - 1, -32768 - -1, -32768 - -32768;
    // 10 - -2, 0, -32768 - 1 (wraps to 7FFFH, saturates to 8000H), 2.
    assert_eq!(
        x(Phsubw, a, c),
        w(&[0xffff, 0x7ffe, 0x8001, 0, 12, 0, 0x7fff, 2])
    );
    assert_eq!(
        x(Phsubsw, a, c),
        w(&[0xffff, 0x7ffe, 0x8001, 0, 12, 0, 0x8000, 2])
    );
    // MMX: two pairs of a, two of c.
    assert_eq!(mm(Phaddw, a, c), w(&[3, 0x8000, 8, 0xfffe]));
    assert_eq!(mm(Phaddsw, a, c), w(&[3, 0x7fff, 8, 0x7fff]));
    assert_eq!(mm(Phsubsw, a, c), w(&[0xffff, 0x7ffe, 12, 0]));
    let a = d(&[0xffff_ffff, 1, 0x8000_0000, 0x8000_0000]);
    let c = d(&[0x7fff_ffff, 0xffff_ffff, 3, 5]);
    assert_eq!(x(Phaddd, a, c), d(&[0, 0, 0x7fff_fffe, 8]));
    assert_eq!(
        x(Phsubd, a, c),
        d(&[0xffff_fffe, 0, 0x8000_0000, 0xffff_fffe])
    );
    assert_eq!(mm(Phaddd, a, c), d(&[0, 0x7fff_fffe]));
    assert_eq!(mm(Phsubd, a, c), d(&[0xffff_fffe, 0x8000_0000]));
}

#[test]
fn pmaddubsw_saturates() {
    // Unsigned bytes of the destination, signed bytes of the source:
    // 255 * 127 * 2 = 64770 and 255 * -128 * 2 = -65280 saturate; 1 * -1
    // + 2 * 3 = 5; 128 * -1 = -128; 3 * 16 + 4 * -16 = -16.
    let a = b(&[0xff, 0xff, 0xff, 0xff, 1, 2, 0x80, 0, 3, 4]);
    let c = b(&[0x7f, 0x7f, 0x80, 0x80, 0xff, 3, 0xff, 0, 0x10, 0xf0]);
    assert_eq!(
        x(Pmaddubsw, a, c),
        w(&[0x7fff, 0x8000, 5, 0xff80, 0xfff0, 0, 0, 0])
    );
    assert_eq!(mm(Pmaddubsw, a, c), w(&[0x7fff, 0x8000, 5, 0xff80]));
}

#[test]
fn pmulhrsw_rounds() {
    // ((a * b >> 14) + 1) >> 1: -32768 * -32768 gives 8000H back; half an
    // LSB rounds up (1 * 4000H), minus half an LSB to 0 (-1 * 4000H) and
    // -4095.5 to -4096.
    let a = w(&[0x8000, 0x4000, 1, 0x7fff, 0x8000, 0xffff, 3, 0x2000]);
    let c = w(&[
        0x8000, 0x4000, 0x4000, 0x7fff, 0x7fff, 0x4000, 0x5555, 0xc000,
    ]);
    assert_eq!(
        x(Pmulhrsw, a, c),
        w(&[0x8000, 0x2000, 1, 0x7ffe, 0x8001, 0, 2, 0xf000])
    );
    assert_eq!(mm(Pmulhrsw, a, c), w(&[0x8000, 0x2000, 1, 0x7ffe]));
}

#[test]
fn psign_and_pabs() {
    // Negated where the source is negative (-128 stays 80H), zeroed where
    // it is 0, kept where positive.
    let a = b(&[5, 0x80, 0x80, 7, 0xff, 0, 9, 9, 1, 1, 1, 1, 1, 1, 1, 0x42]);
    let c = b(&[
        0xff, 0xff, 1, 0, 0x80, 0x80, 0x7f, 1, 0, 0, 0, 0, 0, 0, 0, 0x80,
    ]);
    assert_eq!(
        x(Psignb, a, c),
        b(&[0xfb, 0x80, 0x80, 0, 1, 0, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0xbe])
    );
    assert_eq!(mm(Psignb, a, c), b(&[0xfb, 0x80, 0x80, 0, 1, 0, 9, 9]));
    let a = w(&[0x8000, 3, 3, 3]);
    let c = w(&[0xffff, 0x8000, 0, 0x7fff]);
    assert_eq!(mm(Psignw, a, c), w(&[0x8000, 0xfffd, 0, 3]));
    let a = d(&[0x8000_0000, 3, 0xffff_ffff, 7]);
    let c = d(&[0x8000_0000, 0, 0xffff_ffff, 1]);
    assert_eq!(x(Psignd, a, c), d(&[0x8000_0000, 0, 1, 7]));
    // Absolute values as unsigned: -128 is 80H (128).
    let s = b(&[
        0x80, 0x7f, 0xff, 0, 0x81, 1, 0, 0, 0xfe, 0, 0, 0, 0, 0, 0, 0x80,
    ]);
    assert_eq!(
        absolute(Pabsb, &s, 16),
        b(&[0x80, 0x7f, 1, 0, 0x7f, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0x80])
    );
    assert_eq!(
        absolute(Pabsb, &s, 8),
        b(&[0x80, 0x7f, 1, 0, 0x7f, 1, 0, 0])
    );
    let s = w(&[0x8000, 0xffff, 0x7fff, 0x8001]);
    assert_eq!(absolute(Pabsw, &s, 8), w(&[0x8000, 1, 0x7fff, 0x7fff]));
    let s = d(&[0x8000_0000, 0xffff_ffff, 5, 0x8000_0001]);
    assert_eq!(
        absolute(Pabsd, &s, 16),
        d(&[0x8000_0000, 1, 5, 0x7fff_ffff])
    );
}

#[test]
fn palignr_shifts_the_concatenation() {
    let dst: V = core::array::from_fn(|i| 0x10 + i as u8);
    let src: V = core::array::from_fn(|i| i as u8);
    // XMM: dst:src is the 32 bytes 00H..1FH; the result's byte i is
    // imm + i, or 0 from 32 on.
    for imm in [0u8, 1, 5, 15, 16, 17, 31, 32, 33, 200, 255] {
        let want: V = core::array::from_fn(|i| {
            let k = usize::from(imm) + i;
            if k < 32 {
                k as u8
            } else {
                0
            }
        });
        assert_eq!(align_right(&dst, &src, 16, imm), want, "xmm {imm}");
    }
    // MMX: dst:src is 00H..07H then 10H..17H; 0 from 16 on.
    let mmx = |imm| align_right(&dst, &src, 8, imm);
    assert_eq!(mmx(0), b(&[0, 1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(mmx(3), b(&[3, 4, 5, 6, 7, 0x10, 0x11, 0x12]));
    assert_eq!(mmx(8), b(&[0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17]));
    assert_eq!(mmx(9), b(&[0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0]));
    assert_eq!(mmx(15), b(&[0x17]));
    for imm in [16, 17, 31, 32, 128, 255] {
        assert_eq!(mmx(imm), [0; 16], "mm {imm}");
    }
}

#[test]
fn mmx_forms_make_the_transition() {
    // MM1 = R1 = 0x104, MM2 = R2 = 0x105 (see transition_from_top5).
    // PSHUFB: selectors 05H, 01H, 00H...: bytes 5 (0), 1 (01H), 0 (04H).
    transition_from_top5(|a| a.pshufb(mm1, mm2), 0x0404_0404_0404_0100);
    // PALIGNR 1: 05 01 00 00 00 00 00 00 | 04 01 00 ... shifted a byte.
    transition_from_top5(|a| a.palignr(mm1, mm2, 1), 0x0400_0000_0000_0001);
    transition_from_top5(|a| a.pabsw(mm1, mm2), 0x105);
    transition_from_top5(|a| a.phaddw(mm1, mm2), 0x0105_0000_0104);
}

#[test]
fn instructions_on_both_files() {
    let code = asm(32, |a| {
        a.pshufb(xmm0, xmmword_ptr(0x3000))?;
        a.pshufb(mm0, qword_ptr(0x3003))?; // m64: no alignment rule
        a.phsubsw(xmm1, xmm2)?;
        a.pmaddubsw(mm1, mm2)?;
        a.pabsd(xmm3, xmmword_ptr(0x3010))?;
        a.palignr(xmm4, xmm5, 20)?;
        a.psignw(mm3, qword_ptr(0x3010))?;
        a.palignr(mm4, qword_ptr(0x3001), 2)
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    let m: Vec<u8> = (0..16u8).map(|i| 15 - i).collect(); // 0F..00
    put(&mut bus, 0x3000, &m);
    put(&mut bus, 0x3010, &d(&[0xffff_fff0, 7, 0x8000_0000, 0]));
    cpu.state.fx.xmm[0] = core::array::from_fn(|i| 0xa0 + i as u8);
    set_mmx(&mut cpu, 0, 0xb7b6_b5b4_b3b2_b1b0);
    cpu.state.fx.xmm[1] = w(&[0x7fff, 0xffff, 0, 0, 0, 0, 0, 0]);
    cpu.state.fx.xmm[2] = w(&[0x8000, 1, 0, 0, 0, 0, 0, 0]);
    set_mmx(&mut cpu, 1, 0x0000_0000_0000_ffff);
    set_mmx(&mut cpu, 2, 0x0000_0000_0000_7f7f);
    cpu.state.fx.xmm[4] = core::array::from_fn(|i| 0x10 + i as u8);
    cpu.state.fx.xmm[5] = core::array::from_fn(|i| i as u8);
    set_mmx(&mut cpu, 3, 0x0004_0003_0002_0001);
    set_mmx(&mut cpu, 4, 0x1716_1514_1312_1110);
    exec_n(&mut cpu, &mut bus, 8);
    // The bytes of XMM0 reversed.
    let rev: V = core::array::from_fn(|i| 0xaf - i as u8);
    assert_eq!(cpu.state.fx.xmm[0], rev);
    // m64 at 3003H: 0C 0B 0A 09 08 07 06 05, low 3 bits 4 3 2 1 0 7 6 5.
    assert_eq!(mmx(&cpu, 0), 0xb5b6_b7b0_b1b2_b3b4);
    // 32767 - -1 saturates; -32768 - 1 saturates.
    assert_eq!(cpu.state.fx.xmm[1], w(&[0x7fff, 0, 0, 0, 0x8000, 0, 0, 0]));
    // 255 * 127 + 255 * 127 saturates.
    assert_eq!(mmx(&cpu, 1), 0x7fff);
    assert_eq!(cpu.state.fx.xmm[3], d(&[0x10, 7, 0x8000_0000, 0]));
    let want: V = core::array::from_fn(|i| if i < 12 { 0x14 + i as u8 } else { 0 });
    assert_eq!(cpu.state.fx.xmm[4], want);
    // Source words FFF0H (negative), FFFFH (negative), 7, 0.
    assert_eq!(mmx(&cpu, 3), 0x0000_0003_fffe_ffff);
    // dst:src = 10H..17H above the m64 at 3001H (0E 0D .. 07), by 2.
    assert_eq!(mmx(&cpu, 4), 0x1110_0708_090a_0b0c);
    assert_eq!((cpu.state.fx.top(), cpu.state.fx.ftw), (0, 0xff));
}

#[test]
fn availability_and_alignment() {
    // The MMX forms: no CR4.OSFXSR needed; #UD with CR0.EM, #NM with
    // CR0.TS, #MF for a pending x87 exception, no transition when they
    // fault.
    let code = asm(32, |a| {
        a.pshufb(mm0, mm1)?;
        a.palignr(mm0, mm1, 3)?;
        a.pabsb(mm0, qword_ptr(0x3001))
    });
    let (mut cpu, mut bus) = prot32(&code);
    exec_n(&mut cpu, &mut bus, 3);
    for (c0, status, want) in [
        (cr0::EM, 0, Exception::UD),
        (cr0::TS, 0, Exception::NM),
        (cr0::NE, fsw::ES | 1, Exception::MF),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr0 |= c0;
        cpu.state.fx.fsw = status | (3 << fsw::TOP_SHIFT);
        assert_eq!(exec(&mut cpu, &mut bus), Err(want.into()), "{c0:#x}");
        assert_eq!(cpu.state.fx.top(), 3, "no transition");
    }
    // The XMM forms: #UD without CR4.OSFXSR, #NM with CR0.TS.
    for code in [
        asm(32, |a| a.pshufb(xmm0, xmm1)),
        asm(32, |a| a.phaddd(xmm0, xmm1)),
        asm(32, |a| a.pabsw(xmm0, xmm1)),
        asm(32, |a| a.palignr(xmm0, xmm1, 4)),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.fx.xmm[0] = [0x33; 16];
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        cpu.state.cr4 |= cr4::OSFXSR;
        cpu.state.cr0 |= cr0::TS;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::NM.into()));
        assert_eq!(cpu.state.fx.xmm[0], [0x33; 16]);
        cpu.state.cr0 &= !cr0::TS;
        exec(&mut cpu, &mut bus).unwrap();
    }
    // A misaligned m128: #GP(0), nothing written.
    for code in [
        asm(32, |a| a.pshufb(xmm0, xmmword_ptr(0x3008))),
        asm(32, |a| a.phsubw(xmm0, xmmword_ptr(0x3004))),
        asm(32, |a| a.pmulhrsw(xmm0, xmmword_ptr(0x3001))),
        asm(32, |a| a.pabsd(xmm0, xmmword_ptr(0x3002))),
        asm(32, |a| a.palignr(xmm0, xmmword_ptr(0x300f), 1)),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr4 |= cr4::OSFXSR;
        cpu.state.fx.xmm[0] = [0x33; 16];
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        assert_eq!(cpu.state.fx.xmm[0], [0x33; 16]);
    }
    // Aligned m128, or an MMX m64 anywhere: fine.
    for code in [
        asm(32, |a| a.psignb(xmm0, xmmword_ptr(0x3010))),
        asm(32, |a| a.phaddsw(mm0, qword_ptr(0x3005))),
        asm(32, |a| a.palignr(mm0, qword_ptr(0x3007), 9)),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr4 |= cr4::OSFXSR;
        exec(&mut cpu, &mut bus).unwrap();
    }
}
