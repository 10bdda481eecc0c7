//! The interpreter's SSE4.1 instructions (also as the translator runs
//! them) against the host CPU: every legacy form in its register and
//! memory forms (m128 aligned; m64, m32, m16 and m8 at odd addresses),
//! with random imm8 values, on random,
//! integer-extreme and floating-point special values (±0, denormals,
//! infinities, QNaN/SNaN, halves and near-integers for the rounding)
//! under random MXCSR rounding, DAZ, FTZ and exception masks, so that
//! unmasked exceptions (#XM, nothing written) are met as well; then the
//! faults (#GP for a misaligned m128 or a non-canonical address, #AC
//! with alignment checking). Each case's whole state is compared: the
//! general registers and flags, every XMM register and MXCSR, the data
//! buffer and the fault.

mod common;

use common::{differences, Rng, F32, F64};
use cpu_model::flags;
use iced_x86::code_asm::*;
use oracle::native::run_native;
use oracle::{Case, Regs, CODE_ADDR, DATA_ADDR, DATA_SIZE};

const D: u64 = DATA_ADDR;

type Body = Box<dyn Fn(&mut CodeAssembler, u32) -> Result<(), IcedError>>;

/// 16 bytes: random, integer lane extremes, single or double specials,
/// or small floats (multiples of 1/4 up to ±8, where rounding and dot
/// products are exact or just not).
fn value(r: &mut Rng) -> [u8; 16] {
    let mut c = [0u8; 16];
    match r.next() % 6 {
        0 => c.copy_from_slice(&(u128::from(r.next()) << 64 | u128::from(r.next())).to_le_bytes()),
        1 => {
            for b in c.iter_mut() {
                *b = r.pick(&[0x00, 0x7f, 0x80, 0xff, 0x01, 0xfe]);
            }
        }
        2 => {
            for k in 0..4 {
                c[4 * k..4 * k + 4].copy_from_slice(&r.pick(F32).to_le_bytes());
            }
        }
        3 => {
            for k in 0..2 {
                c[8 * k..8 * k + 8].copy_from_slice(&r.pick(F64).to_le_bytes());
            }
        }
        4 => {
            for k in 0..4 {
                let x = (r.next() % 65) as f32 / 4.0 - 8.0;
                c[4 * k..4 * k + 4].copy_from_slice(&x.to_le_bytes());
            }
        }
        _ => {
            for k in 0..2 {
                let x = (r.next() % 65) as f64 / 4.0 - 8.0 + (r.next() % 3) as f64 * 1e-300;
                c[8 * k..8 * k + 8].copy_from_slice(&x.to_le_bytes());
            }
        }
    }
    c
}

/// MXCSR: random rounding control, DAZ and FTZ; every exception masked
/// three times in four, else random masks; random sticky flags.
fn mxcsr(r: &mut Rng) -> u32 {
    let x = r.next() as u32;
    let masks = if r.next().is_multiple_of(4) {
        x & 0x1f80
    } else {
        0x1f80
    };
    (x & (0x6000 | 0x8000 | 0x40 | 0x3f)) | masks
}

fn case(body: &Body, imm: u32, r: &mut Rng, rflags: u64) -> Case {
    let mut a = CodeAssembler::new(64).expect("64");
    body(&mut a, imm).expect("assemble");
    let code = a.assemble(CODE_ADDR).expect("assemble");
    let mut fx = oracle::initial_fx();
    for x in fx.xmm.iter_mut() {
        *x = value(r);
    }
    fx.mxcsr = mxcsr(r);
    let mut data = vec![0u8; DATA_SIZE];
    for chunk in data.chunks_exact_mut(16).take(0x20) {
        chunk.copy_from_slice(&value(r));
    }
    let mut regs = Regs {
        rflags,
        ..Regs::default()
    };
    for g in regs.gpr.iter_mut() {
        *g = r.next();
    }
    regs.gpr[4] = D + 0x1000;
    regs.gpr[3] = D + 0x100; // RBX: a base for the memory forms
    Case {
        bits: 64,
        code,
        regs,
        data,
        fx,
    }
}

/// xmm, xmm and xmm, m128 (aligned).
macro_rules! xmm_m128 {
    ($v:ident, $($m:ident),*) => {$(
        $v.push((concat!(stringify!($m), " xmm, xmm"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm1, xmm2))));
        $v.push((concat!(stringify!($m), " xmm0, xmm"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm0, xmm3))));
        $v.push((concat!(stringify!($m), " xmm, m128"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm1, xmmword_ptr(rbx + 0x40)))));
    )*};
}

/// The same with an imm8.
macro_rules! xmm_m128_imm {
    ($v:ident, $($m:ident),*) => {$(
        $v.push((concat!(stringify!($m), " xmm, xmm, imm8"), Box::new(|a: &mut CodeAssembler, r| a.$m(xmm1, xmm2, (r & 0xff) as i32))));
        $v.push((concat!(stringify!($m), " xmm, m128, imm8"), Box::new(|a: &mut CodeAssembler, r| a.$m(xmm4, xmmword_ptr(rbx + 0x50), (r & 0xff) as i32))));
    )*};
}

/// PMOVSX/PMOVZX from a register and from memory of `$mem` at an odd
/// address.
macro_rules! widening {
    ($v:ident, $mem:ident, $($m:ident),*) => {$(
        $v.push((concat!(stringify!($m), " xmm, xmm"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm1, xmm2))));
        $v.push((concat!(stringify!($m), " xmm, m"), Box::new(|a: &mut CodeAssembler, _| a.$m(xmm1, $mem(rbx + 0x43)))));
    )*};
}

fn bodies() -> Vec<(&'static str, Body)> {
    let mut v: Vec<(&str, Body)> = Vec::new();
    xmm_m128!(
        v, pmaxsb, pmaxsd, pmaxud, pmaxuw, pminsb, pminsd, pminud, pminuw, pmuldq, pmulld, pcmpeqq,
        packusdw, phminposuw, blendvps, blendvpd, pblendvb
    );
    xmm_m128_imm!(v, blendps, blendpd, pblendw, mpsadbw, dpps, dppd, roundps, roundpd);
    widening!(v, qword_ptr, pmovsxbw, pmovsxwd, pmovsxdq, pmovzxbw, pmovzxwd, pmovzxdq);
    widening!(v, dword_ptr, pmovsxbd, pmovsxwq, pmovzxbd, pmovzxwq);
    widening!(v, word_ptr, pmovsxbq, pmovzxbq);
    v.push((
        "ptest",
        Box::new(|a, _| {
            a.ptest(xmm1, xmm2)?;
            a.pushfq()?;
            a.ptest(xmm3, xmm3)?;
            a.pushfq()?;
            a.ptest(xmm0, xmmword_ptr(rbx + 0x60))
        }),
    ));
    v.push((
        "ptest, disjoint and contained",
        Box::new(|a, _| {
            a.pxor(xmm2, xmm2)?;
            a.ptest(xmm1, xmm2)?;
            a.pushfq()?;
            a.pcmpeqb(xmm2, xmm2)?;
            a.ptest(xmm2, xmm1)
        }),
    ));
    v.push((
        "roundss, roundsd",
        Box::new(|a, r| {
            a.roundss(xmm1, xmm2, (r & 0xff) as i32)?;
            a.roundss(xmm3, dword_ptr(rbx + 0x41), (r >> 8 & 0xff) as i32)?;
            a.roundsd(xmm4, xmm5, (r >> 16 & 0xff) as i32)?;
            a.roundsd(xmm6, qword_ptr(rbx + 0x45), (r >> 24 & 0xff) as i32)
        }),
    ));
    v.push((
        "insertps",
        Box::new(|a, r| {
            a.insertps(xmm1, xmm2, (r & 0xff) as i32)?;
            a.insertps(xmm3, dword_ptr(rbx + 0x47), (r >> 8 & 0xff) as i32)
        }),
    ));
    v.push((
        "movntdqa",
        Box::new(|a, _| a.movntdqa(xmm5, xmmword_ptr(rbx + 0x70))),
    ));
    v.push((
        "pextrb, pextrw, pextrd, pextrq, extractps to registers",
        Box::new(|a, r| {
            a.pextrb(eax, xmm1, (r & 0xff) as i32)?;
            a.pextrb(rcx, xmm2, (r >> 8 & 0xff) as i32)?;
            a.pextrd(edx, xmm1, (r >> 16 & 0xff) as i32)?;
            a.pextrq(rsi, xmm2, (r >> 24 & 0xff) as i32)?;
            a.extractps(edi, xmm1, (r >> 4 & 0xff) as i32)?;
            a.extractps(r8, xmm2, (r >> 12 & 0xff) as i32)?;
            // 66 0F 3A 15 /r with a register: the SSE4.1 PEXTRW.
            a.db(&[0x66, 0x45, 0x0f, 0x3a, 0x15, 0xc9, (r >> 20) as u8])?; // pextrw r9d, xmm9
            a.pextrw(r10d, xmm1, (r >> 28) as i32)
        }),
    ));
    v.push((
        "pextrb, pextrw, pextrd, pextrq, extractps to memory",
        Box::new(|a, r| {
            a.pextrb(byte_ptr(rbx + 0x81), xmm1, (r & 0xff) as i32)?;
            a.pextrw(word_ptr(rbx + 0x83), xmm2, (r >> 8 & 0xff) as i32)?;
            a.pextrd(dword_ptr(rbx + 0x85), xmm1, (r >> 16 & 0xff) as i32)?;
            a.pextrq(qword_ptr(rbx + 0x89), xmm2, (r >> 24 & 0xff) as i32)?;
            a.extractps(dword_ptr(rbx + 0x91), xmm3, (r >> 4 & 0xff) as i32)
        }),
    ));
    v.push((
        "pinsrb, pinsrd, pinsrq",
        Box::new(|a, r| {
            a.pinsrb(xmm1, eax, (r & 0xff) as i32)?;
            a.pinsrb(xmm1, byte_ptr(rbx + 0x43), (r >> 8 & 0xff) as i32)?;
            a.pinsrb(xmm2, rcx, (r >> 4 & 0xff) as i32)?;
            a.pinsrd(xmm3, edx, (r >> 16 & 0xff) as i32)?;
            a.pinsrd(xmm3, dword_ptr(rbx + 0x45), (r >> 12 & 0xff) as i32)?;
            a.pinsrq(xmm4, rsi, (r >> 24 & 0xff) as i32)?;
            a.pinsrq(xmm5, qword_ptr(rbx + 0x49), (r >> 20 & 0xff) as i32)
        }),
    ));
    v
}

#[test]
fn sse41_matches_host_cpu() {
    let mut r = Rng(0x5ee4_1a2b_3c4d_5e6f);
    let (mut cases, mut names) = (Vec::new(), Vec::new());
    for (name, body) in &bodies() {
        for _ in 0..24 {
            let imm = r.next() as u32;
            cases.push(case(body, imm, &mut r, 0x202));
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

/// DPPS and DPPD with random exception masks: an unmasked exception
/// stops them at the step (products, sums) that raises it, and MXCSR
/// shows the flags of the steps before.
#[test]
fn dot_products_with_unmasked_exceptions_match_host_cpu() {
    let v: Vec<(&str, Body)> = bodies()
        .into_iter()
        .filter(|(name, _)| name.starts_with("dpp"))
        .collect();
    assert_eq!(v.len(), 4);
    let mut r = Rng(0x0d07_5eed_0bad_cafe);
    let (mut cases, mut names) = (Vec::new(), Vec::new());
    for (name, body) in &v {
        for _ in 0..400 {
            let imm = r.next() as u32;
            let mut c = case(body, imm, &mut r, 0x202);
            c.fx.mxcsr = (c.fx.mxcsr & !0x1f80) | (r.next() as u32 & 0x1f80);
            cases.push(c);
            names.push(name.to_string());
        }
    }
    let native = run_native(&cases).expect("native run");
    assert!(native.iter().filter(|o| o.fault == Some(19)).count() >= 100);
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
fn sse41_faults_match_host_cpu() {
    let noncanonical = 0x8000_0000_0000_0000u64;
    let mut v: Vec<(&str, Body)> = vec![
        (
            "pmulld misaligned",
            Box::new(|a, _| a.pmulld(xmm1, xmmword_ptr(rbx + 0x48))),
        ),
        (
            "ptest misaligned",
            Box::new(|a, _| a.ptest(xmm1, xmmword_ptr(rbx + 0x44))),
        ),
        (
            "movntdqa misaligned",
            Box::new(|a, _| a.movntdqa(xmm1, xmmword_ptr(rbx + 0x41))),
        ),
        (
            "blendvps misaligned",
            Box::new(|a, _| a.blendvps(xmm1, xmmword_ptr(rbx + 0x48))),
        ),
        (
            "dppd misaligned",
            Box::new(|a, _| a.dppd(xmm1, xmmword_ptr(rbx + 0x48), 0x31)),
        ),
        (
            "roundps misaligned",
            Box::new(|a, _| a.roundps(xmm1, xmmword_ptr(rbx + 0x4c), 0)),
        ),
        (
            "mpsadbw misaligned",
            Box::new(|a, _| a.mpsadbw(xmm1, xmmword_ptr(rbx + 0x42), 0)),
        ),
        (
            "pmovzxbq m16 odd",
            Box::new(|a, _| a.pmovzxbq(xmm1, word_ptr(rbx + 0x41))),
        ),
        (
            "pmovsxbd m32 odd",
            Box::new(|a, _| a.pmovsxbd(xmm1, dword_ptr(rbx + 0x42))),
        ),
        (
            "pmovsxbw m64 odd",
            Box::new(|a, _| a.pmovsxbw(xmm1, qword_ptr(rbx + 0x44))),
        ),
        (
            "roundss m32 odd",
            Box::new(|a, _| a.roundss(xmm1, dword_ptr(rbx + 0x41), 0)),
        ),
        (
            "roundsd m64 odd",
            Box::new(|a, _| a.roundsd(xmm1, qword_ptr(rbx + 0x44), 0)),
        ),
        (
            "insertps m32 odd",
            Box::new(|a, _| a.insertps(xmm1, dword_ptr(rbx + 0x42), 0)),
        ),
        (
            "pinsrd m32 odd",
            Box::new(|a, _| a.pinsrd(xmm1, dword_ptr(rbx + 0x42), 0)),
        ),
        (
            "pinsrq m64 odd",
            Box::new(|a, _| a.pinsrq(xmm1, qword_ptr(rbx + 0x44), 0)),
        ),
        (
            "pextrw m16 odd",
            Box::new(|a, _| a.pextrw(word_ptr(rbx + 0x41), xmm1, 0)),
        ),
        (
            "pextrd m32 odd",
            Box::new(|a, _| a.pextrd(dword_ptr(rbx + 0x42), xmm1, 0)),
        ),
        (
            "pextrq m64 odd",
            Box::new(|a, _| a.pextrq(qword_ptr(rbx + 0x44), xmm1, 0)),
        ),
        (
            "extractps m32 odd",
            Box::new(|a, _| a.extractps(dword_ptr(rbx + 0x41), xmm1, 0)),
        ),
        // The m32/m64 loads of SSE/SSE2 go through the same operand
        // helper.
        (
            "addss m32 odd",
            Box::new(|a, _| a.addss(xmm1, dword_ptr(rbx + 0x41))),
        ),
        (
            "movhps m64 odd",
            Box::new(|a, _| a.movhps(xmm1, qword_ptr(rbx + 0x44))),
        ),
        (
            "cvtps2pd m64 odd",
            Box::new(|a, _| a.cvtps2pd(xmm1, qword_ptr(rbx + 0x44))),
        ),
    ];
    v.push((
        "pextrb non-canonical",
        Box::new(move |a, _| {
            a.mov(rax, noncanonical)?;
            a.pextrb(byte_ptr(rax), xmm1, 0)
        }),
    ));
    v.push((
        "pmovzxbw non-canonical",
        Box::new(move |a, _| {
            a.mov(rax, noncanonical)?;
            a.pmovzxbw(xmm1, qword_ptr(rax))
        }),
    ));
    let mut r = Rng(0x0fa0_17ed_cafe_f00d);
    let (mut cases, mut names) = (Vec::new(), Vec::new());
    for (name, body) in &v {
        for ac in [false, true] {
            let rflags = 0x202 | if ac { flags::AC } else { 0 };
            cases.push(case(body, 0, &mut r, rflags));
            names.push(format!("{name} (AC = {})", u8::from(ac)));
        }
    }
    let native = run_native(&cases).expect("native run");
    assert!(native.iter().filter(|o| o.fault == Some(13)).count() >= 9);
    let d = differences(&cases, &names);
    assert!(
        d.is_empty(),
        "{} of {} differ:\n{}",
        d.len(),
        cases.len(),
        d.join("\n")
    );
}
