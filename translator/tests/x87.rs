//! x87 under the translator (native host instructions on the host's x87
//! loaded with the guest's state) against the interpreter: random
//! sequences of every native form and some monitor-call ones (FLDCW,
//! FNINIT, transcendentals) over special values (±0, denormals,
//! pseudo-denormals, unnormals, pseudo-infinities, infinities, QNaN/SNaN,
//! integer extremes), with memory operands near and across a page
//! boundary, every precision and rounding control, random TOP and tags
//! (stack overflow and underflow), FCWs with unmasked exceptions and
//! FSW.ES = 1 (#MF, never native), in 64-, 32- and 16-bit code; CR0.TS
//! and CR0.EM set and cleared between runs of cached blocks (#NM); every
//! bit of the state (FIP/FCS/FOP/FDP/FDS included) and memory compared.

mod common;
use common::*;
use cpu_model::exception::Exception;
use cpu_model::fxstate::{fcw_loaded, fsw, X87Reg};
use cpu_model::memory::FlatBus;
use cpu_model::state::{cr0, SegReg, Segment};
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use translator::{Jit, JitConfig};

/// The data the memory operands address: [base + d] with base = DATA +
/// 0xf00, so displacements 0..0x200 cover the page boundary at DATA +
/// 0x1000.
const DATA: u64 = 0x20000;
const BASE: u64 = DATA + 0xf00;
/// FCWs FLDCW loads (offset from BASE): every precision and rounding
/// control, some with unmasked exceptions.
const FCW_TABLE: i32 = 0x300;
const FCWS: [u16; 8] = [
    0x037f, 0x007f, 0x027f, 0x0f7f, 0x077f, 0x0b7f, 0x0372, 0x137e,
];
const ST: [AsmRegisterSt; 8] = [st0, st1, st2, st3, st4, st5, st6, st7];

/// Interesting 80-bit values (significand, sign and exponent).
const F80S: [(u64, u16); 18] = [
    (0, 0),
    (0, 0x8000),
    (1, 0),                          // denormal
    (0x8000_0000_0000_0000, 0),      // pseudo-denormal
    (0x4000_0000_0000_0000, 0x3fff), // unnormal
    (0x8000_0000_0000_0000, 0x3fff), // 1.0
    (0xc000_0000_0000_0000, 0xc000), // -3.0
    (0xffff_ffff_ffff_ffff, 0x7ffe), // max
    (0x8000_0000_0000_0000, 0x7fff), // +inf
    (0x8000_0000_0000_0000, 0xffff), // -inf
    (0xc000_0000_0000_0000, 0x7fff), // QNaN
    (0x8000_0000_0000_0001, 0x7fff), // SNaN
    (0xc000_0000_0000_0000, 0xffff), // indefinite
    (0x0000_0000_0000_0000, 0x7fff), // pseudo-infinity
    (0x8000_0000_0000_0000, 0x0001), // smallest normal
    (0xb504_f333_f9de_6484, 0x3fff), // sqrt 2
    (0x8000_0000_0000_0000, 0x403e), // 2^63
    (0xc90f_daa2_2168_c235, 0x4000), // pi
];

/// Interesting singles and doubles.
const F32S: [u32; 12] = [
    0,
    0x8000_0000,
    1,
    0x807f_ffff,
    0x0080_0000,
    0x3fc0_0000,
    0x7f7f_ffff,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0x7f80_0001,
    0x4f00_0000,
];
const F64S: [u64; 12] = [
    0,
    0x8000_0000_0000_0000,
    1,
    0x000f_ffff_ffff_ffff,
    0x3ff8_0000_0000_0000,
    0xc024_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x7ff0_0000_0000_0000,
    0xfff8_0000_0000_0000,
    0x7ff0_0000_0000_0001,
    0x43e0_0000_0000_0000,
    0x3fe0_0000_0000_0001,
];

fn f80(r: &mut Rng) -> (u64, u16) {
    let x = r.next();
    if x.is_multiple_of(4) {
        // A random finite value near 1 (or any exponent), either sign.
        let e = if (x >> 2).is_multiple_of(2) {
            0x3fff - 8 + ((x >> 3) & 15) as u16
        } else {
            (x >> 3) as u16 & 0x7fff
        };
        (r.next() | 1 << 63, e | ((x >> 20) as u16 & 0x8000))
    } else {
        F80S[((x >> 8) % F80S.len() as u64) as usize]
    }
}

/// One random x87 (or related) instruction. rbx/ebx/bx is the base.
fn one(a: &mut CodeAssembler, r: &mut Rng, bits: u32) -> Result<(), IcedError> {
    let x = r.next();
    let i = ST[((x >> 4) % 8) as usize];
    let disp = ((x >> 8) % 0x1f0) as i32;
    // Mostly naturally aligned, sometimes anywhere (across the page).
    let d = |align: i32| {
        if (x >> 20).is_multiple_of(5) {
            disp
        } else {
            disp & !(align - 1)
        }
    };
    let at = |d: i32| match bits {
        64 => rbx + d,
        32 => ebx + d,
        _ => bx + d,
    };
    let m16 = word_ptr(at(d(2)));
    let m32 = dword_ptr(at(d(4)));
    let m64 = qword_ptr(at(d(8)));
    let m80 = tword_ptr(at(d(16)));
    let k = (x >> 32) % 16;
    match (x >> 50) % 24 {
        0 | 1 => match k % 8 {
            0 => a.fld(m32),
            1 => a.fld(m64),
            2 | 3 => a.fld(m80),
            4 => a.fld(i),
            5 => a.fild(m16),
            6 => a.fild(m32),
            _ => a.fild(m64),
        },
        2 => match k % 7 {
            0 => a.fld1(),
            1 => a.fldz(),
            2 => a.fldpi(),
            3 => a.fldl2e(),
            4 => a.fldl2t(),
            5 => a.fldlg2(),
            _ => a.fldln2(),
        },
        3 | 4 => match k {
            0 => a.fst(m32),
            1 => a.fst(m64),
            2 => a.fstp(m32),
            3 => a.fstp(m64),
            4 => a.fstp(m80),
            5 => a.fst(i),
            6 => a.fstp(i),
            7 => a.fist(m16),
            8 => a.fist(m32),
            9 => a.fistp(m16),
            10 => a.fistp(m32),
            11 => a.fistp(m64),
            12 => a.fisttp(m16),
            13 => a.fisttp(m32),
            14 => a.fisttp(m64),
            _ => a.fstp(m80),
        },
        5..=7 => {
            let m = if (x >> 36).is_multiple_of(2) {
                m32
            } else {
                m64
            };
            let mi = if (x >> 36).is_multiple_of(2) {
                m16
            } else {
                m32
            };
            match (k, (x >> 40) % 4) {
                (0, 0) => a.fadd(m),
                (0, 1) => a.fadd_2(st0, i),
                (0, 2) => a.fadd_2(i, st0),
                (0, _) => a.faddp(i, st0),
                (1, 0) => a.fsub(m),
                (1, 1) => a.fsub_2(st0, i),
                (1, 2) => a.fsub_2(i, st0),
                (1, _) => a.fsubp(i, st0),
                (2, 0) => a.fsubr(m),
                (2, 1) => a.fsubr_2(st0, i),
                (2, 2) => a.fsubr_2(i, st0),
                (2, _) => a.fsubrp(i, st0),
                (3, 0) => a.fmul(m),
                (3, 1) => a.fmul_2(st0, i),
                (3, 2) => a.fmul_2(i, st0),
                (3, _) => a.fmulp(i, st0),
                (4, 0) => a.fdiv(m),
                (4, 1) => a.fdiv_2(st0, i),
                (4, 2) => a.fdiv_2(i, st0),
                (4, _) => a.fdivp(i, st0),
                (5, 0) => a.fdivr(m),
                (5, 1) => a.fdivr_2(st0, i),
                (5, 2) => a.fdivr_2(i, st0),
                (5, _) => a.fdivrp(i, st0),
                (6, 0) => a.fiadd(mi),
                (6, 1) => a.fisub(mi),
                (6, 2) => a.fisubr(mi),
                (6, _) => a.fimul(mi),
                (7, 0 | 1) => a.fidiv(mi),
                (7, _) => a.fidivr(mi),
                _ => a.fmulp(st1, st0),
            }
        }
        8 | 9 => match k {
            0 => a.fchs(),
            1 => a.fabs(),
            2 => a.fsqrt(),
            3 => a.frndint(),
            4 => a.fscale(),
            5 => a.fxtract(),
            6 => a.fprem(),
            7 => a.fprem1(),
            8 => a.fxam(),
            9 => a.ftst(),
            10 => a.fincstp(),
            11 => a.fdecstp(),
            12 => a.ffree(i),
            13 => a.fnop(),
            14 => a.fxch(st0, i),
            _ => a.wait(),
        },
        10 | 11 => {
            let m = if (x >> 36).is_multiple_of(2) {
                m32
            } else {
                m64
            };
            let mi = if (x >> 36).is_multiple_of(2) {
                m16
            } else {
                m32
            };
            match k {
                0 => a.fcom(m),
                1 => a.fcomp(m),
                2 => a.fcom_2(st0, i),
                3 => a.fcomp_2(st0, i),
                4 => a.fcompp(),
                5 => a.fucom(st0, i),
                6 => a.fucomp(st0, i),
                7 => a.fucompp(),
                8 => a.ficom(mi),
                9 => a.ficomp(mi),
                10 => a.fcomi(st0, i),
                11 => a.fcomip(st0, i),
                12 => a.fucomi(st0, i),
                13 => a.fucomip(st0, i),
                _ => a.ftst(),
            }
        }
        12 => match k % 8 {
            0 => a.fcmovb(st0, i),
            1 => a.fcmove(st0, i),
            2 => a.fcmovbe(st0, i),
            3 => a.fcmovu(st0, i),
            4 => a.fcmovnb(st0, i),
            5 => a.fcmovne(st0, i),
            6 => a.fcmovnbe(st0, i),
            _ => a.fcmovnu(st0, i),
        },
        13 => match k % 8 {
            0 => a.fnstsw(ax),
            1 => a.fnstsw(m16),
            2 => a.fnstcw(m16),
            3 => a.fnclex(),
            4 => a.fstsw(ax),
            5 => a.fstcw(m16),
            6 => a.fclex(),
            _ => a.wait(),
        },
        // Flag readers and writers between the x87 ones.
        14 => match k % 4 {
            0 => a.setp(cl),
            1 => a.sbb(eax, edx),
            2 => a.cmp(eax, ecx),
            _ => a.add(eax, esi),
        },
        // Monitor calls: the environment may change mid-block.
        15 => match k % 8 {
            0 | 1 => a.fldcw(word_ptr(at(FCW_TABLE + 2 * ((x >> 56) % 8) as i32))),
            2 => a.fninit(),
            3 => a.fsin(),
            4 => a.f2xm1(),
            5 => a.fpatan(),
            6 => a.fbstp(tword_ptr(at(0x1d0))),
            _ => a.fyl2x(),
        },
        _ => a.fld(m64),
    }
}

/// A program: `n` random instructions, looped `passes` times (edi
/// counts), then HLT.
fn program(bits: u32, r: &mut Rng, n: usize, passes: u32) -> Vec<u8> {
    program_after(bits, r, n, passes, |_| Ok(()))
}

/// `program` with `lead` first in the loop.
fn program_after(
    bits: u32,
    r: &mut Rng,
    n: usize,
    passes: u32,
    lead: impl Fn(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Vec<u8> {
    let mut a = CodeAssembler::new(bits).unwrap();
    let mut top = a.create_label();
    a.mov(edi, passes).unwrap();
    a.set_label(&mut top).unwrap();
    lead(&mut a).unwrap();
    for _ in 0..n {
        one(&mut a, r, bits).unwrap();
    }
    a.dec(edi).unwrap();
    a.jnz(top).unwrap();
    a.hlt().unwrap();
    a.assemble(CODE).unwrap()
}

/// A random x87 state: FCW of any precision and rounding control, all
/// exceptions masked seven times in eight; TOP, tags and registers
/// random; sticky flags random, with ES and B as the hardware keeps them
/// (set when a flag is unmasked).
fn random_x87(cpu: &mut Cpu, r: &mut Rng) {
    let x = r.next();
    let masks = if x.is_multiple_of(8) {
        (x >> 3) as u16 & 0x3f
    } else {
        0x3f
    };
    let fx = &mut cpu.state.fx;
    fx.fcw = fcw_loaded(masks | (x >> 8) as u16 & 0x1f00);
    let mut s = (x >> 24) as u16 & (0x3f | fsw::SF | fsw::C0 | fsw::C1 | fsw::C2 | fsw::C3);
    if (x >> 40).is_multiple_of(3) {
        s &= !0x7f;
    }
    if s & 0x3f & !fx.fcw != 0 {
        s |= fsw::ES | fsw::B;
    }
    fx.fsw = s | ((x >> 44) as u16 & 7) << fsw::TOP_SHIFT;
    // Mostly a partly filled stack (overflow and underflow both likely).
    fx.ftw = (r.next() >> 8) as u8;
    for k in 0..8 {
        let (signif, sign_exp) = f80(r);
        fx.st[k] = X87Reg {
            signif,
            sign_exp,
            reserved: [0; 6],
        };
    }
    fx.fip = r.next() & 0xffff;
    fx.fdp = r.next() & 0xffff;
    fx.fop = r.next() as u16 & 0x7ff;
}

/// The data area: 16-byte slots of an f80 (and a single), two doubles,
/// four singles or integers.
fn fill_data(bus: &mut FlatBus, r: &mut Rng) {
    for slot in 0..0x3000 / 16 {
        let at = DATA as usize + 16 * slot;
        let mut b = [0u8; 16];
        let x = r.next();
        match x % 4 {
            0 => {
                let (s, e) = f80(r);
                b[..8].copy_from_slice(&s.to_le_bytes());
                b[8..10].copy_from_slice(&e.to_le_bytes());
                b[12..].copy_from_slice(&F32S[(x >> 8) as usize % 12].to_le_bytes());
            }
            1 => {
                b[..8].copy_from_slice(&F64S[(x >> 8) as usize % 12].to_le_bytes());
                b[8..].copy_from_slice(&F64S[(x >> 16) as usize % 12].to_le_bytes());
            }
            2 => {
                for k in 0..4 {
                    let v = F32S[(x >> (8 + 6 * k)) as usize % 12];
                    b[4 * k..4 * k + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
            _ => {
                let v = match (x >> 8) % 4 {
                    0 => 0x8000_0000_0000_0000u64,
                    1 => 0x7fff,
                    2 => (x >> 16) & 0xffff,
                    _ => r.next(),
                };
                b[..8].copy_from_slice(&v.to_le_bytes());
                b[8..].copy_from_slice(&r.next().to_le_bytes());
            }
        }
        bus.ram[at..at + 16].copy_from_slice(&b);
    }
    for (k, v) in FCWS.iter().enumerate() {
        let a = (BASE as i64 + i64::from(FCW_TABLE)) as usize + 2 * k;
        bus.ram[a..a + 2].copy_from_slice(&v.to_le_bytes());
    }
}

/// A machine in `bits`-bit code (16: real mode, DS:BX = DATA + 0xf00)
/// with CR0.NE (so #MF is an exception), random x87 state, GPRs, flags
/// and data.
fn machine(bits: u32, code: &[u8], r: &mut Rng) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = match bits {
        64 => long64(code),
        32 => prot32(code),
        _ => real_mode(code),
    };
    cpu.state.cr0 |= cr0::MP | cr0::NE;
    random_x87(&mut cpu, r);
    for g in [0usize, 1, 2, 6] {
        cpu.state.gpr[g] = r.next();
    }
    if bits == 16 {
        cpu.state.seg[SegReg::Ds as usize] = Segment::real_mode((DATA >> 4) as u16);
        cpu.state.gpr[3] = BASE - DATA;
    } else {
        cpu.state.gpr[3] = BASE;
    }
    cpu.state.rflags = 0x2 | (r.next() & 0x8d5);
    fill_data(&mut bus, r);
    (cpu, bus)
}

/// Run `cpu`/`bus` under both engines and compare every bit.
fn both(jit: &mut Jit, cpu: &Cpu, bus: &FlatBus, what: &str) -> (Cpu, Option<Exception>) {
    let (mut c1, mut b1) = (clone_cpu(cpu), bus.clone());
    let f1 = interp_until_fault(&mut c1, &mut b1, 20_000);
    let (mut c2, mut b2) = (clone_cpu(cpu), bus.clone());
    let f2 = jit_until_fault(jit, &mut c2, &mut b2, 20_000);
    let (x1, x2) = (&c1.state.fx, &c2.state.fx);
    assert_eq!(f1, f2, "{what}: fault");
    assert_eq!(c1.state.rip, c2.state.rip, "{what}: rip");
    assert_eq!(c1.state.gpr, c2.state.gpr, "{what}: gpr");
    assert_eq!(c1.state.rflags, c2.state.rflags, "{what}: rflags");
    assert_eq!(
        (x1.fcw, x1.fsw, x1.ftw),
        (x2.fcw, x2.fsw, x2.ftw),
        "{what}: fcw, fsw, ftw"
    );
    assert_eq!(x1.st, x2.st, "{what}: st");
    assert_eq!(
        (x1.fop, x1.fip, x1.fdp, c1.state.fcs, c1.state.fds),
        (x2.fop, x2.fip, x2.fdp, c2.state.fcs, c2.state.fds),
        "{what}: fop, fip, fdp, fcs, fds"
    );
    assert_eq!(c1.state.icount, c2.state.icount, "{what}: icount");
    assert!(c1.state == c2.state, "{what}: state");
    if let Some(at) = (0..b1.ram.len()).find(|&k| b1.ram[k] != b2.ram[k]) {
        panic!(
            "{what}: memory at {at:#x}: {:x?} vs {:x?}",
            &b1.ram[at & !15..(at & !15) + 16],
            &b2.ram[at & !15..(at & !15) + 16]
        );
    }
    (c2, f1)
}

#[test]
fn random_x87_sequences_match_the_interpreter() {
    let mut natives = 0;
    let mut guest = 0;
    let mut faults = [0u32; 32];
    let seeds = std::env::var("X87_SEEDS").map_or(400u64, |v| v.parse().unwrap());
    for seed in 0..seeds {
        let mut r = Rng(0x7f87_0bad_cafe_0001 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let bits = [64, 64, 32, 16][(seed % 4) as usize];
        let n = 4 + (r.next() % 24) as usize;
        let code = program(bits, &mut r, n, 3);
        let (cpu, bus) = machine(bits, &code, &mut r);
        let mut jit = Jit::new(undelivered()).unwrap();
        let (_, f) = both(&mut jit, &cpu, &bus, &format!("seed {seed} ({bits}-bit)"));
        if let Some(e) = f {
            faults[e.vector() as usize] += 1;
        }
        let st = jit.stats();
        natives += st.native_instructions;
        guest += st.guest_instructions;
    }
    // Most of it ran as host code, and #MF happened (unmasked FCWs).
    assert!(natives * 2 > guest, "{natives} of {guest} native");
    assert!(faults[16] > 0, "no #MF: {faults:?}");
}

/// CR0.TS set and cleared between runs of the same cached blocks (the
/// lazy FPU switch), then CR0.EM, then FSW.ES = 1 under an unmasked FCW
/// and under a masked one: #NM, #NM, #MF, #MF exactly as the interpreter
/// raises them, and native code again after.
#[test]
fn cr0_ts_em_and_pending_mf_between_runs_of_cached_blocks() {
    for seed in 0..40u64 {
        let mut r = Rng(0x87ed_5eed ^ (seed << 17));
        // FNOP first: a waiting x87 instruction.
        let code = program_after(64, &mut r, 12, 2, |a| a.fnop());
        let (mut cpu, bus) = machine(64, &code, &mut r);
        cpu.state.fx.fcw = 0x037f;
        cpu.state.fx.fsw &= !(fsw::ES | fsw::B);
        let mut jit = Jit::new(undelivered()).unwrap();
        for (k, set0) in [0, cr0::TS, 0, cr0::EM, 0, 0, 0].into_iter().enumerate() {
            let mut c = clone_cpu(&cpu);
            c.state.cr0 |= set0;
            if k == 4 {
                c.state.fx.fcw = 0x037e;
                c.state.fx.fsw |= 1 | fsw::ES | fsw::B;
            }
            if k == 5 {
                // ES under a masked FCW, as FXRSTOR of such an image
                // leaves it: pending all the same.
                c.state.fx.fsw |= fsw::ES | fsw::B;
            }
            let (_, f) = both(&mut jit, &c, &bus, &format!("seed {seed} run {k}"));
            // FNOP faults under TS, EM, or ES with CR0.NE.
            match k {
                1 | 3 => assert_eq!(f, Some(Exception::NM), "seed {seed} run {k}"),
                4 | 5 => assert_eq!(f, Some(Exception::MF), "seed {seed} run {k}"),
                _ => {}
            }
        }
        // The same CPU again: the translation for TS = 0 is reused.
        let before = jit.stats().blocks_translated;
        both(&mut jit, &cpu, &bus, &format!("seed {seed} again"));
        assert_eq!(jit.stats().blocks_translated, before, "retranslated");
    }
}

/// Debugging aid: `X87_SEED=n cargo test --test x87 trace -- --ignored`
/// runs seed n of the random test step by step and prints the first
/// instruction after which the engines differ.
#[test]
#[ignore]
fn trace() {
    let seed: u64 = std::env::var("X87_SEED").unwrap().parse().unwrap();
    let mut r = Rng(0x7f87_0bad_cafe_0001 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let bits = [64, 64, 32, 16][(seed % 4) as usize];
    let n = 4 + (r.next() % 24) as usize;
    let code = program(bits, &mut r, n, 3);
    let (cpu, bus) = machine(bits, &code, &mut r);
    let mut dec = iced_x86::Decoder::with_ip(bits, &code, CODE, 0);
    for ins in dec.iter() {
        eprintln!("{:x} {ins}", ins.ip());
    }
    for k in 1..2000u64 {
        let (mut c1, mut b1) = (clone_cpu(&cpu), bus.clone());
        interp_until_fault(&mut c1, &mut b1, k);
        let (mut c2, mut b2) = (clone_cpu(&cpu), bus.clone());
        let one = JitConfig {
            max_block_instructions: if std::env::var("X87_ONE").is_ok() {
                1
            } else {
                32
            },
            ..undelivered()
        };
        let mut jit = Jit::new(one).unwrap();
        jit_until_fault(&mut jit, &mut c2, &mut b2, k);
        if c1.state != c2.state || b1.ram != b2.ram {
            let (mut c0, mut b0) = (clone_cpu(&cpu), bus.clone());
            interp_until_fault(&mut c0, &mut b0, k - 1);
            let lin = (c0.state.cs().base + c0.state.rip) as usize;
            let ins =
                iced_x86::Decoder::with_ip(bits, &b0.ram[lin..lin + 16], c0.state.rip, 0).decode();
            let x0 = &c0.state.fx;
            eprintln!(
                "step {k}: {ins} fcw {:#x} fsw {:#x} ftw {:#x} st0 {:x?} st1 {:x?}",
                x0.fcw, x0.fsw, x0.ftw, x0.st[0], x0.st[1]
            );
            eprintln!(
                "interp fsw {:#x} st0 {:x?}",
                c1.state.fx.fsw, c1.state.fx.st[0]
            );
            eprintln!(
                "jit    fsw {:#x} st0 {:x?}",
                c2.state.fx.fsw, c2.state.fx.st[0]
            );
            return;
        }
    }
}

/// The last-instruction pointers when a memory operand faults: those of
/// the x87 instruction before it (whose stores the translator may elide
/// only when the next instruction overwrites them without a slow form),
/// FDP of the last memory form, in a loop that first runs natively.
#[test]
fn pointers_survive_a_faulting_memory_operand() {
    for (k, fault_at) in [0x4000_0000u64, 0x8000_0000_0000, 0x3_0000_0000]
        .into_iter()
        .enumerate()
    {
        let code = asm(64, |a| {
            let mut top = a.create_label();
            a.mov(edi, 3).unwrap();
            a.set_label(&mut top).unwrap();
            a.fld(qword_ptr(rbx + 8)).unwrap();
            a.fld1().unwrap();
            a.fmulp(st1, st0).unwrap();
            a.fchs().unwrap();
            a.fld(qword_ptr(rsi)).unwrap();
            a.fstp(qword_ptr(rbx + 16)).unwrap();
            a.fstp(st0).unwrap();
            a.mov(rsi, rdx).unwrap();
            a.dec(edi).unwrap();
            a.jnz(top).unwrap();
            a.hlt().unwrap();
        });
        let mut r = Rng(k as u64 + 1);
        let (mut cpu, bus) = machine(64, &code, &mut r);
        cpu.state.fx.fcw = 0x037f;
        cpu.state.fx.fsw = 0;
        cpu.state.fx.ftw = 0;
        cpu.state.gpr[6] = BASE + 0x40;
        // The second pass loads from an unmapped or non-canonical address.
        cpu.state.gpr[2] = fault_at;
        let mut jit = Jit::new(undelivered()).unwrap();
        let (c, f) = both(&mut jit, &cpu, &bus, &format!("fault at {fault_at:#x}"));
        assert!(
            matches!(f, Some(Exception::PF { .. }) | Some(Exception::GP(_))),
            "{f:?}"
        );
        // FIP is FCHS's, FDP the second pass's first FLD's.
        assert_eq!(c.state.fx.fip, CODE + 5 + 3 + 2 + 2);
        assert_eq!(c.state.fx.fdp, BASE + 8);
    }
}
