//! `cargo run --release -p translator --example speed [ITERATIONS]`:
//! guest instructions per second of the interpreter (`Cpu::step`) and of
//! the JIT (`Jit::run`) on the same loops, from the same start state; the
//! final states are compared.

use cpu_model::interp::descriptor::Descriptor;
use cpu_model::interp::StepOutcome;
use cpu_model::memory::FlatBus;
use cpu_model::state::{cr0, cr4, efer, SegReg};
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use std::time::Instant;
use translator::{Jit, JitConfig, JitExit};

fn long64(code: &[u8]) -> (Cpu, FlatBus) {
    let mut bus = FlatBus::new(1 << 21);
    bus.ram[0x1000..0x1000 + code.len()].copy_from_slice(code);
    bus.ram[0x70000..0x70008].copy_from_slice(&(0x71000u64 | 0x7).to_le_bytes());
    bus.ram[0x71000..0x71008].copy_from_slice(&(0x87u64).to_le_bytes());
    let mut cpu = Cpu::new();
    let data = Descriptor(0x00cf_9300_0000_ffff);
    for s in SegReg::ALL {
        cpu.state.seg[s as usize] = data.to_segment(0x10);
    }
    cpu.state.seg[SegReg::Cs as usize] = Descriptor(0x00af_9b00_0000_ffff).to_segment(0x08);
    cpu.state.cr0 |= cr0::PE | cr0::PG;
    cpu.state.cr3 = 0x70000;
    cpu.state.cr4 |= cr4::PAE;
    cpu.state.efer |= efer::LME | efer::LMA;
    cpu.state.rip = 0x1000;
    cpu.state.gpr[4] = 0x8000;
    (cpu, bus)
}

/// A register-only loop (all native in stage 1).
fn alu_loop(a: &mut CodeAssembler, n: u32) -> Result<(), IcedError> {
    let mut top = a.create_label();
    a.mov(ecx, n)?;
    a.set_label(&mut top)?;
    a.add(rax, rcx)?;
    a.xor(rbx, rax)?;
    a.lea(rdx, qword_ptr(rax + rbx * 2 + 8))?;
    a.shl(rdx, 3)?;
    a.sub(rsi, rdx)?;
    a.cmp(rsi, rdi)?;
    a.cmovl(rdi, rsi)?;
    a.movzx(r8d, al)?;
    a.adc(r9, r8)?;
    a.dec(ecx)?;
    a.jnz(top)?;
    a.hlt()
}

/// A loop with memory and stack operands (monitor calls in stage 1).
fn mem_loop(a: &mut CodeAssembler, n: u32) -> Result<(), IcedError> {
    let mut top = a.create_label();
    a.mov(ecx, n)?;
    a.mov(rbx, 0x3000u64)?;
    a.set_label(&mut top)?;
    a.add(rax, rcx)?;
    a.mov(qword_ptr(rbx), rax)?;
    a.xor(rdx, qword_ptr(rbx + 8))?;
    a.push(rdx)?;
    a.pop(rsi)?;
    a.add(rsi, rax)?;
    a.dec(ecx)?;
    a.jnz(top)?;
    a.hlt()
}

fn measure(name: &str, code: &[u8]) {
    let (cpu0, bus0) = long64(code);
    let (mut cpu, mut bus) = (Cpu::new(), bus0.clone());
    cpu.state = cpu0.state.clone();
    let t = Instant::now();
    while cpu.step(&mut bus).expect("step") == StepOutcome::Executed {}
    let ti = t.elapsed().as_secs_f64();
    let n = cpu.state.icount;

    let (mut cpu2, mut bus2) = (Cpu::new(), bus0.clone());
    cpu2.state = cpu0.state.clone();
    let mut jit = Jit::new(JitConfig::default()).expect("jit");
    let t = Instant::now();
    // The machine's run loop calls run with a budget and checks its own
    // flags in between; do the same.
    while jit.run(&mut cpu2, &mut bus2, 100_000).expect("run") != JitExit::Halted {}
    let tj = t.elapsed().as_secs_f64();
    assert_eq!(cpu.state, cpu2.state, "{name}: states differ");
    assert!(bus.ram == bus2.ram, "{name}: memory differs");
    let s = jit.stats();
    println!(
        "{name}: {n} instructions; interpreter {:.1} MIPS, jit {:.1} MIPS, ratio {:.1}x \
         (native {}, monitor calls {}, blocks {}, chained {})",
        n as f64 / ti / 1e6,
        n as f64 / tj / 1e6,
        ti / tj,
        s.native_instructions,
        s.monitor_calls.values().sum::<u64>(),
        s.blocks_translated,
        s.chained_transitions,
    );
}

fn main() -> Result<(), IcedError> {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut a = CodeAssembler::new(64)?;
    alu_loop(&mut a, n)?;
    measure("register loop", &a.assemble(0x1000)?);
    let mut a = CodeAssembler::new(64)?;
    mem_loop(&mut a, n)?;
    measure("memory loop", &a.assemble(0x1000)?);
    Ok(())
}
