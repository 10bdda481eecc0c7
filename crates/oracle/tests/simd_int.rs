//! The interpreter's MMX, SSE and SSE2 integer instructions against the
//! host CPU: every packed operation in its MMX and XMM forms (register and
//! memory sources, immediates, shift counts in and beyond the lane width),
//! the extracts, inserts, moves and masked stores, on random and extreme
//! lane values; then the faults (#AC with alignment checking, #GP for a
//! misaligned m128 or a non-canonical address).
//!
//! Each case runs natively and in both engines on the oracle's machine
//! (flat 64-bit, CPL 3, CR4.OSFXSR, as Linux runs the native side) and is
//! compared whole (`common::differences`): registers, flags, the data
//! buffer (each case also stores its XMM0/MM0 there), the x87/MMX/SSE
//! state and the fault.

mod common;

use common::differences;
use cpu_model::flags;
use iced_x86::code_asm::*;
use oracle::native::run_native;
use oracle::{Case, Regs, CODE_ADDR, DATA_ADDR, DATA_SIZE};

const D: u64 = DATA_ADDR;

type Body = Box<dyn Fn(&mut CodeAssembler, u32) -> Result<(), IcedError>>;

/// A case: XMM0/XMM1 from data[0..32], MM0/MM1 from data[32..48], the
/// body, XMM0 and MM0 back to data[0x80..0x98], EMMS.
fn case(body: &Body, r: u32, data: Vec<u8>, regs: Regs) -> Case {
    let mut a = CodeAssembler::new(64).expect("64");
    let mut build = || -> Result<(), IcedError> {
        a.movdqu(xmm0, xmmword_ptr(D))?;
        a.movdqu(xmm1, xmmword_ptr(D + 0x10))?;
        a.movq(mm0, qword_ptr(D + 0x20))?;
        a.movq(mm1, qword_ptr(D + 0x28))?;
        body(&mut a, r)?;
        a.movdqu(xmmword_ptr(D + 0x80), xmm0)?;
        a.movq(qword_ptr(D + 0x90), mm0)?;
        a.emms()
    };
    build().expect("assemble");
    let code = a.assemble(CODE_ADDR).expect("assemble");
    Case {
        bits: 64,
        code,
        regs,
        data,
        fx: oracle::initial_fx(),
    }
}

fn regs(rflags: u64, mut next: impl FnMut() -> u64) -> Regs {
    let mut r = Regs {
        rflags,
        ..Regs::default()
    };
    for g in r.gpr.iter_mut() {
        *g = next();
    }
    r.gpr[4] = D + 0x1000;
    r.gpr[7] = D + 0x100;
    r
}

macro_rules! packed {
    ($v:ident, $($m:ident),*) => {$(
        $v.push((concat!(stringify!($m), " xmm, xmm"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm0, xmm1))));
        $v.push((concat!(stringify!($m), " xmm, m128"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm0, xmmword_ptr(D + 0x40)))));
        $v.push((concat!(stringify!($m), " mm, mm"), Box::new(|a: &mut CodeAssembler, _| a.$m(mm0, mm1))));
        $v.push((concat!(stringify!($m), " mm, m64"), Box::new(|a: &mut CodeAssembler, _| a.$m(mm0, qword_ptr(D + 0x43)))));
    )*};
}

macro_rules! xmm_only {
    ($v:ident, $($m:ident),*) => {$(
        $v.push((concat!(stringify!($m), " xmm, xmm"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm0, xmm1))));
        $v.push((concat!(stringify!($m), " xmm, m128"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm0, xmmword_ptr(D + 0x40)))));
    )*};
}

macro_rules! shifts {
    ($v:ident, $($m:ident),*) => {$(
        packed!($v, $m);
        $v.push((concat!(stringify!($m), " xmm, imm8"), Box::new(|a: &mut CodeAssembler, r| a.$m(xmm0, (r % 80) as i32))));
        $v.push((concat!(stringify!($m), " mm, imm8"), Box::new(|a: &mut CodeAssembler, r| a.$m(mm0, (r % 80) as i32))));
    )*};
}

#[test]
fn integer_simd_matches_host_cpu() {
    let mut v: Vec<(&str, Body)> = Vec::new();
    packed!(
        v, paddb, paddw, paddd, paddq, paddsb, paddsw, paddusb, paddusw, psubb, psubw, psubd,
        psubq, psubsb, psubsw, psubusb, psubusw, pmullw, pmulhw, pmulhuw, pmuludq, pmaddwd, pand,
        pandn, por, pxor, pcmpeqb, pcmpeqw, pcmpeqd, pcmpgtb, pcmpgtw, pcmpgtd, packsswb, packssdw,
        packuswb, punpckhbw, punpckhwd, punpckhdq, pavgb, pavgw, pmaxsw, pmaxub, pminsw, pminub,
        psadbw
    );
    xmm_only!(v, punpcklqdq, punpckhqdq, punpcklbw, punpcklwd, punpckldq);
    v.push(("punpcklbw mm, mm", Box::new(|a, _| a.punpcklbw(mm0, mm1))));
    v.push((
        "punpcklwd mm, m32",
        Box::new(|a, _| a.punpcklwd(mm0, dword_ptr(D + 0x45))),
    ));
    v.push((
        "punpckldq mm, m32",
        Box::new(|a, _| a.punpckldq(mm0, dword_ptr(D + 0x45))),
    ));
    shifts!(v, psllw, pslld, psllq, psrlw, psrld, psrlq, psraw, psrad);
    v.push(("pslldq", Box::new(|a, r| a.pslldq(xmm0, (r % 20) as i32))));
    v.push(("psrldq", Box::new(|a, r| a.psrldq(xmm0, (r % 20) as i32))));
    v.push((
        "pshufw",
        Box::new(|a, r| a.pshufw(mm0, qword_ptr(D + 0x41), (r & 0xff) as i32)),
    ));
    v.push((
        "pshufd",
        Box::new(|a, r| a.pshufd(xmm0, xmm1, (r & 0xff) as i32)),
    ));
    v.push((
        "pshufhw",
        Box::new(|a, r| a.pshufhw(xmm0, xmmword_ptr(D + 0x40), (r & 0xff) as i32)),
    ));
    v.push((
        "pshuflw",
        Box::new(|a, r| a.pshuflw(xmm0, xmm1, (r & 0xff) as i32)),
    ));
    v.push((
        "pmovmskb",
        Box::new(|a, _| {
            a.pmovmskb(eax, xmm1)?;
            a.pmovmskb(rbx, mm1)
        }),
    ));
    v.push((
        "pextrw",
        Box::new(|a, r| {
            a.pextrw(eax, xmm1, (r & 0xff) as i32)?;
            a.pextrw(rbx, mm1, (r >> 8 & 0xff) as i32)
        }),
    ));
    v.push((
        "pinsrw",
        Box::new(|a, r| {
            a.pinsrw(xmm0, ecx, (r & 0xff) as i32)?;
            a.pinsrw(mm0, word_ptr(D + 0x47), (r >> 8 & 0xff) as i32)
        }),
    ));
    v.push((
        "maskmovq, maskmovdqu",
        Box::new(|a, _| {
            a.maskmovq(mm0, mm1)?;
            a.add(rdi, 8)?;
            a.maskmovdqu(xmm0, xmm1)
        }),
    ));
    v.push((
        "movd, movq, movq2dq, movdq2q, movntq, movntdq",
        Box::new(|a, _| {
            a.movd(eax, xmm1)?;
            a.movq(rbx, mm1)?;
            a.movd(ecx, mm1)?;
            a.movd(xmm2, edx)?;
            a.movq(xmm3, rsi)?;
            a.movd(mm2, edx)?;
            a.movq(mm3, rsi)?;
            a.movq(xmm4, qword_ptr(D + 0x49))?;
            a.movq(xmm5, xmm1)?;
            a.movq2dq(xmm6, mm1)?;
            a.movdq2q(mm4, xmm1)?;
            a.movd(dword_ptr(D + 0x60), mm1)?;
            a.movq(qword_ptr(D + 0x64), xmm1)?;
            a.movntq(qword_ptr(D + 0x70), mm1)?;
            a.movntdq(xmmword_ptr(D + 0xa0), xmm1)?;
            for (k, x) in [xmm2, xmm3, xmm4, xmm5, xmm6].into_iter().enumerate() {
                a.movdqu(xmmword_ptr(D + 0xb0 + 16 * k as u64), x)?;
            }
            for (k, m) in [mm2, mm3, mm4].into_iter().enumerate() {
                a.movq(qword_ptr(D + 0x180 + 8 * k as u64), m)?;
            }
            Ok(())
        }),
    ));

    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut cases, mut names) = (Vec::new(), Vec::new());
    for (name, body) in &v {
        for k in 0..12 {
            let r = next() as u32;
            let mut data = vec![0u8; DATA_SIZE];
            for b in data.iter_mut().take(0x200) {
                *b = next() as u8;
            }
            // Lane extremes for the saturations and compares.
            if k % 3 == 0 {
                for b in data.iter_mut().take(0x50) {
                    *b = [0x00, 0x7f, 0x80, 0xff, 0x01, 0xfe][(next() % 6) as usize];
                }
            }
            // Shift counts in and just beyond the lane widths.
            if k % 2 == 0 {
                for at in [0x10, 0x28, 0x40, 0x43] {
                    data[at..at + 8].copy_from_slice(&(next() % 70).to_le_bytes());
                }
            }
            cases.push(case(body, r, data, regs(0x202, &mut next)));
            names.push(name.to_string());
        }
    }
    let d = differences(&cases, &names);
    assert!(
        d.is_empty(),
        "{} of {} differ:\n{}",
        d.len(),
        cases.len(),
        d.join("\n")
    );
}

#[test]
fn integer_simd_faults_match_host_cpu() {
    let noncanonical = 0x8000_0000_0000_0000u64;
    let bodies: Vec<(&str, Body)> = vec![
        (
            "paddb mm, m64",
            Box::new(|a, _| a.paddb(mm0, qword_ptr(D + 0x43))),
        ),
        (
            "punpcklbw mm, m32",
            Box::new(|a, _| a.punpcklbw(mm0, dword_ptr(D + 0x45))),
        ),
        (
            "movq xmm, m64",
            Box::new(|a, _| a.movq(xmm0, qword_ptr(D + 0x49))),
        ),
        (
            "movd xmm, m32",
            Box::new(|a, _| a.movd(xmm0, dword_ptr(D + 0x41))),
        ),
        (
            "movd mm, m32",
            Box::new(|a, _| a.movd(mm0, dword_ptr(D + 0x41))),
        ),
        (
            "pinsrw xmm, m16",
            Box::new(|a, _| a.pinsrw(xmm0, word_ptr(D + 0x47), 1)),
        ),
        (
            "pinsrw mm, m16",
            Box::new(|a, _| a.pinsrw(mm0, word_ptr(D + 0x47), 1)),
        ),
        (
            "movq m64, xmm",
            Box::new(|a, _| a.movq(qword_ptr(D + 0x64), xmm1)),
        ),
        (
            "movq m64, mm",
            Box::new(|a, _| a.movq(qword_ptr(D + 0x64), mm1)),
        ),
        (
            "movntq",
            Box::new(|a, _| a.movntq(qword_ptr(D + 0x71), mm1)),
        ),
        (
            "maskmovq +1",
            Box::new(|a, _| {
                a.add(rdi, 1)?;
                a.maskmovq(mm0, mm1)
            }),
        ),
        (
            "maskmovq +4",
            Box::new(|a, _| {
                a.add(rdi, 4)?;
                a.maskmovq(mm0, mm1)
            }),
        ),
        (
            "maskmovdqu +8",
            Box::new(|a, _| {
                a.add(rdi, 8)?;
                a.maskmovdqu(xmm0, xmm1)
            }),
        ),
        (
            "maskmovdqu +4",
            Box::new(|a, _| {
                a.add(rdi, 4)?;
                a.maskmovdqu(xmm0, xmm1)
            }),
        ),
        (
            "maskmovq +1, zero mask",
            Box::new(|a, _| {
                a.add(rdi, 1)?;
                a.pxor(mm1, mm1)?;
                a.maskmovq(mm0, mm1)
            }),
        ),
        (
            "maskmovdqu non-canonical, zero mask",
            Box::new(move |a, _| {
                a.mov(rdi, noncanonical)?;
                a.pxor(xmm1, xmm1)?;
                a.maskmovdqu(xmm0, xmm1)
            }),
        ),
        (
            "maskmovq non-canonical",
            Box::new(move |a, _| {
                a.mov(rdi, noncanonical)?;
                a.maskmovq(mm0, mm1)
            }),
        ),
        (
            "paddb xmm, m128 misaligned",
            Box::new(|a, _| a.paddb(xmm0, xmmword_ptr(D + 0x48))),
        ),
        (
            "psllw xmm, m128 misaligned",
            Box::new(|a, _| a.psllw(xmm0, xmmword_ptr(D + 0x44))),
        ),
        (
            "movntdq misaligned",
            Box::new(|a, _| a.movntdq(xmmword_ptr(D + 0x48), xmm0)),
        ),
        (
            "paddb mm, non-canonical",
            Box::new(move |a, _| {
                a.mov(rax, noncanonical)?;
                a.paddb(mm0, qword_ptr(rax))
            }),
        ),
    ];
    let (mut cases, mut names) = (Vec::new(), Vec::new());
    for (name, body) in &bodies {
        for ac in [false, true] {
            let data = (0..DATA_SIZE).map(|i| (i * 37 + 11) as u8).collect();
            let rflags = 0x202 | if ac { flags::AC } else { 0 };
            cases.push(case(body, 0, data, regs(rflags, || 0)));
            names.push(format!("{name} (AC = {})", u8::from(ac)));
        }
    }
    let native = run_native(&cases).expect("native run");
    assert!(native.iter().filter(|o| o.fault == Some(17)).count() >= 10);
    let d = differences(&cases, &names);
    assert!(
        d.is_empty(),
        "{} of {} differ:\n{}",
        d.len(),
        cases.len(),
        d.join("\n")
    );
}
