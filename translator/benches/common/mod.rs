//! Guest workloads shared by the benches and `examples/native_ratio.rs`:
//! machine code built with iced-x86's code assembler, loaded at 0x1000 of a
//! `FlatBus`, with a CPU in flat 32-bit protected mode or 64-bit long mode.
//! Every workload ends in HLT.

#![allow(dead_code)]

pub mod native;
pub mod sse;

use cpu_model::interp::descriptor::Descriptor;
use cpu_model::interp::StepOutcome;
use cpu_model::memory::FlatBus;
use cpu_model::state::{cr0, cr4, efer, SegReg, Segment};
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use translator::{Jit, JitConfig, JitExit};

pub const CODE: u64 = 0x1000;
/// CRC-32 table (1 KiB).
pub const TAB: u64 = 0x10_0000;
/// Data buffer / array.
pub const BUF: u64 = 0x20_0000;
pub const RAM: usize = 8 << 20;
/// Initial stack pointer (well away from code and data pages, so pushes
/// do not invalidate translations as self-modifying code).
pub const STACK: u64 = 0x7f_0000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Prot32,
    Long64,
}

impl Mode {
    pub fn bits(self) -> u32 {
        match self {
            Mode::Prot32 => 32,
            Mode::Long64 => 64,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Mode::Prot32 => "prot32",
            Mode::Long64 => "long64",
        }
    }
}

/// A guest ready to run: start state and memory (cloned for every run).
#[derive(Clone, Debug)]
pub struct Guest {
    pub cpu: cpu_model::state::CpuState,
    pub bus: FlatBus,
}

impl Guest {
    pub fn new(mode: Mode, code: &[u8], data: &[(u64, &[u8])]) -> Guest {
        let mut bus = FlatBus::new(RAM);
        bus.ram[CODE as usize..CODE as usize + code.len()].copy_from_slice(code);
        for (at, d) in data {
            bus.ram[*at as usize..*at as usize + d.len()].copy_from_slice(d);
        }
        let mut cpu = Cpu::new();
        let s = &mut cpu.state;
        s.seg[SegReg::Cs as usize] = Segment::real_mode(0);
        s.rip = CODE;
        s.gpr[4] = STACK;
        s.cr0 |= cr0::PE;
        for r in SegReg::ALL {
            s.seg[r as usize] = Descriptor(0x00cf_9300_0000_ffff).to_segment(0x10);
        }
        s.seg[SegReg::Cs as usize] = Descriptor(0x00cf_9b00_0000_ffff).to_segment(0x08);
        if mode == Mode::Long64 {
            // First 1 GiB identity-mapped with one 1 GiB page.
            bus.ram[0x70000..0x70008].copy_from_slice(&(0x71000u64 | 0x7).to_le_bytes());
            bus.ram[0x71000..0x71008].copy_from_slice(&(0x87u64).to_le_bytes());
            s.cr3 = 0x70000;
            s.cr4 |= cr4::PAE;
            s.efer |= efer::LME | efer::LMA;
            s.cr0 |= cr0::PG;
            s.seg[SegReg::Cs as usize] = Descriptor(0x00af_9b00_0000_ffff).to_segment(0x08);
        }
        Guest {
            cpu: cpu.state,
            bus,
        }
    }

    pub fn fresh(&self) -> (Cpu, FlatBus) {
        let mut cpu = Cpu::new();
        cpu.state = self.cpu.clone();
        (cpu, self.bus.clone())
    }
}

/// Run with the interpreter until HLT; the instructions retired.
pub fn run_interp(cpu: &mut Cpu, bus: &mut FlatBus) -> u64 {
    let start = cpu.stats.instructions;
    while cpu.step(bus).expect("no stop") == StepOutcome::Executed {}
    cpu.stats.instructions - start
}

/// Run with the JIT until HLT (in chunks of 1M steps, as the machine does).
pub fn run_jit(jit: &mut Jit, cpu: &mut Cpu, bus: &mut FlatBus) {
    while jit.run(cpu, bus, 1 << 20).expect("no stop") != JitExit::Halted {}
}

pub fn jit() -> Jit {
    Jit::new(JitConfig::default()).expect("jit")
}

/// Guest instructions of one run to HLT (by the interpreter), after
/// checking that the JIT ends in the same state.
pub fn count_and_check(g: &Guest) -> u64 {
    let (mut c1, mut b1) = g.fresh();
    let n = run_interp(&mut c1, &mut b1);
    let (mut c2, mut b2) = g.fresh();
    run_jit(&mut jit(), &mut c2, &mut b2);
    assert_eq!(c1.state, c2.state, "interpreter and JIT disagree");
    assert!(b1.ram == b2.ram, "interpreter and JIT memory differ");
    n
}

/// Deterministic pseudo-random bytes (xorshift64).
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The reflected CRC-32 (polynomial 0xEDB88320) table.
pub fn crc_table() -> Vec<u32> {
    (0..256u32)
        .map(|i| {
            (0..8).fold(i, |c, _| {
                if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect()
}

pub fn crc_table_bytes() -> Vec<u8> {
    crc_table().iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Table-driven CRC-32 in Rust (the algorithm of the guest routine).
pub fn crc32_rust(table: &[u32], buf: &[u8]) -> u32 {
    !buf.iter()
        .fold(!0u32, |c, &b| table[usize::from((c as u8) ^ b)] ^ (c >> 8))
}

/// Array length of the sort workload (dwords).
pub const SORT_N: u32 = 600;
/// Bytes of the checksum and CRC workloads.
pub const CRC_LEN: u32 = 256 << 10;

/// The workloads for one bitness; `$si`, `$di`, `$dx`, `$cx`, `$bx` are the
/// pointer-size registers (so 64-bit code has no address-size prefixes).
macro_rules! workloads {
    ($m:ident, $si:ident, $di:ident, $dx:ident, $cx:ident, $bx:ident, $imm:ty) => {
        pub mod $m {
            use super::*;

            /// The CRC-32 loop body: `$si` = buffer, `ecx` = length (> 0),
            /// `$di` = table, `eax` = running CRC (inverted); 8
            /// instructions per byte. Clobbers edx.
            pub fn crc_loop(a: &mut CodeAssembler) -> Result<(), IcedError> {
                let mut top = a.create_label();
                a.set_label(&mut top)?;
                a.movzx(edx, byte_ptr($si))?;
                a.xor(edx, eax)?;
                a.and(edx, 0xff)?;
                a.shr(eax, 8)?;
                a.xor(eax, dword_ptr($di + $dx * 4))?;
                a.inc($si)?;
                a.dec(ecx)?;
                a.jnz(top)
            }

            /// CRC-32 of `CRC_LEN` bytes at `BUF` (table at `TAB`) into
            /// eax, then HLT.
            pub fn crc() -> Vec<u8> {
                let mut a = CodeAssembler::new(Mode::$m.bits()).unwrap();
                a.mov(eax, 0xffff_ffffu32).unwrap();
                a.mov($si, BUF as $imm).unwrap();
                a.mov($di, TAB as $imm).unwrap();
                a.mov(ecx, CRC_LEN).unwrap();
                crc_loop(&mut a).unwrap();
                a.not(eax).unwrap();
                a.hlt().unwrap();
                a.assemble(CODE).unwrap()
            }

            /// A Fletcher-style checksum of `CRC_LEN` bytes at `BUF` (eax =
            /// sum, edx = sum of sums), then HLT; 6 instructions per byte.
            pub fn checksum() -> Vec<u8> {
                let mut a = CodeAssembler::new(Mode::$m.bits()).unwrap();
                let mut top = a.create_label();
                a.xor(eax, eax).unwrap();
                a.xor(edx, edx).unwrap();
                a.mov($si, BUF as $imm).unwrap();
                a.mov(ecx, CRC_LEN).unwrap();
                a.set_label(&mut top).unwrap();
                a.movzx(ebx, byte_ptr($si)).unwrap();
                a.add(eax, ebx).unwrap();
                a.add(edx, eax).unwrap();
                a.inc($si).unwrap();
                a.dec(ecx).unwrap();
                a.jnz(top).unwrap();
                a.hlt().unwrap();
                a.assemble(CODE).unwrap()
            }

            /// Insertion sort of `SORT_N` signed dwords at `BUF`, then HLT.
            pub fn sort() -> Vec<u8> {
                let mut a = CodeAssembler::new(Mode::$m.bits()).unwrap();
                let mut outer = a.create_label();
                let mut inner = a.create_label();
                let mut place = a.create_label();
                let mut done = a.create_label();
                a.mov($si, BUF as $imm).unwrap();
                a.mov(ebx, 1u32).unwrap();
                a.set_label(&mut outer).unwrap();
                a.cmp(ebx, SORT_N).unwrap();
                a.jae(done).unwrap();
                a.mov(eax, dword_ptr($si + $bx * 4)).unwrap();
                a.mov(ecx, ebx).unwrap();
                a.set_label(&mut inner).unwrap();
                a.test(ecx, ecx).unwrap();
                a.jz(place).unwrap();
                a.mov(edx, dword_ptr($si + $cx * 4 - 4)).unwrap();
                a.cmp(edx, eax).unwrap();
                a.jle(place).unwrap();
                a.mov(dword_ptr($si + $cx * 4), edx).unwrap();
                a.dec(ecx).unwrap();
                a.jmp(inner).unwrap();
                a.set_label(&mut place).unwrap();
                a.mov(dword_ptr($si + $cx * 4), eax).unwrap();
                a.inc(ebx).unwrap();
                a.jmp(outer).unwrap();
                a.set_label(&mut done).unwrap();
                a.hlt().unwrap();
                a.assemble(CODE).unwrap()
            }
        }
    };
}

#[allow(non_snake_case)]
mod bits {
    use super::*;
    workloads!(Long64, rsi, rdi, rdx, rcx, rbx, u64);
    workloads!(Prot32, esi, edi, edx, ecx, ebx, u32);
}

/// A named workload: its code and data for `mode`.
pub fn workload(name: &str, mode: Mode) -> Guest {
    let data = random_bytes(CRC_LEN as usize, 0x1234_5678);
    let table = crc_table_bytes();
    let code = match (name, mode) {
        ("checksum", Mode::Long64) => bits::Long64::checksum(),
        ("checksum", Mode::Prot32) => bits::Prot32::checksum(),
        ("sort", Mode::Long64) => bits::Long64::sort(),
        ("sort", Mode::Prot32) => bits::Prot32::sort(),
        ("crc32", Mode::Long64) => bits::Long64::crc(),
        ("crc32", Mode::Prot32) => bits::Prot32::crc(),
        _ => panic!("no workload {name}"),
    };
    let g = Guest::new(mode, &code, &[(TAB, &table), (BUF, &data)]);
    if name == "crc32" {
        // The guest computes the right CRC.
        let (mut cpu, mut bus) = g.fresh();
        run_interp(&mut cpu, &mut bus);
        let want = crc32_rust(&crc_table(), &data);
        assert_eq!(cpu.state.gpr[0] as u32, want, "guest CRC-32");
    }
    g
}

pub const WORKLOADS: [&str; 3] = ["checksum", "sort", "crc32"];

/// The 64-bit CRC-32 loop as a native System V function
/// `crc32(buf: *const u8, len: u64 (> 0), table: *const u32) -> u32`: the
/// same loop body as the guest workload.
pub fn native_crc_code() -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    // rdi = buf, rsi = len, rdx = table.
    a.mov(r8, rdx).unwrap();
    a.mov(rcx, rsi).unwrap();
    a.mov(rsi, rdi).unwrap();
    a.mov(rdi, r8).unwrap();
    a.mov(eax, 0xffff_ffffu32).unwrap();
    bits::Long64::crc_loop(&mut a).unwrap();
    a.not(eax).unwrap();
    a.ret().unwrap();
    a.assemble(0).unwrap()
}

/// A guest running the same routine over `data` (at `BUF`).
pub fn crc_guest(data: &[u8]) -> Guest {
    let mut a = CodeAssembler::new(64).unwrap();
    a.mov(eax, 0xffff_ffffu32).unwrap();
    a.mov(rsi, BUF).unwrap();
    a.mov(rdi, TAB).unwrap();
    a.mov(ecx, data.len() as u32).unwrap();
    bits::Long64::crc_loop(&mut a).unwrap();
    a.not(eax).unwrap();
    a.hlt().unwrap();
    let code = a.assemble(CODE).unwrap();
    Guest::new(
        Mode::Long64,
        &code,
        &[(TAB, &crc_table_bytes()), (BUF, data)],
    )
}

/// Where `smc_separate_page` puts the routine it rewrites: the next page
/// but one after the code (so never on the loop's page).
pub const SMC_ROUTINE: u64 = CODE + 0x2000;

/// Self-modifying code on the loop's own page: for each pass `k` (from 1)
/// a loop of `inner[k - 1]` (> 0) iterations, the count read from a table
/// at `BUF`, whose first instruction, `add eax, imm32`, has the immediate
/// `k`, incremented after the loop by `inc dword [imm]` on the same page;
/// then HLT. Each pass invalidates the page's translations; 5
/// instructions per iteration, 5 more per pass. eax ends as
/// [`smc_own_page_result`].
pub fn smc_own_page(inner: &[u32]) -> Guest {
    let passes = inner.len() as u32;
    let mut a = CodeAssembler::new(64).unwrap();
    let mut outer = a.create_label();
    let mut top = a.create_label();
    a.mov(ecx, passes).unwrap();
    a.set_label(&mut outer).unwrap();
    // edx = the inner count of this pass: table[ecx], ecx counting down.
    a.mov(edx, dword_ptr(rcx * 4 + BUF as i32)).unwrap();
    a.set_label(&mut top).unwrap();
    a.db(&[0x05, 1, 0, 0, 0]).unwrap(); // add eax, 1 (patched)
    a.add(ebx, eax).unwrap();
    a.xor(ebx, edx).unwrap();
    a.dec(edx).unwrap();
    a.jnz(top).unwrap();
    a.mov(esi, SMC_OWN_IMM as u32).unwrap();
    a.inc(dword_ptr(rsi)).unwrap();
    a.dec(ecx).unwrap();
    a.jnz(outer).unwrap();
    a.hlt().unwrap();
    let code = a.assemble(CODE).unwrap();
    let at = (SMC_OWN_IMM - CODE) as usize;
    assert_eq!(code[at - 1..at + 4], [0x05, 1, 0, 0, 0], "immediate moved");
    let mut table = vec![0u8; 4 * (inner.len() + 1)];
    for (k, &n) in inner.iter().enumerate() {
        // Pass k + 1 runs with ecx = passes - k.
        let at = 4 * (inner.len() - k);
        table[at..at + 4].copy_from_slice(&n.to_le_bytes());
    }
    Guest::new(Mode::Long64, &code, &[(BUF, &table)])
}

/// The immediate `smc_own_page` rewrites: after `mov ecx, imm32` (5 bytes)
/// and `mov edx, [rcx*4 + disp32]` (7 bytes), the `add eax, imm32` opcode.
pub const SMC_OWN_IMM: u64 = CODE + 13;

/// eax at the end of [`smc_own_page`]: pass k adds k, `inner[k - 1]`
/// times (mod 2^32).
pub fn smc_own_page_result(inner: &[u32]) -> u32 {
    inner.iter().enumerate().fold(0u32, |acc, (k, &n)| {
        acc.wrapping_add(n.wrapping_mul(k as u32 + 1))
    })
}

/// Self-modifying code on a page of its own: `passes` times, call the
/// routine at `SMC_ROUTINE` (`add eax, imm32; ret`), increment its
/// immediate, then run a hot loop of `inner` iterations (5 instructions)
/// on the code page, which is never written; then HLT. eax ends as
/// `passes * (passes + 1) / 2` (mod 2^32).
pub fn smc_separate_page(passes: u32, inner: u32) -> Guest {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut outer = a.create_label();
    let mut top = a.create_label();
    a.mov(ecx, passes).unwrap();
    a.mov(esi, (SMC_ROUTINE + 1) as u32).unwrap();
    a.set_label(&mut outer).unwrap();
    a.call(SMC_ROUTINE).unwrap();
    a.inc(dword_ptr(rsi)).unwrap();
    a.mov(edx, inner).unwrap();
    a.set_label(&mut top).unwrap();
    a.add(ebx, eax).unwrap();
    a.xor(ebx, edx).unwrap();
    a.rol(ebx, 3).unwrap();
    a.dec(edx).unwrap();
    a.jnz(top).unwrap();
    a.dec(ecx).unwrap();
    a.jnz(outer).unwrap();
    a.hlt().unwrap();
    let routine = [0x05, 1, 0, 0, 0, 0xc3]; // add eax, 1 (patched); ret
    Guest::new(
        Mode::Long64,
        &a.assemble(CODE).unwrap(),
        &[(SMC_ROUTINE, &routine)],
    )
}
