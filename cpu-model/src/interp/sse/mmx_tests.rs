//! MMX registers and state rules, EMMS, MOVD/MOVQ, MOVQ2DQ/MOVDQ2Q.

use super::super::super::tests::{asm, exec, exec_n, long64, prot32};
use crate::exception::Exception;
use crate::fxstate::fsw;
use crate::memory::FlatBus;
use crate::state::{cr0, cr4};
use crate::Cpu;
use iced_x86::code_asm::*;

/// MMn of a CPU in MMX operation (TOP = 0: `st[n]` is Rn).
pub(in crate::interp::sse) fn mmx(cpu: &Cpu, n: usize) -> u64 {
    cpu.state.fx.st[n].signif
}

pub(in crate::interp::sse) fn set_mmx(cpu: &mut Cpu, n: usize, v: u64) {
    cpu.state.fx.st[n].signif = v;
}

pub(in crate::interp::sse) fn put(bus: &mut FlatBus, at: usize, bytes: &[u8]) {
    bus.ram[at..at + bytes.len()].copy_from_slice(bytes);
}

/// `op` on MM1 (writing it) from TOP = 5 with every register empty, where
/// ST(i) = R((5 + i) mod 8) holds significand 0x100 + i and exponent
/// 0x4000 + i; then EMMS. The transition (TOP := 0, the registers keep
/// their contents, all tags valid, only MM1's exponent set to all ones)
/// and EMMS (all empty, TOP and values kept) are checked; MM1 must end as
/// `want`.
pub(in crate::interp::sse) fn transition_from_top5(
    op: impl FnOnce(&mut CodeAssembler) -> Result<(), iced_x86::IcedError>,
    want: u64,
) {
    let code = asm(32, |a| {
        op(a)?;
        a.emms()
    });
    let (mut cpu, mut bus) = prot32(&code);
    let fx = &mut cpu.state.fx;
    fx.fsw = 5 << fsw::TOP_SHIFT;
    fx.ftw = 0;
    for i in 0..8 {
        fx.st[i].signif = 0x100 + i as u64;
        fx.st[i].sign_exp = 0x4000 + i as u16;
    }
    exec(&mut cpu, &mut bus).unwrap();
    let fx = &cpu.state.fx;
    // TOP := 0, so Rn is now ST(n): R0 was ST(3), R1 ST(4), ...
    assert_eq!(fx.top(), 0);
    assert_eq!(fx.ftw, 0xff, "every register valid");
    for n in 0..8 {
        let i = (n + 3) % 8;
        if n == 1 {
            assert_eq!(fx.st[1].signif, want);
            assert_eq!(fx.st[1].sign_exp, 0xffff, "written: exponent all ones");
        } else {
            assert_eq!(fx.st[n].signif, 0x100 + i as u64, "R{n}");
            assert_eq!(fx.st[n].sign_exp, 0x4000 + i as u16, "R{n} not written");
        }
    }
    assert_eq!(fx.fsw & !fsw::TOP, 0, "other FSW bits untouched");
    // EMMS: every register empty; TOP and the values stay.
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.ftw, 0);
    assert_eq!(cpu.state.fx.top(), 0);
    assert_eq!(mmx(&cpu, 1), want);

    // EMMS alone leaves TOP as it is.
    let code = asm(32, |a| a.emms());
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.fx.fsw = 6 << fsw::TOP_SHIFT;
    cpu.state.fx.st[0].signif = 77;
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!((cpu.state.fx.top(), cpu.state.fx.ftw), (6, 0));
    assert_eq!(cpu.state.fx.st[0].signif, 77);
}

#[test]
fn top_tags_exponent_and_emms() {
    // MM2 = R2 = ST(5) = 0x105 into MM1.
    transition_from_top5(|a| a.movq(mm1, mm2), 0x105);

    // A read-only use (MOVD r32, mm; a store) switches as well, writing
    // no exponent.
    let code = asm(32, |a| {
        a.movd(eax, mm3)?;
        a.movq(qword_ptr(0x3000), mm3)
    });
    let (mut cpu, mut bus) = prot32(&code);
    for k in 0..2 {
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
    assert_eq!(cpu.state.gpr[0], 0x7890_80ff);
    assert_eq!(
        &bus.ram[0x3000..0x3008],
        &0x8012_3456_7890_80ffu64.to_le_bytes()
    );
}

#[test]
fn availability() {
    let code = asm(32, |a| a.movq(mm0, mm1));
    // CR4.OSFXSR is not needed.
    let (mut cpu, mut bus) = prot32(&code);
    exec(&mut cpu, &mut bus).unwrap();
    // #UD with CR0.EM (before TS), #NM with CR0.TS; nothing changes.
    for (c0, want) in [
        (cr0::EM, Exception::UD),
        (cr0::EM | cr0::TS, Exception::UD),
        (cr0::TS, Exception::NM),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr0 |= c0;
        cpu.state.fx.fsw = 3 << fsw::TOP_SHIFT;
        assert_eq!(exec(&mut cpu, &mut bus), Err(want.into()), "{c0:#x}");
        assert_eq!(cpu.state.fx.top(), 3, "no transition");
    }
    // A pending unmasked x87 exception: #MF with CR0.NE, nothing changed;
    // without NE the instruction waits for the FERR# interrupt (FlatBus
    // never asserts IGNNE#), nothing changed either.
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr0 |= cr0::NE;
    cpu.state.fx.fsw = fsw::ES | fsw::B | 1 | (3 << fsw::TOP_SHIFT);
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::MF.into()));
    assert_eq!(cpu.state.fx.top(), 3);
    cpu.state.cr0 &= !cr0::NE;
    assert_eq!(exec(&mut cpu, &mut bus), Err(crate::Fault::FpuErrorWait));
    assert_eq!(cpu.state.fx.top(), 3);
    // EMMS follows the same rules.
    let code = asm(32, |a| a.emms());
    for (c0, status, want) in [
        (cr0::EM, 0, Exception::UD),
        (cr0::TS, 0, Exception::NM),
        (cr0::NE, fsw::ES | 1, Exception::MF),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr0 |= c0;
        cpu.state.fx.fsw = status;
        assert_eq!(exec(&mut cpu, &mut bus), Err(want.into()));
        assert_eq!(cpu.state.fx.ftw, 0xff, "tags kept");
    }
    // MOVQ2DQ and MOVDQ2Q use an XMM register: they need CR4.OSFXSR.
    for code in [
        asm(32, |a| a.movq2dq(xmm0, mm1)),
        asm(32, |a| a.movdq2q(mm0, xmm1)),
        asm(32, |a| a.movd(xmm0, eax)),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        cpu.state.cr4 |= cr4::OSFXSR;
        cpu.state.cr0 |= cr0::TS;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::NM.into()));
        cpu.state.cr0 &= !cr0::TS;
        exec(&mut cpu, &mut bus).unwrap();
    }
    // ... and they are waiting instructions; MOVD xmm is not.
    for (code, want) in [
        (asm(32, |a| a.movq2dq(xmm0, mm1)), Some(Exception::MF)),
        (asm(32, |a| a.movdq2q(mm0, xmm1)), Some(Exception::MF)),
        (asm(32, |a| a.movd(xmm0, eax)), None),
    ] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr4 |= cr4::OSFXSR;
        cpu.state.cr0 |= cr0::NE;
        cpu.state.fx.fsw = fsw::ES | 1 | (4 << fsw::TOP_SHIFT);
        let got = exec(&mut cpu, &mut bus).err();
        assert_eq!(got, want.map(crate::Fault::from));
        assert_eq!(cpu.state.fx.top(), 4, "no transition");
    }
}

#[test]
fn a_faulting_mmx_instruction_changes_no_x87_state() {
    // A non-canonical m64: #GP(0), TOP and tags as they were.
    let code = asm(64, |a| a.movq(mm0, qword_ptr(rax)));
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.gpr[0] = 0x8000_0000_0000_0000;
    cpu.state.fx.fsw = 7 << fsw::TOP_SHIFT;
    cpu.state.fx.ftw = 0x01;
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    assert_eq!((cpu.state.fx.top(), cpu.state.fx.ftw), (7, 0x01));
}

#[test]
fn movd_movq_every_form() {
    let code = asm(64, |a| {
        a.movd(mm0, eax)?; // 0
        a.movq(mm1, rax)?; // 1
        a.movd(xmm2, eax)?; // 2
        a.movq(xmm3, rax)?; // 3
        a.movd(ebx, xmm3)?; // 4: zero-extended into RBX
        a.movq(rcx, mm1)?; // 5
        a.movq(xmm4, qword_ptr(0x3000))?; // 6: upper half cleared
        a.movq(xmm5, xmm4)?; // 7: F3 0F 7E, upper half cleared
        a.movq(qword_ptr(0x3010), xmm3)?; // 8
        a.movd(dword_ptr(0x3020), mm1)?; // 9
        a.movq(mm2, qword_ptr(0x3000))?; // 10
        a.movq(mm3, mm2)?; // 11
        a.movq2dq(xmm6, mm2)?; // 12
        a.movdq2q(mm4, xmm3)?; // 13
        a.movd(edx, mm1)?; // 14
        a.movd(xmm7, dword_ptr(0x3000)) // 15
    });
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.gpr[0] = 0x1122_3344_5566_7788;
    cpu.state.gpr[3] = u64::MAX;
    cpu.state.gpr[2] = u64::MAX;
    for n in [4, 5, 6, 7] {
        cpu.state.fx.xmm[n] = [0xee; 16];
    }
    put(&mut bus, 0x3000, &0xa1a2_a3a4_a5a6_a7a8u64.to_le_bytes());
    exec_n(&mut cpu, &mut bus, 16);
    let xmm = |cpu: &Cpu, n: usize| u128::from_le_bytes(cpu.state.fx.xmm[n]);
    assert_eq!(mmx(&cpu, 0), 0x5566_7788);
    assert_eq!(mmx(&cpu, 1), 0x1122_3344_5566_7788);
    assert_eq!(xmm(&cpu, 2), 0x5566_7788);
    assert_eq!(xmm(&cpu, 3), 0x1122_3344_5566_7788);
    assert_eq!(cpu.state.gpr[3], 0x5566_7788);
    assert_eq!(cpu.state.gpr[1], 0x1122_3344_5566_7788);
    assert_eq!(xmm(&cpu, 4), 0xa1a2_a3a4_a5a6_a7a8);
    assert_eq!(xmm(&cpu, 5), 0xa1a2_a3a4_a5a6_a7a8);
    assert_eq!(
        &bus.ram[0x3010..0x3018],
        &0x1122_3344_5566_7788u64.to_le_bytes()
    );
    assert_eq!(
        &bus.ram[0x3020..0x3028],
        &[0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0]
    );
    assert_eq!(mmx(&cpu, 2), 0xa1a2_a3a4_a5a6_a7a8);
    assert_eq!(mmx(&cpu, 3), 0xa1a2_a3a4_a5a6_a7a8);
    assert_eq!(xmm(&cpu, 6), 0xa1a2_a3a4_a5a6_a7a8);
    assert_eq!(mmx(&cpu, 4), 0x1122_3344_5566_7788);
    assert_eq!(cpu.state.gpr[2], 0x5566_7788);
    assert_eq!(xmm(&cpu, 7), 0xa5a6_a7a8);
    for n in 0..5 {
        assert_eq!(cpu.state.fx.st[n].sign_exp, 0xffff, "MM{n} written");
    }

    // MOVQ xmm/m64, xmm (66 0F D6) with a register destination clears the
    // upper half; MOVQ r/m64, mm to memory (REX.W 0F 7E).
    let code = [
        0x66, 0x0f, 0xd6, 0xc8, // movq xmm0, xmm1
        0x48, 0x0f, 0x7e, 0x0c, 0x25, 0x00, 0x40, 0x00, 0x00, // movq [0x4000], mm1
    ];
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.fx.xmm[0] = [0xee; 16];
    cpu.state.fx.xmm[1] = [0x11; 16];
    set_mmx(&mut cpu, 1, 0x0102_0304_0506_0708);
    exec_n(&mut cpu, &mut bus, 2);
    assert_eq!(xmm(&cpu, 0), 0x1111_1111_1111_1111);
    assert_eq!(
        &bus.ram[0x4000..0x4008],
        &0x0102_0304_0506_0708u64.to_le_bytes()
    );
}
