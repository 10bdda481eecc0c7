//! SSE/SSE2 and CRC32 under the translator (native host instructions on
//! the guest's XMM registers) against the interpreter: random sequences
//! over special floating-point values, with memory operands near and
//! across a page boundary (aligned forms also misaligned: #GP), random
//! MXCSR (rounding, DAZ, FTZ, unmasked exceptions: #XM or #UD), LDMXCSR
//! in mid-block, CR0.TS/EM and CR4.OSFXSR changed between runs of cached
//! blocks, CRC32 of every size; every bit of the state compared.

mod common;
use common::*;
use cpu_model::exception::Exception;
use cpu_model::memory::FlatBus;
use cpu_model::state::{cr0, cr4};
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use translator::Jit;

/// The data the memory operands address: rbx = DATA + 0xf00, so
/// displacements 0..0x200 cover the page boundary at DATA + 0x1000.
const DATA: u64 = 0x20000;
const BASE: u64 = DATA + 0xf00;
/// Valid MXCSR values LDMXCSR loads (offset from BASE).
const MXCSR_TABLE: i32 = 0x300;
const MXCSRS: [u32; 8] = [
    0x1f80, 0x9fc0, 0x3f80, 0x5f80, 0x7f80, 0x1f00, 0x1d80, 0x0000,
];

const X64: [AsmRegisterXmm; 16] = [
    xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14,
    xmm15,
];

/// Interesting 32-bit lanes: zeros, denormals, normals, extremes,
/// infinities, QNaN/SNaN, and f64 halves of the same kinds.
const LANES: [u32; 20] = [
    0,
    0x8000_0000,
    0x0000_0001,
    0x807f_ffff,
    0x0080_0000,
    0x3fc0_0000,
    0xbf80_0000,
    0x7f7f_ffff,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0x7f80_0001,
    0xffc0_0000,
    0x4f00_0000,
    0x000f_ffff,
    0x7ff0_0000,
    0x7ff8_0000,
    0x3ff8_0000,
    0x8010_0000,
    0x4330_0000,
];

fn lane(r: &mut Rng) -> u32 {
    let x = r.next();
    if x.is_multiple_of(3) {
        (x >> 8) as u32
    } else {
        LANES[((x >> 8) % LANES.len() as u64) as usize]
    }
}

/// A random MXCSR: any rounding control, DAZ, FTZ and sticky flags;
/// all exceptions masked three times in four.
fn random_mxcsr(r: &mut Rng) -> u32 {
    let x = r.next();
    let masks = if x.is_multiple_of(4) {
        (x >> 8) as u32 & 0x1f80
    } else {
        0x1f80
    };
    masks | (x >> 20) as u32 & 0xe07f
}

/// One random SSE/SSE2/CRC32 instruction. GPRs: eax/ecx/edx/esi (and
/// their other sizes) as operands; rbx is the base, r15 the loop counter.
fn one(a: &mut CodeAssembler, r: &mut Rng, bits: u32) -> Result<(), IcedError> {
    let nregs = if bits == 64 { 16 } else { 8 };
    let long = bits == 64;
    // [rbx + d] (64-bit code) or [ebx + d] (32-bit code).
    let at = |d: i32| if long { rbx + d } else { ebx + d };
    let x = r.next();
    let d = X64[(x % nregs as u64) as usize];
    let s = X64[((x >> 4) % nregs as u64) as usize];
    // Mostly aligned m128 displacements; one in 24 misaligned (#GP for
    // the aligned forms).
    let disp = ((x >> 8) % 0x1f0) as i32;
    let d16 = if (x >> 20).is_multiple_of(24) {
        disp
    } else {
        disp & !15
    };
    let m128 = xmmword_ptr(at(d16));
    let m64 = qword_ptr(at(disp));
    let m32 = dword_ptr(at(disp));
    let imm = ((x >> 32) & 0xff) as u32;
    let mem = (x >> 40).is_multiple_of(3);
    macro_rules! p {
        ($($m:ident),*) => {{
            let ops: &[fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> Result<(), IcedError>] = &[$(|a, d, s| a.$m(d, s)),*];
            let opm: &[fn(&mut CodeAssembler, AsmRegisterXmm, AsmMemoryOperand) -> Result<(), IcedError>] = &[$(|a, d, m| a.$m(d, m)),*];
            let k = ((x >> 44) % ops.len() as u64) as usize;
            if mem { opm[k](a, d, m128) } else { ops[k](a, d, s) }
        }};
    }
    macro_rules! scalar {
        ($mem:expr, $($m:ident),*) => {{
            let ops: &[fn(&mut CodeAssembler, AsmRegisterXmm, AsmRegisterXmm) -> Result<(), IcedError>] = &[$(|a, d, s| a.$m(d, s)),*];
            let opm: &[fn(&mut CodeAssembler, AsmRegisterXmm, AsmMemoryOperand) -> Result<(), IcedError>] = &[$(|a, d, m| a.$m(d, m)),*];
            let k = ((x >> 44) % ops.len() as u64) as usize;
            if mem { opm[k](a, d, $mem) } else { ops[k](a, d, s) }
        }};
    }
    match (x >> 50) % 20 {
        0 => p!(
            addps, subps, mulps, divps, minps, maxps, sqrtps, cmpeqps, cmpltps, cmpunordps, rcpps,
            rsqrtps
        ),
        1 => p!(addpd, subpd, mulpd, divpd, minpd, maxpd, sqrtpd, cmplepd, cmpneqpd),
        2 => scalar!(
            m32, addss, subss, mulss, divss, minss, maxss, sqrtss, cmpless, cvtss2sd, rcpss,
            rsqrtss
        ),
        3 => scalar!(m64, addsd, subsd, mulsd, divsd, minsd, maxsd, sqrtsd, cmpnltsd, cvtsd2ss),
        4 => p!(cvtdq2ps, cvtps2dq, cvttps2dq, cvtpd2ps, cvtpd2dq, cvttpd2dq),
        5 => scalar!(m64, cvtps2pd, cvtdq2pd),
        6 => p!(andps, andnps, orps, xorps, andpd, andnpd, orpd, xorpd, unpcklps, unpckhpd),
        7 => p!(
            paddb, paddw, paddd, paddq, paddsb, paddusw, psubb, psubw, psubd, psubq, psubsw,
            psubusb
        ),
        8 => p!(pand, pandn, por, pxor, pcmpeqb, pcmpeqw, pcmpeqd, pcmpgtb, pcmpgtw, pcmpgtd),
        9 => p!(pmullw, pmulhw, pmulhuw, pmuludq, pmaddwd, pavgb, pavgw, pminub, pmaxsw, psadbw),
        10 => p!(
            punpcklbw, punpcklwd, punpckldq, punpcklqdq, punpckhbw, punpckhwd, punpckhdq,
            punpckhqdq, packsswb, packssdw, packuswb
        ),
        11 => match (x >> 44) % 8 {
            0 if mem => a.pshufd(d, m128, imm),
            0 => a.pshufd(d, s, imm),
            1 => a.shufps(d, s, imm),
            2 => a.pshufhw(d, s, imm),
            3 => a.shufpd(d, s, imm & 3),
            4 => a.psllw(d, imm % 20),
            5 => a.psrad(d, imm % 40),
            6 => a.psrlq(d, imm % 70),
            _ if (x >> 60) & 1 == 0 => a.pslldq(d, imm % 20),
            _ => a.psrldq(d, imm % 20),
        },
        12 => match (x >> 44) % 12 {
            0 => a.movaps(d, if mem { m128 } else { xmmword_ptr(at(0x40)) }),
            1 => a.movups(d, xmmword_ptr(at(disp))),
            2 => a.movdqa(m128, s),
            3 => a.movdqu(xmmword_ptr(at(disp)), s),
            4 => a.movss(d, m32),
            5 => a.movsd_2(m64, s),
            6 => a.movss(d, s),
            7 => a.movsd_2(d, s),
            8 => a.movhps(d, m64),
            9 => a.movlpd(m64, s),
            10 => a.movq(d, s),
            _ => a.movapd(d, s),
        },
        13 => match (x >> 44) % 10 {
            0 => a.movd(eax, s),
            1 if long => a.movq(rcx, s),
            1 => a.movd(ecx, s),
            2 => a.movd(d, edx),
            3 if long => a.movq(d, rsi),
            3 => a.movd(d, esi),
            4 => a.movd(d, m32),
            5 => a.movq(m64, s),
            6 => a.pmovmskb(eax, s),
            7 => a.movmskps(ecx, s),
            8 => a.pextrw(edx, s, imm & 7),
            _ => a.pinsrw(d, esi, imm & 7),
        },
        14 => match (x >> 44) % 10 {
            0 => a.cvttss2si(eax, s),
            1 if long => a.cvtss2si(rcx, m32),
            1 => a.cvtss2si(ecx, m32),
            2 => a.cvtsd2si(edx, s),
            3 if long => a.cvttsd2si(rsi, m64),
            3 => a.cvttsd2si(esi, m64),
            4 => a.cvtsi2ss(d, eax),
            5 if long => a.cvtsi2sd(d, rcx),
            5 => a.cvtsi2sd(d, ecx),
            6 => a.cvtsi2sd(d, m32),
            7 => a.movmskpd(esi, s),
            8 if long => a.cvtsi2ss(d, rdx),
            8 => a.cvtsi2ss(d, edx),
            _ => a.pinsrw(d, word_ptr(at(disp)), imm & 7),
        },
        15 => match (x >> 44) % 6 {
            0 => a.comiss(d, s),
            1 => a.ucomiss(d, m32),
            2 => a.comisd(d, m64),
            3 => a.ucomisd(d, s),
            // Flag readers after a compare.
            4 => a.setp(cl),
            _ => a.sbb(eax, edx),
        },
        16 | 17 => match (x >> 44) % 10 {
            0 => a.crc32(eax, cl),
            1 => a.crc32(ecx, dh),
            2 => a.crc32(edx, si),
            3 => a.crc32(esi, eax),
            4 if long => a.crc32(rax, rcx),
            5 if long => a.crc32(rcx, dl),
            4 | 5 => a.crc32(ecx, bh),
            6 => a.crc32(eax, byte_ptr(at(disp))),
            7 => a.crc32(edx, word_ptr(at(disp))),
            8 => a.crc32(ecx, dword_ptr(at(disp))),
            _ if long => a.crc32(rsi, qword_ptr(at(disp))),
            _ => a.crc32(esi, dword_ptr(at(disp))),
        },
        18 => match (x >> 44) % 4 {
            0 => a.ldmxcsr(dword_ptr(at(MXCSR_TABLE + 4 * ((x >> 56) % 8) as i32))),
            1 => a.stmxcsr(dword_ptr(at(0x1c0))),
            2 => a.add(eax, ecx),
            _ => a.xor(esi, edx),
        },
        _ => a.movdqa(d, s),
    }
}

/// A program: `n` random instructions, looped `passes` times (r15 counts),
/// then HLT. 64-bit code uses XMM0-15, 32-bit code XMM0-7 (no REX).
fn program(bits: u32, r: &mut Rng, n: usize, passes: u32) -> Vec<u8> {
    let mut a = CodeAssembler::new(bits).unwrap();
    let mut top = a.create_label();
    if bits == 64 {
        a.mov(r15d, passes).unwrap();
    } else {
        a.mov(edi, passes).unwrap();
    }
    a.set_label(&mut top).unwrap();
    for _ in 0..n {
        one(&mut a, r, bits).unwrap();
    }
    if bits == 64 {
        a.dec(r15d).unwrap();
    } else {
        a.dec(edi).unwrap();
    }
    a.jnz(top).unwrap();
    a.hlt().unwrap();
    a.assemble(CODE).unwrap()
}

/// A machine with OSFXSR (and OSXMMEXCPT at random), random XMM
/// registers, MXCSR, GPRs and data.
fn machine(bits: u32, code: &[u8], r: &mut Rng) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = if bits == 64 {
        long64(code)
    } else {
        prot32(code)
    };
    cpu.state.cr4 |= cr4::OSFXSR;
    if !r.next().is_multiple_of(3) {
        cpu.state.cr4 |= cr4::OSXMMEXCPT;
    }
    cpu.state.cr0 |= cr0::MP | cr0::NE;
    for x in cpu.state.fx.xmm.iter_mut() {
        for k in 0..4 {
            x[4 * k..4 * k + 4].copy_from_slice(&lane(r).to_le_bytes());
        }
    }
    cpu.state.fx.mxcsr = random_mxcsr(r);
    for g in [0usize, 1, 2, 6] {
        cpu.state.gpr[g] = r.next();
    }
    cpu.state.gpr[3] = BASE;
    cpu.state.rflags = 0x2 | (r.next() & 0x8d5);
    for k in 0..0x3000 / 4 {
        let a = DATA as usize + 4 * k;
        bus.ram[a..a + 4].copy_from_slice(&lane(r).to_le_bytes());
    }
    for (k, v) in MXCSRS.iter().enumerate() {
        let a = (BASE as i64 + i64::from(MXCSR_TABLE)) as usize + 4 * k;
        bus.ram[a..a + 4].copy_from_slice(&v.to_le_bytes());
    }
    (cpu, bus)
}

/// Run `cpu`/`bus` under both engines and compare every bit.
fn both(jit: &mut Jit, cpu: &Cpu, bus: &FlatBus, what: &str) -> (Cpu, Option<Exception>) {
    let (mut c1, mut b1) = (clone_cpu(cpu), bus.clone());
    let f1 = interp_until_fault(&mut c1, &mut b1, 20_000);
    let (mut c2, mut b2) = (clone_cpu(cpu), bus.clone());
    let f2 = jit_until_fault(jit, &mut c2, &mut b2, 20_000);
    assert_eq!(f1, f2, "{what}: fault");
    assert_eq!(c1.state.rip, c2.state.rip, "{what}: rip");
    assert_eq!(c1.state.gpr, c2.state.gpr, "{what}: gpr");
    assert_eq!(c1.state.rflags, c2.state.rflags, "{what}: rflags");
    assert_eq!(
        c1.state.fx.mxcsr, c2.state.fx.mxcsr,
        "{what}: mxcsr (started {:#x})",
        cpu.state.fx.mxcsr
    );
    for i in 0..16 {
        assert_eq!(c1.state.fx.xmm[i], c2.state.fx.xmm[i], "{what}: xmm{i}");
    }
    assert_eq!(c1.state.icount, c2.state.icount, "{what}: icount");
    assert!(c1.state == c2.state, "{what}: state");
    assert!(b1.ram == b2.ram, "{what}: memory");
    (c2, f1)
}

#[test]
fn random_simd_sequences_match_the_interpreter() {
    let mut natives = 0;
    let mut guest = 0;
    let mut faults = [0u32; 32];
    for seed in 0..300u64 {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x1234_5678_9abc_def1));
        let bits = if seed % 4 == 3 { 32 } else { 64 };
        let n = 4 + (r.next() % 24) as usize;
        let code = program(bits, &mut r, n, 3);
        let (cpu, bus) = machine(bits, &code, &mut r);
        let mut jit = Jit::new(undelivered()).unwrap();
        let (_, f) = both(&mut jit, &cpu, &bus, &format!("seed {seed}"));
        if let Some(e) = f {
            faults[e.vector() as usize] += 1;
        }
        let st = jit.stats();
        natives += st.native_instructions;
        guest += st.guest_instructions;
    }
    // Most of it ran as host code, and the faults of interest happened.
    assert!(natives * 2 > guest, "{natives} of {guest} native");
    assert!(faults[13] > 0, "no #GP for a misaligned m128: {faults:?}");
    assert!(faults[19] + faults[6] > 0, "no SIMD exception: {faults:?}");
}

/// CR0.TS set and cleared between runs of the same cached blocks (the
/// lazy FPU switch), then CR0.EM and CR4.OSFXSR: #NM or #UD exactly as
/// the interpreter raises them, and native code again after.
#[test]
fn cr0_ts_em_and_osfxsr_between_runs_of_cached_blocks() {
    for seed in 0..40u64 {
        let mut r = Rng(0x51ed_5eed ^ (seed << 17));
        let code = program(64, &mut r, 12, 2);
        let (mut cpu, bus) = machine(64, &code, &mut r);
        cpu.state.fx.mxcsr = 0x1f80;
        let mut jit = Jit::new(undelivered()).unwrap();
        let states: [(u64, u64); 5] = [
            (0, cr4::OSFXSR),
            (cr0::TS, cr4::OSFXSR),
            (0, cr4::OSFXSR),
            (cr0::EM, cr4::OSFXSR),
            (0, 0),
        ];
        for (k, (set0, c4)) in states.into_iter().enumerate() {
            let mut c = clone_cpu(&cpu);
            c.state.cr0 = (c.state.cr0 & !(cr0::TS | cr0::EM)) | set0;
            c.state.cr4 = (c.state.cr4 & !cr4::OSFXSR) | c4;
            let (_, f) = both(&mut jit, &c, &bus, &format!("seed {seed} run {k}"));
            if set0 == cr0::TS {
                assert!(
                    matches!(f, Some(Exception::NM) | Some(Exception::GP(_)) | None),
                    "{f:?}"
                );
            }
        }
        // The same CPU again: the translation for TS = 0 is reused.
        let before = jit.stats().blocks_translated;
        both(&mut jit, &cpu, &bus, &format!("seed {seed} again"));
        assert_eq!(jit.stats().blocks_translated, before, "retranslated");
    }
}

/// A dot product, a MOVDQU copy and a CRC32C loop run as host code: no
/// monitor calls once warm (their instructions are all native).
#[test]
fn kernels_run_natively() {
    let code = asm(64, |a| {
        let mut dot = a.create_label();
        let mut copy = a.create_label();
        let mut crc = a.create_label();
        a.xorps(xmm0, xmm0).unwrap();
        a.mov(ecx, 64).unwrap();
        a.set_label(&mut dot).unwrap();
        a.movaps(xmm1, xmmword_ptr(rsi + rcx * 8 - 16)).unwrap();
        a.mulps(xmm1, xmmword_ptr(rdi + rcx * 8 - 16)).unwrap();
        a.addps(xmm0, xmm1).unwrap();
        a.sub(ecx, 2).unwrap();
        a.jnz(dot).unwrap();
        a.mov(ecx, 0x100).unwrap();
        a.set_label(&mut copy).unwrap();
        a.movdqu(xmm2, xmmword_ptr(rsi + rcx - 16)).unwrap();
        a.movdqu(xmmword_ptr(rdx + rcx - 16), xmm2).unwrap();
        a.sub(ecx, 16).unwrap();
        a.jnz(copy).unwrap();
        a.mov(ecx, 0x100).unwrap();
        a.mov(eax, -1i32).unwrap();
        a.set_label(&mut crc).unwrap();
        a.crc32(rax, qword_ptr(rsi + rcx - 8)).unwrap();
        a.sub(ecx, 8).unwrap();
        a.jnz(crc).unwrap();
        a.hlt().unwrap();
    });
    let mut r = Rng(7);
    let (mut cpu, bus) = machine(64, &code, &mut r);
    cpu.state.fx.mxcsr = 0x1f80;
    cpu.state.gpr[6] = DATA;
    cpu.state.gpr[7] = DATA + 0x1000;
    cpu.state.gpr[2] = DATA + 0x2000;
    let mut jit = Jit::new(undelivered()).unwrap();
    let (c, f) = both(&mut jit, &cpu, &bus, "kernels");
    assert_eq!(f, None);
    assert_eq!(c.state.rip, CODE + code.len() as u64);
    let st = jit.stats();
    // Monitor calls: only the first (slow) pass of each memory operand.
    assert!(
        st.guest_instructions - st.native_instructions < 16,
        "{} of {} native",
        st.native_instructions,
        st.guest_instructions
    );
}
