//! Random straight-line programs of natively translated instructions
//! (with random register values and flags) give the interpreter's results.

mod common;
use common::*;
use cpu_model::flags;
use iced_x86::code_asm::*;

const R64: [AsmRegister64; 15] = [
    rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15,
];
const R32: [AsmRegister32; 15] = [
    eax, ecx, edx, ebx, ebp, esi, edi, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d,
];
const R16: [AsmRegister16; 15] = [
    ax, cx, dx, bx, bp, si, di, r8w, r9w, r10w, r11w, r12w, r13w, r14w, r15w,
];
/// Byte registers usable with a REX prefix, and the legacy high bytes.
const R8: [AsmRegister8; 15] = [
    al, cl, dl, bl, bpl, sil, dil, r8b, r9b, r10b, r11b, r12b, r13b, r14b, r15b,
];
const R8H: [AsmRegister8; 8] = [al, cl, dl, bl, ah, ch, dh, bh];

fn one(a: &mut CodeAssembler, r: &mut Rng) {
    let x = r.next();
    let i = (x % 15) as usize;
    let j = ((x >> 8) % 15) as usize;
    let h1 = R8H[((x >> 16) % 8) as usize];
    let h2 = R8H[((x >> 20) % 8) as usize];
    let imm = r.next() as i64;
    let imm32 = imm as i32;
    let sz = (x >> 24) % 5;
    let op = (x >> 28) % 16;
    macro_rules! bin {
        ($m:ident) => {
            match sz {
                0 => a.$m(R64[i], R64[j]),
                1 => a.$m(R32[i], R32[j]),
                2 => a.$m(R16[i], R16[j]),
                3 => a.$m(h1, h2),
                _ => a.$m(R32[i], imm32),
            }
        };
    }
    macro_rules! un {
        ($m:ident) => {
            match sz {
                0 => a.$m(R64[i]),
                1 => a.$m(R32[i]),
                2 => a.$m(R16[i]),
                3 => a.$m(h1),
                _ => a.$m(R8[i]),
            }
        };
    }
    let c = (imm as u32) % 70;
    macro_rules! sh {
        ($m:ident) => {
            match sz {
                0 => a.$m(R64[i], c),
                1 => a.$m(R32[i], c),
                2 => a.$m(R16[i], c),
                3 => a.$m(h1, c),
                _ => a.$m(R8[i], c),
            }
        };
    }
    let res = match op {
        0 => match (x >> 40) % 10 {
            0 => bin!(add),
            1 => bin!(adc),
            2 => bin!(sub),
            3 => bin!(sbb),
            4 => bin!(and),
            5 => bin!(or),
            6 => bin!(xor),
            7 => bin!(cmp),
            8 => bin!(test),
            _ => bin!(mov),
        },
        1 => match (x >> 40) % 4 {
            0 => un!(inc),
            1 => un!(dec),
            2 => un!(neg),
            _ => un!(not),
        },
        2 => match (x >> 40) % 9 {
            0 => sh!(shl),
            1 => sh!(shr),
            2 => sh!(sar),
            // Rotates by an immediate.
            3 if sz < 2 => sh!(rol),
            4 if sz >= 2 => sh!(ror),
            // By CL (any count, zero included).
            3 => a.shl(R64[i], cl),
            4 => a.shr(R32[i], cl),
            5 => a.sar(R64[i], cl),
            6 => a.shl(R32[i], cl),
            7 => a.sar(R32[i], cl),
            _ => a.shr(R64[i], cl),
        },
        3 => a.lea(R64[i], qword_ptr(R64[j] + R64[(i + j) % 15] * 4 + imm32)),
        4 => a.lea(R32[i], dword_ptr(R64[j] + imm32)),
        5 => a.lea(R16[i], word_ptr(R32[j] + R32[i] * 8)),
        6 => match sz {
            0 => a.movzx(R64[i], R8[j]),
            1 => a.movzx(R32[i], R16[j]),
            2 => a.movsx(R16[i], R8[j]),
            3 => a.movsx(R32[i % 7], h1),
            _ => a.movsxd(R64[i], R32[j]),
        },
        7 => match (x >> 40) % 4 {
            0 => a.setl(R8[i]),
            1 => a.seta(h1),
            2 => a.seto(R8[j]),
            _ => a.setp(R8[i]),
        },
        8 => match sz {
            0 => a.cmovg(R64[i], R64[j]),
            1 => a.cmovbe(R32[i], R32[j]),
            2 => a.cmovns(R16[i], R16[j]),
            3 => a.cmovo(R32[i], R32[j]),
            _ => a.cmovnp(R64[i], R64[j]),
        },
        9 => a.mov(R64[i], imm as u64),
        10 => match sz {
            0 => a.add(R64[i], imm32),
            1 => a.sub(R16[i], imm as i16 as i32),
            2 => a.xor(R8[i], imm as i8 as i32),
            3 => a.adc(h1, imm as i8 as i32),
            _ => a.cmp(R64[i], imm32),
        },
        11 => match sz {
            0 => a.sbb(R64[i], R64[j]),
            1 => a.adc(R8[i], R8[j]),
            2 => a.test(R8[i], R8[j]),
            3 => a.xor(h1, h2),
            _ => a.or(R16[i], imm as i16 as i32),
        },
        12 => match (x >> 40) % 10 {
            0 => a.mov(qword_ptr(0x3000), R64[i]),
            1 => a.add(qword_ptr(0x3008), R64[i]),
            2 => a.inc(dword_ptr(0x3010)),
            3 => a.cmp(word_ptr(0x3012), imm as i16 as i32),
            4 => a.neg(byte_ptr(0x3001)),
            5 => a.not(qword_ptr(0x3000)),
            6 => a.sbb(dword_ptr(0x3004), R32[j]),
            7 => a.test(byte_ptr(0x3007), h1),
            8 => a.xor(qword_ptr(0x3018), imm32),
            _ => a.dec(word_ptr(0x300e)),
        },
        13 => match sz {
            0 => a.imul_2(R64[i], R64[j]),
            1 => a.imul_2(R32[i], R32[j]),
            2 => a.imul_2(R16[i], R16[j]),
            3 => a.imul_3(R32[i], R32[j], imm32),
            _ => a.imul_3(R64[i], R64[j], imm as i8 as i32),
        },
        14 => match (x >> 40) % 12 {
            0 => a.cbw(),
            1 => a.cwde(),
            2 => a.cdqe(),
            3 => a.cwd(),
            4 => a.cdq(),
            5 => a.cqo(),
            6 => a.stc(),
            7 => a.clc(),
            8 => a.cmc(),
            9 => a.nop(),
            10 => a.bswap(R32[i]),
            _ => a.bswap(R64[i]),
        },
        _ => match sz {
            0 => a.xchg(R64[i], R64[j]),
            1 => a.xchg(R32[i], R32[j]),
            2 => a.xchg(R16[i], R16[j]),
            3 => a.xchg(h1, h2),
            _ => a.xchg(R8[i], R8[j]),
        },
    };
    res.unwrap();
}

#[test]
fn random_blocks_64() {
    let mut r = Rng(0x1234_5678_9abc_def1);
    let mut native = 0;
    for _ in 0..2000 {
        let mut a = CodeAssembler::new(64).unwrap();
        let n = 1 + r.next() % 40;
        for _ in 0..n {
            one(&mut a, &mut r);
        }
        a.hlt().unwrap();
        let code = a.assemble(CODE).unwrap();
        let (mut cpu, bus) = long64(&code);
        for (k, g) in cpu.state.gpr.iter_mut().enumerate() {
            if k != 4 {
                let v = r.next();
                // Mix in small and boundary values.
                *g = match v % 7 {
                    0 => 0,
                    1 => v % 3,
                    2 => 1 << (v % 64),
                    3 => u64::MAX,
                    _ => v,
                };
            }
        }
        cpu.state.rflags = flags::FIXED | (r.next() & flags::STATUS);
        let (_, _, jit) = compare(cpu, bus, 1000);
        native += jit.stats().native_instructions;
    }
    assert!(native > 20_000, "{native}");
}

/// Random 32-bit and 16-bit programs (protected and real mode) with
/// forward branches, memory operands and stack operations.
fn one_legacy(a: &mut CodeAssembler, r: &mut Rng, bits: u32, labels: &mut Vec<CodeLabel>) {
    const E: [AsmRegister32; 7] = [eax, ecx, edx, ebx, ebp, esi, edi];
    const W: [AsmRegister16; 7] = [ax, cx, dx, bx, bp, si, di];
    const B: [AsmRegister8; 8] = [al, cl, dl, bl, ah, ch, dh, bh];
    let x = r.next();
    let (i, j) = ((x % 7) as usize, ((x >> 8) % 7) as usize);
    let (bi, bj) = (B[((x >> 16) % 8) as usize], B[((x >> 20) % 8) as usize]);
    let imm = (r.next() as i32) >> (x % 24);
    // A memory operand at 0x3000..0x3100 (16-bit: [bx+si] style too).
    let disp = 0x3000 + (x >> 32) as i32 % 0x100;
    let m32 = dword_ptr(disp);
    let m16 = word_ptr(disp);
    let res = match (x >> 40) % 18 {
        0 => a.add(E[i], E[j]),
        1 => a.sub(W[i], W[j]),
        2 => a.adc(bi, bj),
        3 => a.xor(E[i], imm),
        4 => a.cmp(W[i], imm as i16 as i32),
        5 => a.shl(E[i], (imm as u32) % 40),
        6 => a.sar(bi, (imm as u32) % 10),
        7 => a.lea(E[i], dword_ptr(E[j] + E[(i + 1) % 7] * 2 + imm)),
        8 => a.movzx(E[i], bi),
        9 => a.mov(E[i], m32),
        10 => a.mov(m16, W[j]),
        11 => a.add(W[i], m16),
        12 => a.push(E[i]),
        13 => a.pop(E[j]),
        14 => a.cmovge(W[i], m16),
        15 => a.setnz(bi),
        16 => match x % 4 {
            0 => a.inc(E[i]),
            1 => a.add(m32, E[j]),
            2 => a.dec(word_ptr(disp)),
            _ => a.or(byte_ptr(disp), bi),
        },
        _ => {
            // A forward conditional branch to a label placed later.
            let l = a.create_label();
            labels.push(l);
            if bits == 16 {
                a.jl(l)
            } else {
                a.jnp(l)
            }
        }
    };
    res.unwrap();
    // Place a pending label now and then.
    if r.next().is_multiple_of(3) {
        if let Some(mut l) = labels.pop() {
            a.set_label(&mut l).unwrap();
            a.nop().unwrap();
        }
    }
}

#[test]
fn random_blocks_32_and_16() {
    let mut r = Rng(0x0bad_cafe_1234_5679);
    for round in 0..600 {
        let bits = if round % 2 == 0 { 32 } else { 16 };
        let mut a = CodeAssembler::new(bits).unwrap();
        let mut labels = Vec::new();
        let n = 1 + r.next() % 40;
        for _ in 0..n {
            one_legacy(&mut a, &mut r, bits, &mut labels);
        }
        for mut l in labels.drain(..) {
            a.set_label(&mut l).unwrap();
            a.nop().unwrap();
        }
        a.hlt().unwrap();
        let code = a.assemble(CODE).unwrap();
        let (mut cpu, mut bus) = if bits == 32 {
            prot32(&code)
        } else {
            real_mode(&code)
        };
        for (k, g) in cpu.state.gpr.iter_mut().enumerate().take(8) {
            if k != 4 {
                *g = r.next() & if bits == 16 { 0xffff } else { 0xffff_ffff };
            }
        }
        cpu.state.gpr[4] = 0x8000;
        cpu.state.rflags = flags::FIXED | (r.next() & flags::STATUS);
        for b in &mut bus.ram[0x3000..0x3200] {
            *b = r.next() as u8;
        }
        compare(cpu, bus, 1000);
    }
}

/// LOOP / LOOPE / LOOPNE (native branches) with 16-, 32- and 64-bit
/// counters, including a zero counter (wraps: 2^n iterations for CX) and
/// ZF changed by the body, in all three code sizes.
#[test]
fn loop_instructions() {
    let mut r = Rng(0x100b_100b_0000_0001);
    for round in 0..150 {
        let bits = [64, 32, 16][round % 3];
        let mut a = CodeAssembler::new(bits).unwrap();
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        a.add(edx, 3).unwrap();
        a.cmp(dl, (r.next() % 256) as i32).unwrap();
        let res = match (r.next() % 3, bits) {
            (0, _) => a.loop_(top),
            (1, _) => a.loope(top),
            _ => a.loopne(top),
        };
        res.unwrap();
        a.hlt().unwrap();
        let code = a.assemble(CODE).unwrap();
        let (mut cpu, bus) = match bits {
            64 => long64(&code),
            32 => prot32(&code),
            _ => real_mode(&code),
        };
        // Small counts mostly; zero (a full wrap of CX) now and then.
        cpu.state.gpr[1] = match r.next() % 5 {
            0 => 0,
            1 => r.next() | 0x1_0000_0000_0000,
            _ => r.next() % 300,
        };
        cpu.state.gpr[2] = r.next();
        cpu.state.rflags = flags::FIXED | (r.next() & flags::STATUS);
        compare(cpu, bus, 300_000);
    }
}
