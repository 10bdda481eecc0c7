//! SSE: availability, moves, arithmetic and its exceptions, MXCSR.

use super::super::tests::{asm, prot32};
use crate::exception::Exception;
use crate::state::{cr0, cr4};
use iced_x86::code_asm::*;

fn f32x4(b: &[u8]) -> [f32; 4] {
    let mut v = [0f32; 4];
    for (i, x) in v.iter_mut().enumerate() {
        *x = f32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
    }
    v
}

fn put_f32x4(bus: &mut crate::memory::FlatBus, at: usize, v: [f32; 4]) {
    for (i, x) in v.iter().enumerate() {
        bus.ram[at + 4 * i..at + 4 * i + 4].copy_from_slice(&x.to_le_bytes());
    }
}

#[test]
fn moves_and_packed_arithmetic() {
    let code = asm(32, |a| {
        a.movaps(xmm0, xmmword_ptr(0x3000))?;
        a.movups(xmm1, xmmword_ptr(0x3014))?;
        a.addps(xmm0, xmm1)?;
        a.mulss(xmm0, dword_ptr(0x3030))?;
        a.movss(xmm2, dword_ptr(0x3030))?;
        a.movsd_2(xmm3, xmm0)?;
        a.movdqa(xmmword_ptr(0x3100), xmm0)?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    put_f32x4(&mut bus, 0x3000, [1.0, 2.0, 3.0, 4.0]);
    put_f32x4(&mut bus, 0x3014, [10.0, 20.0, 30.0, 40.0]);
    put_f32x4(&mut bus, 0x3030, [2.0, 9.0, 9.0, 9.0]);
    for _ in 0..7 {
        cpu.execute(&mut bus).unwrap();
    }
    assert_eq!(f32x4(&bus.ram[0x3100..0x3110]), [22.0, 22.0, 33.0, 44.0]);
    assert_eq!(
        f32x4(&cpu.state.fx.xmm[2]),
        [2.0, 0.0, 0.0, 0.0],
        "zero-extended"
    );
    assert_eq!(&cpu.state.fx.xmm[3][..8], &cpu.state.fx.xmm[0][..8]);
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80, "exact: no flags");
}

#[test]
fn availability_alignment_and_simd_exceptions() {
    // #UD without CR4.OSFXSR, #NM with CR0.TS.
    let code = asm(32, |a| a.addps(xmm0, xmm1));
    let (mut cpu, mut bus) = prot32(&code);
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::UD.into());
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.cr0 |= cr0::TS;
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::NM.into());
    // A misaligned m128 of a packed form: #GP(0); MOVUPS is fine.
    let code = asm(32, |a| {
        a.movups(xmm0, xmmword_ptr(0x3004))?;
        a.addps(xmm0, xmmword_ptr(0x3004))
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.execute(&mut bus).unwrap();
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::GP(0).into());
    // Divide by zero: masked sets ZE; unmasked leaves the destination
    // and raises #UD (CR4.OSXMMEXCPT = 0).
    let code = asm(32, |a| {
        a.divss(xmm0, xmm1)?;
        a.ldmxcsr(dword_ptr(0x3000))?;
        a.divss(xmm0, xmm1)
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.fx.xmm[0][..4].copy_from_slice(&1.0f32.to_le_bytes());
    bus.ram[0x3000..0x3004].copy_from_slice(&(0x1f80u32 & !0x200).to_le_bytes());
    cpu.execute(&mut bus).unwrap();
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80 | 4);
    assert_eq!(&cpu.state.fx.xmm[0][..4], &f32::INFINITY.to_le_bytes());
    cpu.execute(&mut bus).unwrap();
    cpu.state.fx.xmm[0][..4].copy_from_slice(&1.0f32.to_le_bytes());
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::UD.into());
    assert_eq!(
        &cpu.state.fx.xmm[0][..4],
        &1.0f32.to_le_bytes(),
        "unchanged"
    );
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, 4);
    // LDMXCSR with a reserved bit: #GP(0).
    let code = asm(32, |a| a.ldmxcsr(dword_ptr(0x3000)));
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    bus.ram[0x3000..0x3004].copy_from_slice(&0x1_0000u32.to_le_bytes());
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::GP(0).into());
}

#[test]
fn unmasked_overflow_and_underflow_report_the_precision_flag_of_the_exact_result() {
    // SDM Vol. 1 §11.5.3.2: the post-computation flags are ORed, PE from
    // the result with an unbounded exponent (as the host CPU reports it at
    // the #XM): 1e30 * 1e30 is inexact, 2^-100 * 2^-30 exact.
    let code = asm(32, |a| {
        a.mulss(xmm0, xmm1)?;
        a.mulss(xmm2, xmm3)
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
    let put = |cpu: &mut crate::Cpu, i: usize, x: f32| {
        cpu.state.fx.xmm[i][..4].copy_from_slice(&x.to_le_bytes())
    };
    put(&mut cpu, 0, 1e30);
    put(&mut cpu, 1, 1e30);
    put(&mut cpu, 2, 2f32.powi(-100));
    put(&mut cpu, 3, 2f32.powi(-30));
    cpu.state.fx.mxcsr = 0x1f80 & !(0x18 << 7);
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::XM.into());
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, 0x28, "OE | PE");
    assert_eq!(&cpu.state.fx.xmm[0][..4], &1e30f32.to_le_bytes());
    cpu.state.rip += 4;
    cpu.state.fx.mxcsr &= !0x3f;
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::XM.into());
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, 0x10, "UE alone");
}

#[test]
fn logic_compares_and_conversions() {
    let code = asm(64, |a| {
        a.cvtsi2sd(xmm0, rax)?; // -3.0
        a.cvtsi2ss(xmm1, dword_ptr(0x3000))?; // 7.0
        a.cvtss2sd(xmm1, xmm1)?; // 7.0 as double
        a.comisd(xmm0, xmm1)?; // -3 < 7: CF
        a.cmpsd_3(xmm0, xmm1, 1)?; // LT: all ones
        a.xorpd(xmm0, xmm0)?; // 0
        a.cvttsd2si(ebx, xmm1)?; // 7
        a.hlt()
    });
    let (mut cpu, mut bus) = super::super::tests::long64(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.gpr[0] = (-3i64) as u64;
    bus.ram[0x3000..0x3004].copy_from_slice(&7i32.to_le_bytes());
    for _ in 0..3 {
        cpu.execute(&mut bus).unwrap();
    }
    assert_eq!(&cpu.state.fx.xmm[1][..8], &7.0f64.to_le_bytes());
    cpu.execute(&mut bus).unwrap();
    let f = cpu.state.rflags;
    assert_eq!(
        f & (crate::flags::CF | crate::flags::ZF | crate::flags::PF),
        crate::flags::CF
    );
    cpu.execute(&mut bus).unwrap();
    assert_eq!(&cpu.state.fx.xmm[0][..8], &[0xff; 8]);
    cpu.execute(&mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0], [0; 16]);
    cpu.execute(&mut bus).unwrap();
    assert_eq!(cpu.state.gpr[3], 7);
}

#[test]
fn shuffles_unpacks_halves_and_masks() {
    let code = asm(32, |a| {
        a.movaps(xmm0, xmmword_ptr(0x3000))?; // 1 2 3 4
        a.movaps(xmm1, xmmword_ptr(0x3010))?; // 5 -6 7 -8
        a.movaps(xmm2, xmm0)?;
        a.shufps(xmm2, xmm1, 0b01_00_11_10)?; // 3 4 5 -6
        a.movaps(xmm3, xmm0)?;
        a.unpcklps(xmm3, xmm1)?; // 1 5 2 -6
        a.movaps(xmm4, xmm0)?;
        a.movhlps(xmm4, xmm1)?; // 7 -8 3 4
        a.movmskps(eax, xmm1)?; // 0b1010
        a.movhps(qword_ptr(0x3100), xmm1)?; // 7 -8
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    put_f32x4(&mut bus, 0x3000, [1.0, 2.0, 3.0, 4.0]);
    put_f32x4(&mut bus, 0x3010, [5.0, -6.0, 7.0, -8.0]);
    for _ in 0..10 {
        cpu.execute(&mut bus).unwrap();
    }
    assert_eq!(f32x4(&cpu.state.fx.xmm[2]), [3.0, 4.0, 5.0, -6.0]);
    assert_eq!(f32x4(&cpu.state.fx.xmm[3]), [1.0, 5.0, 2.0, -6.0]);
    assert_eq!(f32x4(&cpu.state.fx.xmm[4]), [7.0, -8.0, 3.0, 4.0]);
    assert_eq!(cpu.state.gpr[0], 0b1010);
    assert_eq!(f32x4(&bus.ram[0x3100..0x3110])[..2], [7.0, -8.0]);
}

#[test]
fn conversions_with_mmx_registers() {
    let code = asm(32, |a| {
        a.movq(mm1, qword_ptr(0x3000))?; // 3, -7
        a.cvtpi2ps(xmm0, mm1)?;
        a.cvtpi2pd(xmm1, mm1)?;
        a.cvttps2pi(mm2, xmm0)?;
        a.cvtpd2pi(mm3, xmm1)?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    bus.ram[0x3000..0x3004].copy_from_slice(&3i32.to_le_bytes());
    bus.ram[0x3004..0x3008].copy_from_slice(&(-7i32).to_le_bytes());
    cpu.state.fx.xmm[0][8..].copy_from_slice(&[0x5a; 8]);
    for _ in 0..5 {
        cpu.execute(&mut bus).unwrap();
    }
    let x0 = f32x4(&cpu.state.fx.xmm[0]);
    assert_eq!(&x0[..2], &[3.0, -7.0]);
    assert_eq!(&cpu.state.fx.xmm[0][8..], &[0x5a; 8], "upper half kept");
    assert_eq!(&cpu.state.fx.xmm[1][..8], &3.0f64.to_le_bytes());
    assert_eq!(&cpu.state.fx.xmm[1][8..], &(-7.0f64).to_le_bytes());
    let mm = |n: usize| cpu.state.fx.st[n].signif;
    assert_eq!(mm(2), mm(1), "back to the same integers");
    assert_eq!(mm(3), mm(1));
    assert_eq!(
        (cpu.state.fx.top(), cpu.state.fx.ftw),
        (0, 0xff),
        "MMX state"
    );
}
