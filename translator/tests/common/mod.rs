//! Test harness: programs assembled with iced's code assembler run on a
//! FlatBus under `Cpu::step` and under `Jit::run`, then compared.
#![allow(dead_code)]

use cpu_model::interp::descriptor::Descriptor;
use cpu_model::interp::StepOutcome;
use cpu_model::memory::FlatBus;
use cpu_model::state::{cr0, cr4, efer, SegReg, Segment};
use cpu_model::Cpu;
use iced_x86::code_asm::CodeAssembler;
use translator::{Jit, JitConfig, JitExit};

pub const CODE: u64 = 0x1000;

/// Real mode, CS:IP = 0000:1000, `code` at 0x1000, SP = 0x8000.
pub fn real_mode(code: &[u8]) -> (Cpu, FlatBus) {
    let mut bus = FlatBus::new(1 << 21);
    bus.ram[0x1000..0x1000 + code.len()].copy_from_slice(code);
    let mut cpu = Cpu::new();
    cpu.state.seg[SegReg::Cs as usize] = Segment::real_mode(0);
    cpu.state.rip = 0x1000;
    cpu.state.gpr[4] = 0x8000;
    (cpu, bus)
}

/// Flat 32-bit protected mode, CPL 0, paging off.
pub fn prot32(code: &[u8]) -> (Cpu, FlatBus) {
    let (mut cpu, bus) = real_mode(code);
    cpu.state.cr0 |= cr0::PE;
    let flat_code = Descriptor(0x00cf_9b00_0000_ffff);
    let flat_data = Descriptor(0x00cf_9300_0000_ffff);
    for s in SegReg::ALL {
        cpu.state.seg[s as usize] = flat_data.to_segment(0x10);
    }
    cpu.state.seg[SegReg::Cs as usize] = flat_code.to_segment(0x08);
    (cpu, bus)
}

/// 64-bit mode, CPL 0, first 1 GiB identity-mapped (PML4 0x70000).
pub fn long64(code: &[u8]) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = prot32(code);
    bus.ram[0x70000..0x70008].copy_from_slice(&(0x71000u64 | 0x7).to_le_bytes());
    bus.ram[0x71000..0x71008].copy_from_slice(&(0x87u64).to_le_bytes());
    cpu.state.cr3 = 0x70000;
    cpu.state.cr4 |= cr4::PAE;
    cpu.state.efer |= efer::LME | efer::LMA;
    cpu.state.cr0 |= cr0::PG;
    let code64 = Descriptor(0x00af_9b00_0000_ffff);
    cpu.state.seg[SegReg::Cs as usize] = code64.to_segment(0x08);
    (cpu, bus)
}

pub fn asm(bits: u32, f: impl FnOnce(&mut CodeAssembler)) -> Vec<u8> {
    let mut a = CodeAssembler::new(bits).unwrap();
    f(&mut a);
    a.assemble(CODE).unwrap()
}

/// Step the interpreter `budget` times (or until halted).
pub fn interp(cpu: &mut Cpu, bus: &mut FlatBus, budget: u64) -> bool {
    for _ in 0..budget {
        if cpu.step(bus).expect("no stop") == StepOutcome::Halted {
            return true;
        }
    }
    false
}

/// Run under both engines from the same start and compare everything.
pub fn compare_with(cfg: JitConfig, cpu: Cpu, bus: FlatBus, budget: u64) -> (Cpu, FlatBus, Jit) {
    let (mut c1, mut b1) = (clone_cpu(&cpu), bus.clone());
    let h1 = interp(&mut c1, &mut b1, budget);
    let (mut c2, mut b2) = (cpu, bus);
    let mut jit = Jit::new(cfg).unwrap();
    let h2 = jit.run(&mut c2, &mut b2, budget).expect("no stop") == JitExit::Halted;
    assert_eq!(c1.state.gpr, c2.state.gpr, "gpr differ");
    assert_eq!(c1.state.rip, c2.state.rip, "rip differs");
    assert_eq!(c1.state.rflags, c2.state.rflags, "rflags differ");
    assert_eq!(c1.state.icount, c2.state.icount, "icount differs");
    assert!(c1.state == c2.state, "state differs");
    assert!(b1.ram == b2.ram, "memory differs");
    assert_eq!(h1, h2, "halt differs");
    assert_eq!(c1.stats.instructions, c2.stats.instructions);
    assert_eq!(c1.stats.exceptions, c2.stats.exceptions);
    (c2, b2, jit)
}

pub fn compare(cpu: Cpu, bus: FlatBus, budget: u64) -> (Cpu, FlatBus, Jit) {
    compare_with(JitConfig::default(), cpu, bus, budget)
}

/// The default configuration without the self-modifying-code cooldowns:
/// code is translated again after every write to it (for tests of the
/// invalidation machinery, which the cooldowns would take out of play
/// after the first unprofitable write).
pub fn no_cooldowns() -> JitConfig {
    JitConfig {
        smc_cooldowns: false,
        ..JitConfig::default()
    }
}

pub fn clone_cpu(c: &Cpu) -> Cpu {
    let mut n = Cpu::with_model(c.model);
    n.state = c.state.clone();
    n
}

/// xorshift64*
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The interpreter (`Cpu::execute`, exceptions not delivered) up to HLT
/// or a fault; the fault, if any.
pub fn interp_until_fault(
    cpu: &mut Cpu,
    bus: &mut FlatBus,
    budget: u64,
) -> Option<cpu_model::Exception> {
    for _ in 0..budget {
        let lin = cpu.state.cs().base + cpu.state.rip;
        let hlt = bus.ram[lin as usize] == 0xf4;
        match cpu.execute(bus) {
            Ok(_) if hlt => return None,
            Ok(_) => {}
            Err(cpu_model::exception::Fault::Exception(e)) => return Some(e),
            Err(f) => panic!("{f:?}"),
        }
    }
    None
}

/// A translator that returns exceptions instead of delivering them.
pub fn undelivered() -> JitConfig {
    JitConfig {
        deliver_exceptions: false,
        ..JitConfig::default()
    }
}

/// The translator (an `undelivered` one, whose cache may hold blocks of
/// earlier runs) from the same start up to HLT or a fault.
pub fn jit_until_fault(
    jit: &mut Jit,
    cpu: &mut Cpu,
    bus: &mut FlatBus,
    budget: u64,
) -> Option<cpu_model::Exception> {
    match jit.run(cpu, bus, budget).expect("no stop") {
        JitExit::Exception(e) => Some(e),
        JitExit::Halted | JitExit::BudgetExhausted => None,
        other => panic!("{other:?}"),
    }
}
