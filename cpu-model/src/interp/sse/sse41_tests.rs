//! SSE4.1 integer operations, extracts and inserts: the lane operations
//! on values worked out by hand from the SDM's definitions, then the
//! instructions (memory forms, index bits, flags, alignment,
//! availability).

use super::super::super::tests::{asm, exec, exec_n, long64, prot32};
use super::super::int::tests::v;
use super::super::sse41_ins::insertps_of;
use super::{binary41, mpsadbw_of, widened, V};
use crate::exception::Exception;
use crate::flags;
use crate::state::{cr0, cr4};
use iced_x86::code_asm::*;
use iced_x86::Mnemonic::*;

#[test]
fn signed_and_unsigned_min_max() {
    let a = v(
        1,
        &[
            0x7f, 0x80, 0xff, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81,
        ],
    );
    let b = v(
        1,
        &[
            0x80, 0x7f, 0x00, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x80,
        ],
    );
    // Signed bytes: max(127, -128) = 127, max(-128, 127) = 127,
    // max(-1, 0) = 0, max(0, -1) = 0, max(-127, -128) = -127.
    let r = binary41(Pmaxsb, &a, &b);
    assert_eq!(&r[..4], &[0x7f, 0x7f, 0x00, 0x00]);
    assert_eq!(r[15], 0x81);
    let r = binary41(Pminsb, &a, &b);
    assert_eq!(&r[..4], &[0x80, 0x80, 0xff, 0xff]);
    assert_eq!(r[15], 0x80);
    let a = v(4, &[0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 5]);
    let b = v(4, &[0x8000_0000, 0x7fff_ffff, 0, 5]);
    assert_eq!(
        binary41(Pmaxsd, &a, &b),
        v(4, &[0x7fff_ffff, 0x7fff_ffff, 0, 5])
    );
    assert_eq!(
        binary41(Pminsd, &a, &b),
        v(4, &[0x8000_0000, 0x8000_0000, 0xffff_ffff, 5])
    );
    assert_eq!(
        binary41(Pmaxud, &a, &b),
        v(4, &[0x8000_0000, 0x8000_0000, 0xffff_ffff, 5])
    );
    assert_eq!(
        binary41(Pminud, &a, &b),
        v(4, &[0x7fff_ffff, 0x7fff_ffff, 0, 5])
    );
    let a = v(2, &[0xffff, 0x8000, 0x7fff, 0, 1, 2, 3, 4]);
    let b = v(2, &[0x0000, 0x7fff, 0x8000, 1, 1, 0, 9, 0xfffe]);
    assert_eq!(
        binary41(Pmaxuw, &a, &b),
        v(2, &[0xffff, 0x8000, 0x8000, 1, 1, 2, 9, 0xfffe])
    );
    assert_eq!(
        binary41(Pminuw, &a, &b),
        v(2, &[0, 0x7fff, 0x7fff, 0, 1, 0, 3, 4])
    );
}

#[test]
fn multiplies_compare_and_pack() {
    // PMULLD: the low 32 bits of the product; 0x8000_0000 * -1 wraps.
    let a = v(4, &[0x8000_0000, 0x1_0001, 0xffff_ffff, 7]);
    let b = v(4, &[0xffff_ffff, 0x1_0001, 0xffff_ffff, 0xfffffff9]);
    assert_eq!(
        binary41(Pmulld, &a, &b),
        v(4, &[0x8000_0000, 0x0002_0001, 1, 0xffff_ffcf])
    );
    // PMULDQ: dwords 0 and 2, signed: -2^31 * -1 = 2^31; -1 * -1 = 1.
    assert_eq!(binary41(Pmuldq, &a, &b), v(8, &[0x8000_0000, 1]));
    let a = v(4, &[0x8000_0000, 0, 0x7fff_ffff, 0xffff_ffff]);
    let b = v(4, &[0x8000_0000, 0, 0x8000_0000, 0xffff_ffff]);
    // -2^31 * -2^31 = 2^62; (2^31 - 1) * -2^31.
    assert_eq!(
        binary41(Pmuldq, &a, &b),
        v(8, &[1 << 62, (0x7fff_ffffi64 * -0x8000_0000i64) as u64])
    );
    let a = v(8, &[5, u64::MAX]);
    let b = v(8, &[5, u64::MAX - 1]);
    assert_eq!(binary41(Pcmpeqq, &a, &b), v(8, &[u64::MAX, 0]));
    // PACKUSDW: signed dwords to unsigned words, the destination's first.
    let a = v(4, &[0xffff_ffff, 0x1_0000, 0xffff, 0x8000_0000]);
    let b = v(4, &[0x7fff_ffff, 0, 0x1234, 0xffff_8000]);
    assert_eq!(
        binary41(Packusdw, &a, &b),
        v(2, &[0, 0xffff, 0xffff, 0, 0xffff, 0, 0x1234, 0])
    );
}

#[test]
fn phminposuw_and_mpsadbw() {
    let b = v(2, &[9, 3, 0xffff, 3, 7, 8, 3, 10]);
    // The first of the equal minima.
    assert_eq!(binary41(Phminposuw, &[0xaa; 16], &b), v(4, &[3 | 1 << 16]));
    let b = v(2, &[9, 9, 9, 9, 9, 9, 9, 0]);
    assert_eq!(binary41(Phminposuw, &[0; 16], &b), v(4, &[7 << 16]));
    let b = v(2, &[0xffff; 8]);
    assert_eq!(binary41(Phminposuw, &[0; 16], &b), v(4, &[0xffff]));

    let a: V = core::array::from_fn(|i| (i * 17) as u8);
    let b: V = core::array::from_fn(|i| (255 - i * 3) as u8);
    for imm in 0..8u8 {
        let (d, s) = (4 * usize::from(imm >> 2 & 1), 4 * usize::from(imm & 3));
        let r = mpsadbw_of(&a, &b, imm | 0xf8);
        for i in 0..8 {
            let want: i32 = (0..4)
                .map(|k| (i32::from(a[d + i + k]) - i32::from(b[s + k])).abs())
                .sum();
            assert_eq!(u16::from_le_bytes([r[2 * i], r[2 * i + 1]]), want as u16);
        }
    }
    // Four differences of 255: 1020.
    let r = mpsadbw_of(&[0xff; 16], &[0; 16], 0);
    assert_eq!(r, v(2, &[1020; 8]));
}

#[test]
fn widening_moves() {
    let b = v(
        1,
        &[
            0x80, 0x7f, 0xff, 0x01, 0xfe, 0, 0x81, 2, 9, 9, 9, 9, 9, 9, 9, 9,
        ],
    );
    assert_eq!(
        widened(Pmovsxbw, &b),
        v(2, &[0xff80, 0x7f, 0xffff, 1, 0xfffe, 0, 0xff81, 2])
    );
    assert_eq!(
        widened(Pmovzxbw, &b),
        v(2, &[0x80, 0x7f, 0xff, 1, 0xfe, 0, 0x81, 2])
    );
    assert_eq!(
        widened(Pmovsxbd, &b),
        v(4, &[0xffff_ff80, 0x7f, 0xffff_ffff, 1])
    );
    assert_eq!(widened(Pmovzxbq, &b), v(8, &[0x80, 0x7f]));
    assert_eq!(widened(Pmovsxbq, &b), v(8, &[0xffff_ffff_ffff_ff80, 0x7f]));
    let b = v(2, &[0x8000, 0x7fff, 0xffff, 1, 9, 9, 9, 9]);
    assert_eq!(
        widened(Pmovsxwd, &b),
        v(4, &[0xffff_8000, 0x7fff, 0xffff_ffff, 1])
    );
    assert_eq!(widened(Pmovzxwd, &b), v(4, &[0x8000, 0x7fff, 0xffff, 1]));
    assert_eq!(
        widened(Pmovsxwq, &b),
        v(8, &[0xffff_ffff_ffff_8000, 0x7fff])
    );
    assert_eq!(widened(Pmovzxwq, &b), v(8, &[0x8000, 0x7fff]));
    let b = v(4, &[0x8000_0000, 0x7fff_ffff, 9, 9]);
    assert_eq!(
        widened(Pmovsxdq, &b),
        v(8, &[0xffff_ffff_8000_0000, 0x7fff_ffff])
    );
    assert_eq!(widened(Pmovzxdq, &b), v(8, &[0x8000_0000, 0x7fff_ffff]));
}

#[test]
fn insertps_select_place_and_zero() {
    let d = v(4, &[1, 2, 3, 4]);
    // Into dword 2, then dwords 0 and 3 zeroed.
    assert_eq!(insertps_of(&d, 9, 0x29), v(4, &[0, 2, 9, 0]));
    // Zeroing the dword just written.
    assert_eq!(insertps_of(&d, 9, 0x10 | 2), v(4, &[1, 0, 3, 4]));
}

/// A protected-mode CPU with CR4.OSFXSR, running `code`.
fn sse_cpu(code: &[u8]) -> (crate::Cpu, crate::memory::FlatBus) {
    let (mut cpu, bus) = prot32(code);
    cpu.state.cr4 |= cr4::OSFXSR;
    (cpu, bus)
}

#[test]
fn pmovx_memory_forms_are_unaligned_and_sized() {
    let code = asm(32, |a| {
        a.pmovsxbq(xmm0, word_ptr(0x3001))?;
        a.pmovzxbd(xmm1, dword_ptr(0x3003))?;
        a.pmovsxwd(xmm2, qword_ptr(0x3005))?;
        a.pmovzxdq(xmm3, xmm2)
    });
    let (mut cpu, mut bus) = sse_cpu(&code);
    for (i, b) in bus.ram[0x3000..0x3010].iter_mut().enumerate() {
        *b = 0xf0 + i as u8;
    }
    cpu.state.fx.xmm[0] = [0x55; 16];
    exec_n(&mut cpu, &mut bus, 4);
    let s = &cpu.state.fx.xmm;
    assert_eq!(s[0], v(8, &[0xffff_ffff_ffff_fff1, 0xffff_ffff_ffff_fff2]));
    assert_eq!(s[1], v(4, &[0xf3, 0xf4, 0xf5, 0xf6]));
    assert_eq!(
        s[2],
        v(4, &[0xffff_f6f5, 0xffff_f8f7, 0xffff_faf9, 0xffff_fcfb])
    );
    assert_eq!(s[3], v(8, &[0xffff_f6f5, 0xffff_f8f7]));
}

#[test]
fn ptest_sets_zf_and_cf_and_clears_the_rest() {
    let code = asm(32, |a| a.ptest(xmm0, xmm1));
    // (xmm0, xmm1, ZF, CF)
    let all = v(8, &[u64::MAX, u64::MAX]);
    let low = v(8, &[1, 0]);
    let high = v(8, &[0, 1 << 63]);
    for (a, b, zf, cf) in [
        (all, all, false, true),
        (low, high, true, false),
        ([0; 16], [0; 16], true, true),
        (all, low, false, true),
        (low, all, false, false),
        ([0; 16], high, true, false),
    ] {
        let (mut cpu, mut bus) = sse_cpu(&code);
        cpu.state.rflags |= flags::STATUS;
        cpu.state.fx.xmm[0] = a;
        cpu.state.fx.xmm[1] = b;
        exec(&mut cpu, &mut bus).unwrap();
        let f = cpu.state.rflags;
        assert_eq!(f & flags::ZF != 0, zf);
        assert_eq!(f & flags::CF != 0, cf);
        assert_eq!(f & (flags::AF | flags::OF | flags::PF | flags::SF), 0);
    }
}

#[test]
fn aligned_m128_forms_fault_on_misalignment() {
    for code in [
        asm(32, |a| a.ptest(xmm0, xmmword_ptr(0x3008))),
        asm(32, |a| a.movntdqa(xmm0, xmmword_ptr(0x3004))),
        asm(32, |a| a.pmulld(xmm0, xmmword_ptr(0x3001))),
        asm(32, |a| a.phminposuw(xmm0, xmmword_ptr(0x3002))),
        asm(32, |a| a.mpsadbw(xmm0, xmmword_ptr(0x3008), 5)),
    ] {
        let (mut cpu, mut bus) = sse_cpu(&code);
        cpu.state.fx.xmm[0] = [7; 16];
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        assert_eq!(cpu.state.fx.xmm[0], [7; 16], "unchanged");
    }
    let code = asm(32, |a| a.movntdqa(xmm5, xmmword_ptr(0x3010)));
    let (mut cpu, mut bus) = sse_cpu(&code);
    bus.ram[0x3010..0x3020].copy_from_slice(&[0x5a; 16]);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[5], [0x5a; 16]);
}

#[test]
fn availability_ud_without_osfxsr_nm_with_ts() {
    for code in [
        asm(32, |a| a.pmaxsd(xmm0, xmm1)),
        asm(32, |a| a.pmovzxbw(xmm0, xmm1)),
        asm(32, |a| a.ptest(xmm0, xmm1)),
        asm(32, |a| a.pextrb(eax, xmm1, 1)),
        asm(32, |a| a.pinsrd(xmm0, eax, 1)),
        asm(32, |a| a.insertps(xmm0, xmm1, 1)),
        asm(32, |a| a.mpsadbw(xmm0, xmm1, 1)),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        let (mut cpu, mut bus) = sse_cpu(&code);
        cpu.state.cr0 |= cr0::TS;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::NM.into()));
        let (mut cpu, mut bus) = sse_cpu(&code);
        cpu.state.cr0 |= cr0::EM;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
    }
}

#[test]
fn extracts_mask_the_index_and_zero_extend() {
    let code = asm(64, |a| {
        a.pextrb(eax, xmm1, 0x1f)?; // byte 15
        a.pextrb(rbx, xmm1, 0x22)?; // byte 2, r64
        a.pextrw(ecx, xmm1, 0x0b)?; // 66 0F C5: word 3
        a.pextrw(word_ptr(0x3001), xmm1, 0xfe)?; // 66 0F 3A 15: word 6
        a.pextrd(edx, xmm1, 0x07)?; // dword 3
        a.pextrq(rsi, xmm1, 0x03)?; // qword 1
        a.extractps(dword_ptr(0x3003), xmm1, 0x06)?; // dword 2
        a.extractps(rdi, xmm1, 0x05)?; // dword 1, zero-extended
        a.pextrb(byte_ptr(0x3010), xmm1, 0x1e)?; // byte 14
        a.pextrq(qword_ptr(0x3011), xmm1, 0)
    });
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.gpr = [u64::MAX; 16];
    let x: V = core::array::from_fn(|i| 0x80 + i as u8);
    cpu.state.fx.xmm[1] = x;
    // The register form of 66 0F 3A 15 decodes as the SSE4.1 PEXTRW too.
    let pextrw_reg = [0x66, 0x0f, 0x3a, 0x15, 0xc8, 0x05]; // pextrw eax, xmm1, 5
    let end = 0x1000 + code.len();
    bus.ram[end..end + 6].copy_from_slice(&pextrw_reg);
    exec_n(&mut cpu, &mut bus, 11);
    let g = cpu.state.gpr;
    assert_eq!(g[0], 0x8b8a, "eax: the last PEXTRW, word 5");
    assert_eq!(g[3], 0x82, "rbx");
    assert_eq!(g[1], 0x8786, "ecx");
    assert_eq!(g[2], 0x8f8e_8d8c, "edx");
    assert_eq!(g[6], 0x8f8e_8d8c_8b8a_8988, "rsi");
    assert_eq!(g[7], 0x8786_8584, "rdi");
    assert_eq!(&bus.ram[0x3001..0x3003], &[0x8c, 0x8d]);
    assert_eq!(&bus.ram[0x3003..0x3007], &[0x88, 0x89, 0x8a, 0x8b]);
    assert_eq!(bus.ram[0x3010], 0x8e);
    assert_eq!(&bus.ram[0x3011..0x3019], &x[..8]);
}

#[test]
fn inserts_mask_the_index_and_take_the_low_bytes() {
    let code = asm(64, |a| {
        a.pinsrb(xmm0, eax, 0x13)?; // byte 3
        a.pinsrb(xmm0, byte_ptr(0x3001), 0xff)?; // byte 15
        a.pinsrd(xmm0, ebx, 0x06)?; // dword 2
        a.pinsrq(xmm1, rcx, 0x03)?; // qword 1
        a.pinsrd(xmm1, dword_ptr(0x3003), 0)?;
        a.insertps(xmm2, xmm3, 0xd1)?; // xmm3 dword 3 into dword 1, dword 0 zeroed
        a.insertps(xmm4, dword_ptr(0x3005), 0xe0) // the m32 into dword 2
    });
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.gpr[0] = 0x1234_5678_9abc_de42;
    cpu.state.gpr[3] = 0xdead_beef_0102_0304;
    cpu.state.gpr[1] = 0x1122_3344_5566_7788;
    for (i, b) in bus.ram[0x3000..0x3010].iter_mut().enumerate() {
        *b = 0xa0 + i as u8;
    }
    for x in 0..5 {
        cpu.state.fx.xmm[x] = [0x11 * (x as u8 + 1); 16];
    }
    cpu.state.fx.xmm[3] = v(4, &[1, 2, 3, 0x4444_4444]);
    exec_n(&mut cpu, &mut bus, 7);
    let s = &cpu.state.fx.xmm;
    let mut want = [0x11u8; 16];
    want[3] = 0x42;
    want[15] = 0xa1;
    want[8..12].copy_from_slice(&0x0102_0304u32.to_le_bytes());
    assert_eq!(s[0], want);
    let mut want = [0x22u8; 16];
    want[..4].copy_from_slice(&[0xa3, 0xa4, 0xa5, 0xa6]);
    want[8..].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
    assert_eq!(s[1], want);
    let mut want = [0x33u8; 16];
    want[..4].fill(0);
    want[4..8].fill(0x44);
    assert_eq!(s[2], want);
    let mut want = [0x55u8; 16];
    want[8..12].copy_from_slice(&[0xa5, 0xa6, 0xa7, 0xa8]);
    assert_eq!(s[4], want);
}

#[test]
fn narrow_memory_sources_are_alignment_checked() {
    // With CR0.AM, RFLAGS.AC and CPL 3, an m16/m32/m64 source is checked
    // for its own size (#AC); an m128 has the 16-byte rule instead.
    for (code, at, fault) in [
        (asm(32, |a| a.pmovzxbq(xmm0, word_ptr(edi))), 0x3001, true),
        (asm(32, |a| a.pmovzxbq(xmm0, word_ptr(edi))), 0x3002, false),
        (asm(32, |a| a.pmovsxwd(xmm0, qword_ptr(edi))), 0x3004, true),
        (
            asm(32, |a| a.insertps(xmm0, dword_ptr(edi), 0)),
            0x3002,
            true,
        ),
        (
            asm(32, |a| a.pinsrd(xmm0, dword_ptr(edi), 0)),
            0x3004,
            false,
        ),
        (asm(32, |a| a.pextrw(word_ptr(edi), xmm0, 0)), 0x3003, true),
        // The SSE/SSE2 scalar and half stores (store_xmm_memory) too.
        (asm(32, |a| a.movss(dword_ptr(edi), xmm0)), 0x3002, true),
        (asm(32, |a| a.movss(dword_ptr(edi), xmm0)), 0x3004, false),
        (asm(32, |a| a.movlps(qword_ptr(edi), xmm0)), 0x3004, true),
        (asm(32, |a| a.movsd_2(qword_ptr(edi), xmm0)), 0x3008, false),
    ] {
        let (mut cpu, mut bus) = sse_cpu(&code);
        cpu.state.cr0 |= cr0::AM;
        cpu.state.rflags |= flags::AC;
        cpu.state.seg[crate::state::SegReg::Cs as usize].selector |= 3;
        cpu.state.gpr[7] = at;
        let want = if fault {
            Err(Exception::AC.into())
        } else {
            Ok(())
        };
        assert_eq!(exec(&mut cpu, &mut bus), want, "{at:#x}");
    }
}
