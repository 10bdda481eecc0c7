//! SSE4.2's compares against the host CPU: PCMPESTRI, PCMPESTRM,
//! PCMPISTRI and PCMPISTRM with random imm8 (every bit, the reserved
//! bit 7 included), register and unaligned memory sources, explicit
//! lengths in EAX/EDX or RAX/RDX (REX.W) that are small, negative, beyond
//! the element count or huge, and operands drawn from a small alphabet
//! with nulls so that every aggregation finds matches; then PCMPGTQ on
//! extreme quadwords and its alignment fault. Each case is compared whole
//! (ECX/RCX and every other register, XMM0 and the other XMM registers,
//! the six status flags, memory, the fault) in both engines.

mod common;

use common::{check, Rng};
use cpu_model::fxstate::FxState;
use iced_x86::code_asm::*;
use oracle::native::run_native;
use oracle::{Case, Regs, CODE_ADDR, DATA_ADDR, DATA_SIZE};

const D: u64 = DATA_ADDR;

/// 16 bytes from an alphabet small enough for matches, with nulls now
/// and then (bytes and words), or random bytes.
fn operand(r: &mut Rng) -> [u8; 16] {
    const ALPHABET: &[u8] = &[b'a', b'b', b'c', 0x01, 0x7f, 0x80, 0xff, 0x00];
    let mut v = [0u8; 16];
    match r.below(4) {
        0 => v.copy_from_slice(&(u128::from(r.next()) << 64 | u128::from(r.next())).to_le_bytes()),
        1 => {
            // Words from a small set (signed extremes included).
            const WORDS: &[u16] = &[0x0061, 0x6100, 0x0062, 0x7fff, 0x8000, 0xffff, 0, 0x0001];
            for k in 0..8 {
                let w = WORDS[r.below(WORDS.len() as u64) as usize];
                v[2 * k..2 * k + 2].copy_from_slice(&w.to_le_bytes());
            }
        }
        _ => {
            // Nulls rare enough that many strings run to the end.
            let alphabet = if r.below(2) == 0 {
                &ALPHABET[..7]
            } else {
                ALPHABET
            };
            for b in v.iter_mut() {
                *b = alphabet[r.below(alphabet.len() as u64) as usize];
            }
        }
    }
    v
}

/// An explicit length: around the element counts, negative, or extreme.
fn length(r: &mut Rng) -> u64 {
    match r.below(6) {
        0 => r.next(),
        1 => [
            i32::MIN as u64,
            i64::MIN as u64,
            0x8000_0000,
            0xffff_ffff,
            0x1_0000_0005,
        ][r.below(5) as usize],
        2 => (r.below(41) as i64 - 20) as u64,
        // A 32-bit value with garbage above it.
        3 => r.next() << 32 | r.below(20),
        _ => r.below(18),
    }
}

type Body = fn(&mut CodeAssembler, i32) -> Result<(), IcedError>;

/// The string compares, each as register and as memory (at an address
/// that is not 16-byte aligned) form.
const STRING_FORMS: &[(&str, Body)] = &[
    ("pcmpestri xmm", |a, i| a.pcmpestri(xmm1, xmm2, i)),
    ("pcmpestri m128", |a, i| {
        a.pcmpestri(xmm1, xmmword_ptr(D + 0x43), i)
    }),
    ("pcmpestri64 xmm", |a, i| a.pcmpestri64(xmm1, xmm2, i)),
    ("pcmpestri64 m128", |a, i| {
        a.pcmpestri64(xmm3, xmmword_ptr(D + 0x41), i)
    }),
    ("pcmpestrm xmm", |a, i| a.pcmpestrm(xmm1, xmm2, i)),
    ("pcmpestrm m128", |a, i| {
        a.pcmpestrm(xmm0, xmmword_ptr(D + 0x47), i)
    }),
    ("pcmpestrm64 xmm", |a, i| a.pcmpestrm64(xmm3, xmm0, i)),
    ("pcmpestrm64 m128", |a, i| {
        a.pcmpestrm64(xmm1, xmmword_ptr(D + 0x40), i)
    }),
    ("pcmpistri xmm", |a, i| a.pcmpistri(xmm1, xmm2, i)),
    ("pcmpistri m128", |a, i| {
        a.pcmpistri(xmm2, xmmword_ptr(D + 0x4f), i)
    }),
    ("pcmpistrm xmm", |a, i| a.pcmpistrm(xmm1, xmm2, i)),
    ("pcmpistrm m128", |a, i| {
        a.pcmpistrm(xmm0, xmmword_ptr(D + 0x45), i)
    }),
];

fn assemble(body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).expect("64");
    body(&mut a).expect("assemble");
    a.assemble(CODE_ADDR).expect("assemble")
}

/// A case with random registers, XMM0–XMM3 and data around D + 0x40 from
/// `operand`, RAX/RDX from `length`.
fn case(r: &mut Rng, code: Vec<u8>) -> Case {
    let mut regs = Regs {
        rflags: 0x202 | (r.next() & 0x8d5),
        ..Regs::default()
    };
    for g in regs.gpr.iter_mut() {
        *g = r.next();
    }
    regs.gpr[0] = length(r);
    regs.gpr[2] = length(r);
    regs.gpr[4] = D + 0x1000;
    let mut fx: FxState = oracle::initial_fx();
    for x in fx.xmm.iter_mut().take(4) {
        *x = operand(r);
    }
    let mut data = vec![0u8; DATA_SIZE];
    for k in 0..4 {
        data[0x40 + 16 * k..0x50 + 16 * k].copy_from_slice(&operand(r));
    }
    // The same string in a register and in memory now and then, for the
    // equal-each and equal-ordered matches.
    if r.below(4) == 0 {
        let from = fx.xmm[1];
        let at = 0x40 + r.below(16) as usize;
        data[at..at + 16].copy_from_slice(&from);
        fx.xmm[2] = from;
    }
    Case {
        bits: 64,
        code,
        regs,
        data,
        fx,
    }
}

#[test]
fn string_compares_match_host_cpu() {
    let mut r = Rng(0x5e42_0000_1234_5679);
    let (mut cases, mut names) = (Vec::new(), Vec::new());
    for (name, body) in STRING_FORMS {
        // Every imm8 once, then random ones.
        for k in 0..512u32 {
            let imm = if k < 256 { k } else { r.below(256) as u32 } as i32;
            let code = assemble(|a| body(a, imm));
            cases.push(case(&mut r, code));
            names.push(format!("{name}, imm8 {imm:#04x}"));
        }
    }
    assert!(cases.len() >= 6000);
    check(&cases, &names);
}

#[test]
fn pcmpgtq_matches_host_cpu() {
    let mut r = Rng(0x9e7_0000_abcd_ef01);
    let extremes = [
        0,
        1,
        u64::MAX,
        i64::MIN as u64,
        i64::MAX as u64,
        0x8000_0000,
    ];
    let bodies: [(&str, Body); 3] = [
        ("pcmpgtq xmm", |a, _| a.pcmpgtq(xmm0, xmm1)),
        ("pcmpgtq m128", |a, _| {
            a.pcmpgtq(xmm2, xmmword_ptr(D + 0x40))
        }),
        ("pcmpgtq m128 misaligned", |a, _| {
            a.pcmpgtq(xmm2, xmmword_ptr(D + 0x48))
        }),
    ];
    let (mut cases, mut names) = (Vec::new(), Vec::new());
    for (name, body) in bodies {
        for _ in 0..200 {
            let code = assemble(|a| body(a, 0));
            let mut c = case(&mut r, code);
            for x in c.fx.xmm.iter_mut().take(3) {
                for q in 0..2 {
                    let v = if r.below(2) == 0 {
                        extremes[r.below(6) as usize]
                    } else {
                        r.next()
                    };
                    x[8 * q..8 * q + 8].copy_from_slice(&v.to_le_bytes());
                }
            }
            cases.push(c);
            names.push(name.to_string());
        }
    }
    let native = run_native(&cases).expect("native run");
    assert_eq!(
        native.iter().filter(|o| o.fault == Some(13)).count(),
        200,
        "the misaligned form faults natively"
    );
    check(&cases, &names);
}
