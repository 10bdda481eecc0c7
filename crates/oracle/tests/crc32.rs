//! CRC32 (SSE4.2) against the host CPU, in the interpreter and in the
//! translator: every form (r32 <- r/m8, r/m16, r/m32; r64 <- r/m8, r/m64),
//! register and memory sources (memory also across a page boundary),
//! 32-bit (compatibility mode) and 64-bit code, chained loops of updates.
//! CRC32 is an integer instruction, so the oracle's own machine (without
//! CR4.OSFXSR) runs it.

use iced_x86::code_asm::*;
use oracle::emulate::{run_emulated, Engine};
use oracle::native::run_native;
use oracle::{Case, Regs, CODE_ADDR, DATA_ADDR, DATA_SIZE};

type Body = fn(&mut CodeAssembler) -> Result<(), IcedError>;

fn assemble(bits: u32, body: Body) -> Vec<u8> {
    let mut a = CodeAssembler::new(bits).expect("bits");
    body(&mut a).expect("assemble");
    a.assemble(CODE_ADDR).expect("assemble")
}

/// xorshift64*
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed | 1;
    move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn crc32_matches_host_cpu_in_both_engines() {
    if !std::arch::is_x86_feature_detected!("sse4.2") {
        eprintln!("host without SSE4.2: nothing to compare against");
        return;
    }
    let d = DATA_ADDR;
    let bodies64: Vec<(&str, Body)> = vec![
        ("crc32 eax, cl", |a| a.crc32(eax, cl)),
        ("crc32 eax, ah", |a| a.crc32(eax, ah)),
        ("crc32 r9d, sil", |a| a.crc32(r9d, sil)),
        ("crc32 eax, cx", |a| a.crc32(eax, cx)),
        ("crc32 eax, ecx", |a| a.crc32(eax, ecx)),
        ("crc32 rax, cl", |a| a.crc32(rax, cl)),
        ("crc32 rax, rcx", |a| a.crc32(rax, rcx)),
        ("crc32 r15, r8", |a| a.crc32(r15, r8)),
        ("crc32 eax, byte [rbx]", |a| a.crc32(eax, byte_ptr(rbx))),
        ("crc32 eax, word [rbx+1]", |a| {
            a.crc32(eax, word_ptr(rbx + 1))
        }),
        ("crc32 eax, dword [rbx+3]", |a| {
            a.crc32(eax, dword_ptr(rbx + 3))
        }),
        ("crc32 rax, byte [rbx]", |a| a.crc32(rax, byte_ptr(rbx))),
        ("crc32 rax, qword [rbx+5]", |a| {
            a.crc32(rax, qword_ptr(rbx + 5))
        }),
        // The source crossing from the first data page into the second.
        ("crc32 rax, qword [page end - 3]", |a| {
            a.crc32(rax, qword_ptr(DATA_ADDR + 0xffd))
        }),
        ("crc32 eax, dword [page end - 1]", |a| {
            a.crc32(eax, dword_ptr(DATA_ADDR + 0xfff))
        }),
        // A loop of 64 qword updates over the buffer (a hot, chained block
        // under the translator).
        ("crc32 loop", |a| {
            let mut top = a.create_label();
            a.mov(ecx, 64)?;
            a.set_label(&mut top)?;
            a.crc32(rax, qword_ptr(rbx + rcx * 8))?;
            a.crc32(eax, byte_ptr(rbx + rcx))?;
            a.dec(ecx)?;
            a.jnz(top)
        }),
    ];
    let bodies32: Vec<(&str, Body)> = vec![
        ("crc32 eax, cl (32-bit)", |a| a.crc32(eax, cl)),
        ("crc32 eax, cx (32-bit)", |a| a.crc32(eax, cx)),
        ("crc32 eax, dword [ebx] (32-bit)", |a| {
            a.crc32(eax, dword_ptr(ebx))
        }),
        ("crc32 edx, byte [ebx+7] (32-bit)", |a| {
            a.crc32(edx, byte_ptr(ebx + 7))
        }),
    ];
    let mut next = rng(0x5eed_c7c3);
    let mut cases = Vec::new();
    let mut names = Vec::new();
    for round in 0..8 {
        for (bits, bodies) in [(64, &bodies64), (32, &bodies32)] {
            for (name, body) in bodies.iter() {
                let mut regs = Regs {
                    rflags: 0x202 | (next() & 0x8d5),
                    rip: CODE_ADDR,
                    ..Regs::default()
                };
                for g in regs.gpr.iter_mut() {
                    *g = next();
                }
                regs.gpr[3] = d + (next() % 0x100);
                regs.gpr[4] = d + 0x1000;
                if round == 0 {
                    regs.gpr[0] = 0;
                }
                let data: Vec<u8> = (0..DATA_SIZE).map(|_| next() as u8).collect();
                cases.push(Case {
                    bits,
                    code: assemble(bits, *body),
                    regs,
                    data,
                    fx: oracle::initial_fx(),
                });
                names.push(*name);
            }
        }
    }
    let native = run_native(&cases).expect("native run");
    let mut bad = Vec::new();
    for engine in [Engine::Interp, Engine::Jit] {
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(native[i].fault, None, "{}: the host faulted", names[i]);
            let d = oracle::compare(
                c.bits,
                &native[i],
                &run_emulated(c, engine, &cpu_model::model::XLAT),
            );
            if !d.is_empty() {
                bad.push(format!("{engine:?} {}: {d}", names[i]));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} differences:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
