//! Self-modifying code, cache eviction, faults inside blocks, interrupts.

mod common;
use common::*;
use cpu_model::interp::StepOutcome;
use cpu_model::memory::FlatBus;
use cpu_model::{Bus, PhysAddr};
use iced_x86::code_asm::*;
use translator::{Jit, JitConfig, JitExit};

/// `add eax, imm32` at 0x1000 whose immediate the loop increments each
/// iteration through `inc dword [target]`: eax = 1 + 2 + ... + 10.
fn patch_loop(a: &mut CodeAssembler, target: u64) {
    let mut top = a.create_label();
    a.set_label(&mut top).unwrap();
    a.db(&[0x05, 1, 0, 0, 0]).unwrap(); // add eax, 1
    a.mov(rbx, target).unwrap();
    a.inc(dword_ptr(rbx)).unwrap();
    a.dec(ecx).unwrap();
    a.jnz(top).unwrap();
    a.hlt().unwrap();
}

/// The machinery tests below run with the self-modifying-code cooldowns
/// (the default) and without them, where every pass translates again.
const CONFIGS: [fn() -> JitConfig; 2] = [JitConfig::default, no_cooldowns];

#[test]
fn smc_immediate_patching_in_a_loop() {
    for config in CONFIGS {
        let (mut cpu, bus) = long64(&asm(64, |a| patch_loop(a, 0x1001)));
        cpu.state.gpr[1] = 10;
        cpu.state.gpr[0] = 0;
        let (cpu, _, jit) = compare_with(config(), cpu, bus, 1000);
        assert_eq!(cpu.state.gpr[0], 55);
        let smc = jit.stats().invalidations.get("smc").copied().unwrap_or(0);
        assert!(smc >= 1);
        if !config().smc_cooldowns {
            assert!(smc >= 9, "{smc}");
        }
    }
}

#[test]
fn smc_through_a_second_virtual_alias() {
    for config in CONFIGS {
        // PML4[1] -> PDPT at 0x72000 -> 1 GiB page at physical 0: linear
        // 0x80_0000_1001 aliases the immediate at 0x1001.
        let (mut cpu, mut bus) = long64(&asm(64, |a| patch_loop(a, 0x80_0000_1001)));
        bus.ram[0x70008..0x70010].copy_from_slice(&(0x72000u64 | 0x7).to_le_bytes());
        bus.ram[0x72000..0x72008].copy_from_slice(&(0x87u64).to_le_bytes());
        cpu.state.gpr[1] = 10;
        cpu.state.gpr[0] = 0;
        let (cpu, _, jit) = compare_with(config(), cpu, bus, 1000);
        assert_eq!(cpu.state.gpr[0], 55);
        if !config().smc_cooldowns {
            assert!(jit.stats().invalidations["smc"] >= 9);
        }
    }
}

#[test]
fn smc_rep_movs_over_code_ahead() {
    // rep movsb copies "mov eax, 2" over the "mov eax, 1" that follows it
    // in the same block.
    let code = asm(64, |a| {
        let mut ahead = a.create_label();
        a.mov(rsi, 0x3000u64).unwrap();
        a.lea(rdi, ptr(ahead)).unwrap();
        a.mov(ecx, 5).unwrap();
        a.rep().movsb().unwrap();
        a.set_label(&mut ahead).unwrap();
        a.mov(eax, 1).unwrap();
        a.hlt().unwrap();
    });
    let (cpu, mut bus) = long64(&code);
    bus.ram[0x3000..0x3005].copy_from_slice(&[0xb8, 2, 0, 0, 0]);
    let (cpu, _, _) = compare(cpu, bus, 100);
    assert_eq!(cpu.state.gpr[0], 2);
}

#[test]
fn smc_instruction_crossing_a_page() {
    // `add eax, imm32` straddles 0x1ffd..0x2002; the loop patches the
    // immediate byte at 0x2000, on the second page.
    let mut code = vec![0x90u8; 0x1000 - 3];
    code.extend_from_slice(&[0x05, 0, 0, 1, 0]); // add eax, 0x00010000 at 0x1ffd
    let tail = {
        let mut a = CodeAssembler::new(64).unwrap();
        a.mov(rbx, 0x2000u64).unwrap();
        a.inc(byte_ptr(rbx)).unwrap();
        a.dec(ecx).unwrap();
        a.jz(0x2020u64).unwrap();
        a.jmp(0x1ffdu64).unwrap();
        a.assemble(0x2002).unwrap()
    };
    code.extend_from_slice(&tail);
    code.resize(0x1020, 0x90);
    code.push(0xf4);
    for config in CONFIGS {
        let (mut cpu, bus) = long64(&code);
        cpu.state.rip = 0x1ffd;
        cpu.state.gpr[1] = 5;
        cpu.state.gpr[0] = 0;
        let (cpu, _, _) = compare_with(config(), cpu, bus, 1000);
        // The patched byte is bits 16-23 of the immediate: 0x10000,
        // 0x20000, ..., 0x50000.
        assert_eq!(cpu.state.gpr[0], 15 * 0x10000);
    }
}

/// A loop over several blocks (chained) with a cache too small to hold
/// them: every block is evicted and retranslated, chains are undone.
#[test]
fn eviction_with_a_tiny_cache_unchains() {
    let code = asm(64, |a| {
        let mut l = [
            a.create_label(),
            a.create_label(),
            a.create_label(),
            a.create_label(),
        ];
        a.mov(ecx, 50).unwrap();
        a.set_label(&mut l[0]).unwrap();
        a.add(eax, ecx).unwrap();
        a.jmp(l[2]).unwrap();
        a.set_label(&mut l[1]).unwrap();
        a.xor(ebx, eax).unwrap();
        a.jmp(l[3]).unwrap();
        a.set_label(&mut l[2]).unwrap();
        a.shl(ebx, 1).unwrap();
        a.jmp(l[1]).unwrap();
        a.set_label(&mut l[3]).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(l[0]).unwrap();
        a.hlt().unwrap();
    });
    for cache in [1usize, 200, 400, 1 << 20] {
        let (cpu, bus) = long64(&code);
        let cfg = JitConfig {
            cache_bytes: cache,
            ..JitConfig::default()
        };
        let (_, _, jit) = compare_with(cfg, cpu, bus, 10_000);
        let s = jit.stats();
        if cache < 1000 {
            assert!(s.evictions > 50, "{cache}: {s:?}");
            assert!(jit.cached_blocks() <= 2, "{s:?}");
        } else {
            assert_eq!(s.evictions, 0);
            assert!(s.chained_transitions > 150, "{s:?}");
        }
    }
}

/// Native instructions, then DIV by zero (a monitor call): #DE is
/// delivered with the state exactly as of the DIV's start.
#[test]
fn fault_inside_a_block_is_precise() {
    let code = asm(16, |a| {
        a.mov(ax, 0x1234).unwrap();
        a.add(ax, 1).unwrap();
        a.mov(bl, 0).unwrap();
        a.div(bl).unwrap(); // at 0x1008
        a.mov(ax, 0).unwrap();
        a.hlt().unwrap();
    });
    let (cpu, mut bus) = real_mode(&code);
    // IVT[0] -> 0000:2000, a HLT.
    bus.ram[0..4].copy_from_slice(&[0x00, 0x20, 0x00, 0x00]);
    bus.ram[0x2000] = 0xf4;
    let (cpu, bus, _) = compare(cpu, bus, 100);
    assert_eq!(cpu.state.rip, 0x2001);
    assert_eq!(cpu.state.gpr[0], 0x1235);
    // Pushed IP = the DIV.
    let top = cpu.state.gpr[4] as usize;
    assert_eq!(u16::from_le_bytes([bus.ram[top], bus.ram[top + 1]]), 0x1008);
    assert_eq!(cpu.stats.exceptions[0], 1);
}

/// A bus whose interrupt line rises on `out 0x80` and is acknowledged
/// with vector 0x20.
#[derive(Clone)]
struct IrqBus {
    flat: FlatBus,
    line: bool,
}

impl Bus for IrqBus {
    fn read_phys(&mut self, addr: PhysAddr, buf: &mut [u8]) {
        self.flat.read_phys(addr, buf);
    }
    fn write_phys(&mut self, addr: PhysAddr, data: &[u8]) {
        self.flat.write_phys(addr, data);
    }
    fn io_in(&mut self, port: u16, size: u32) -> u32 {
        self.flat.io_in(port, size)
    }
    fn io_out(&mut self, port: u16, size: u32, value: u32) {
        if port == 0x80 {
            self.line = true;
        }
        self.flat.io_out(port, size, value);
    }
    fn interrupt_pending(&self) -> bool {
        self.line
    }
    fn acknowledge_interrupt(&mut self) -> Option<u8> {
        self.line = false;
        Some(0x20)
    }
}

#[test]
fn interrupts_are_taken_at_the_same_instruction() {
    let code = asm(16, |a| {
        let mut top = a.create_label();
        a.sti().unwrap();
        a.mov(cx, 20).unwrap();
        a.set_label(&mut top).unwrap();
        a.add(si, cx).unwrap();
        a.out(0x80, al).unwrap();
        a.add(di, 3).unwrap();
        a.inc(bp).unwrap();
        a.dec(cx).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
    });
    let (cpu, flat) = real_mode(&code);
    let mut bus = IrqBus { flat, line: false };
    // IVT[0x20] -> 0000:3000: inc word [0x500]; iret.
    bus.flat.ram[0x80..0x84].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
    bus.flat.ram[0x3000..0x3005].copy_from_slice(&[0xff, 0x06, 0x00, 0x05, 0xcf]);
    let (mut c1, mut b1) = (clone_cpu(&cpu), bus.clone());
    let mut steps = 0;
    while c1.step(&mut b1).unwrap() == StepOutcome::Executed {
        steps += 1;
    }
    let (mut c2, mut b2) = (cpu, bus);
    let mut jit = Jit::new(JitConfig::default()).unwrap();
    // Small budgets: the run loop is re-entered many times.
    let mut total = 0;
    loop {
        let before = c2.state.icount;
        let r = jit.run(&mut c2, &mut b2, 7).unwrap();
        total += 1;
        if r == JitExit::Halted {
            break;
        }
        assert!(c2.state.icount > before || total < 1000);
    }
    assert_eq!(c1.state, c2.state);
    assert!(b1.flat.ram == b2.flat.ram);
    assert_eq!(
        u16::from_le_bytes([b2.flat.ram[0x500], b2.flat.ram[0x501]]),
        20
    );
    assert!(steps > 100);
}

#[test]
fn halt_returns_halted() {
    let (mut cpu, mut bus) = long64(&asm(64, |a| {
        a.mov(eax, 5).unwrap();
        a.hlt().unwrap();
    }));
    let mut jit = Jit::new(JitConfig::default()).unwrap();
    assert_eq!(jit.run(&mut cpu, &mut bus, 1000).unwrap(), JitExit::Halted);
    assert_eq!(jit.run(&mut cpu, &mut bus, 1000).unwrap(), JitExit::Halted);
    assert_eq!(cpu.state.gpr[0], 5);
    assert_eq!(cpu.state.icount, 2);
}

/// 64-bit mode with 4 KiB pages: linear 0..2 MiB identity-mapped through
/// one page table at 0x74000 (PML4 0x70000, PDPT 0x71000, PD 0x73000).
fn long64_4k(code_at: &[(u64, Vec<u8>)]) -> (cpu_model::Cpu, FlatBus) {
    let (cpu, mut bus) = long64(&[]);
    let put = |bus: &mut FlatBus, at: usize, v: u64| {
        bus.ram[at..at + 8].copy_from_slice(&v.to_le_bytes());
    };
    put(&mut bus, 0x71000, 0x73000 | 7);
    put(&mut bus, 0x73000, 0x74000 | 7);
    for i in 0..512u64 {
        put(&mut bus, 0x74000 + 8 * i as usize, (i << 12) | 7);
    }
    for (at, c) in code_at {
        bus.ram[*at as usize..*at as usize + c.len()].copy_from_slice(c);
    }
    (cpu, bus)
}

/// Code assembled for linear address `ip`, placed at physical `phys`.
fn at_phys(phys: u64, ip: u64, f: impl FnOnce(&mut CodeAssembler)) -> (u64, Vec<u8>) {
    let mut a = CodeAssembler::new(64).unwrap();
    f(&mut a);
    (phys, a.assemble(ip).unwrap())
}

fn at(addr: u64, f: impl FnOnce(&mut CodeAssembler)) -> (u64, Vec<u8>) {
    at_phys(addr, addr, f)
}

/// Remapping the page a block jumps to (and flushing the TLB, as MOV CR3
/// does) must take effect: exits that leave the linear page are never
/// chained while paging is on.
#[test]
fn no_stale_chains_across_pages_after_a_remap() {
    let code = [
        at(0x1000, |a| {
            a.dec(ecx).unwrap();
            a.jz(0x1100u64).unwrap();
            a.jmp(0x2000u64).unwrap();
        }),
        at(0x1100, |a| a.hlt().unwrap()),
        at(0x2000, |a| {
            a.add(ebx, 1).unwrap();
            a.jmp(0x1000u64).unwrap();
        }),
        // What linear 0x2000 maps to after the remap.
        at_phys(0x5000, 0x2000, |a| {
            a.add(ebx, 100).unwrap();
            a.jmp(0x1000u64).unwrap();
        }),
    ];
    let (mut cpu, bus) = long64_4k(&code);
    cpu.state.gpr[1] = 1_000_000;
    let (mut c1, mut b1) = (clone_cpu(&cpu), bus.clone());
    let (mut c2, mut b2) = (cpu, bus);
    let mut jit = Jit::new(JitConfig::default()).unwrap();
    for round in 0..2 {
        interp(&mut c1, &mut b1, 1000);
        jit.run(&mut c2, &mut b2, 1000).unwrap();
        assert_eq!(c1.state, c2.state, "round {round}");
        // Remap linear page 2 to physical 0x5000.
        for b in [&mut b1, &mut b2] {
            b.ram[0x74010..0x74018].copy_from_slice(&(0x5000u64 | 7).to_le_bytes());
        }
        c1.tlb.flush_all();
        c2.tlb.flush_all();
    }
    assert!(c2.state.gpr[3] > 100 * 100, "{}", c2.state.gpr[3]);
}

/// Memory written outside `run` needs `invalidate_phys` (or `flush`).
#[test]
fn invalidate_phys_after_an_outside_write() {
    let (cpu, bus) = long64(&asm(64, |a| {
        a.mov(eax, 1).unwrap();
        a.hlt().unwrap();
    }));
    let mut jit = Jit::new(JitConfig::default()).unwrap();
    let (mut c, mut b) = (clone_cpu(&cpu), bus.clone());
    jit.run(&mut c, &mut b, 10).unwrap();
    assert_eq!(c.state.gpr[0], 1);
    // Patch the immediate, restart from the top.
    let mut b2 = b.clone();
    b2.ram[0x1001] = 7;
    let mut c2 = clone_cpu(&cpu);
    jit.invalidate_phys(0x1001, 1);
    jit.run(&mut c2, &mut b2, 10).unwrap();
    assert_eq!(c2.state.gpr[0], 7);
    assert_eq!(jit.stats().invalidations.get("explicit"), Some(&1));
    b2.ram[0x1001] = 9;
    let mut c3 = clone_cpu(&cpu);
    jit.flush();
    jit.run(&mut c3, &mut b2, 10).unwrap();
    assert_eq!(c3.state.gpr[0], 9);
    assert_eq!(jit.cached_blocks(), 1);
    assert_eq!(jit.stats().flushes, 1);
}

/// 16-bit code at the top of a 64 KiB segment: IP wraps to 0 after an
/// instruction that ends exactly at 0x10000, and an instruction that
/// crosses the CS limit raises #GP (through the IVT).
#[test]
fn real_mode_ip_wrap_and_cs_limit() {
    use cpu_model::state::{SegReg, Segment};
    for straddle in [false, true] {
        let (mut cpu, mut bus) = real_mode(&[]);
        cpu.state.seg[SegReg::Cs as usize] = Segment::real_mode(0x1000);
        cpu.state.rip = 0xfff0;
        // 16 x inc ax up to 0xffff, or 14 and then a 3-byte instruction
        // at 0xfffe that crosses the limit.
        let mut code = vec![0x40u8; 16];
        if straddle {
            code[14] = 0xb8; // mov ax, imm16 (needs 0xfffe..0x10000)
        }
        bus.ram[0x1fff0..0x20000].copy_from_slice(&code);
        bus.ram[0x10000] = 0xf4; // hlt at 1000:0000
                                 // IVT[13] -> 0000:3000 (hlt).
        bus.ram[13 * 4..13 * 4 + 4].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
        bus.ram[0x3000] = 0xf4;
        let (cpu, _, _) = compare(cpu, bus, 100);
        if straddle {
            assert_eq!(cpu.state.rip, 0x3001);
            assert_eq!(cpu.stats.exceptions[13], 1);
        } else {
            assert_eq!(cpu.state.rip, 1);
            assert_eq!(cpu.state.gpr[0] & 0xffff, 16);
        }
    }
}

/// Native instructions with memory operands: a read and a write that
/// fault (#GP, beyond the DS limit) are delivered precisely, as by the
/// interpreter.
#[test]
fn memory_helper_faults_are_precise() {
    for kind in 0..4 {
        let code = asm(16, |a| {
            a.mov(ax, 0x1234).unwrap();
            a.add(ax, 1).unwrap();
            match kind {
                0 => a.add(ax, word_ptr(0xffff)).unwrap(), // at 0x1006
                1 => a.mov(word_ptr(0xffff), ax).unwrap(),
                2 => a.add(word_ptr(0xffff), ax).unwrap(),
                _ => a.cmp(word_ptr(0xffff), 1).unwrap(),
            }
            a.mov(ax, 0).unwrap();
            a.hlt().unwrap();
        });
        let (cpu, mut bus) = real_mode(&code);
        bus.ram[13 * 4..13 * 4 + 4].copy_from_slice(&[0x00, 0x20, 0x00, 0x00]);
        bus.ram[0x2000] = 0xf4;
        let (cpu, bus, _) = compare(cpu, bus, 100);
        assert_eq!(cpu.state.rip, 0x2001);
        assert_eq!(cpu.state.gpr[0], 0x1235);
        let top = cpu.state.gpr[4] as usize;
        assert_eq!(u16::from_le_bytes([bus.ram[top], bus.ram[top + 1]]), 0x1006);
        assert_eq!(cpu.stats.exceptions[13], 1);
        // mov, add, (fault), hlt.
        assert_eq!(cpu.state.icount, 3);
    }
}

/// A native store that patches the next instruction of its own block:
/// the block ends after the store and the new code runs.
#[test]
fn smc_native_store_into_the_same_block() {
    let code = asm(64, |a| {
        let mut next = a.create_label();
        a.lea(rbx, ptr(next)).unwrap();
        a.mov(byte_ptr(rbx + 1), 7).unwrap();
        a.set_label(&mut next).unwrap();
        a.mov(eax, 1).unwrap(); // b8 01 00 00 00 -> b8 07 ...
        a.add(eax, eax).unwrap();
        a.hlt().unwrap();
    });
    let (cpu, bus) = long64(&code);
    let (cpu, _, jit) = compare(cpu, bus, 100);
    assert_eq!(cpu.state.gpr[0], 14);
    assert!(jit.stats().invalidations.get("smc").copied().unwrap_or(0) >= 1);
}

/// Native PUSH/POP: a POP beyond the SS limit raises #SS with RSP
/// unchanged and the state of the POP's start.
#[test]
fn stack_helper_fault_is_precise() {
    let code = asm(16, |a| {
        a.mov(ax, 1).unwrap();
        a.push(ax).unwrap();
        a.pop(bx).unwrap();
        a.mov(sp, 0xffff).unwrap();
        a.pop(ax).unwrap(); // at 0x1008
        a.hlt().unwrap();
    });
    let (cpu, mut bus) = real_mode(&code);
    bus.ram[12 * 4..12 * 4 + 4].copy_from_slice(&[0x00, 0x20, 0x00, 0x00]);
    bus.ram[0x2000] = 0xf4;
    let (cpu, bus, jit) = compare(cpu, bus, 100);
    assert_eq!(cpu.stats.exceptions[12], 1);
    assert_eq!(cpu.state.gpr[3] & 0xffff, 1);
    assert_eq!(cpu.state.gpr[0] & 0xffff, 1);
    assert_eq!(cpu.state.gpr[4], 0xffff - 6);
    let top = cpu.state.gpr[4] as usize;
    assert_eq!(u16::from_le_bytes([bus.ram[top], bus.ram[top + 1]]), 0x1008);
    assert_eq!(jit.stats().monitor_calls.get("pop"), None);
}

/// INT n in the middle of straight-line code (the block ends before it;
/// `Cpu::step` delivers it), and a REP MOVSB long enough to yield
/// mid-way (not retired, RF set, resumed).
#[test]
fn software_interrupts_and_yielding_rep() {
    let code = asm(16, |a| {
        a.mov(ax, 1).unwrap();
        a.int(0x21).unwrap();
        a.add(ax, 2).unwrap();
        a.int3().unwrap();
        a.mov(cx, 0x9000).unwrap();
        a.mov(si, 0x2000).unwrap();
        a.mov(di, 0x4000).unwrap();
        a.rep().movsb().unwrap();
        a.hlt().unwrap();
    });
    let (cpu, mut bus) = real_mode(&code);
    // IVT[0x21] and IVT[3] -> 0000:3000: inc bx; iret.
    for v in [0x21usize, 3] {
        bus.ram[v * 4..v * 4 + 4].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
    }
    bus.ram[0x3000..0x3002].copy_from_slice(&[0x43, 0xcf]);
    let (cpu, _, _) = compare(cpu, bus, 100_000);
    assert_eq!(cpu.state.gpr[0] & 0xffff, 3);
    assert_eq!(cpu.state.gpr[3] & 0xffff, 2);
    assert_eq!(cpu.state.gpr[1] & 0xffff, 0);
    assert!(cpu.state.events.halted);
}

/// A budget beyond i64::MAX is unlimited (it used to make the signed
/// countdown negative and the run spin forever), and a HLT right before
/// the stop address reports `Halted`, as `Cpu::step` would.
#[test]
fn huge_budgets_and_halt_before_the_stop_address() {
    let code = asm(64, |a| {
        let mut top = a.create_label();
        a.mov(ecx, 1000).unwrap();
        a.set_label(&mut top).unwrap();
        a.add(eax, ecx).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
    });
    let (mut cpu, mut bus) = long64(&code);
    let mut jit = Jit::new(JitConfig::default()).unwrap();
    assert_eq!(jit.run(&mut cpu, &mut bus, u64::MAX), Ok(JitExit::Halted));
    assert_eq!(cpu.state.gpr[0], 500_500);

    let end = CODE + code.len() as u64;
    let (mut cpu, mut bus) = long64(&code);
    let mut jit = Jit::new(JitConfig {
        stop_at: Some(end),
        ..JitConfig::default()
    })
    .unwrap();
    assert_eq!(jit.run(&mut cpu, &mut bus, 1 << 20), Ok(JitExit::Halted));
    assert_eq!(cpu.state.rip, end);
}

/// Code that rewrites itself on every pass (here the immediate of the
/// loop's own `add`, 5000 times) is translated a bounded number of times:
/// its translations never pay for themselves, so its page is interpreted
/// in cooldowns that double (see `tests/smc_policy.rs`), with the same
/// results.
#[test]
fn constantly_rewritten_code_is_interpreted_for_a_while() {
    let (mut cpu, bus) = long64(&asm(64, |a| patch_loop(a, 0x1001)));
    cpu.state.gpr[1] = 5000;
    cpu.state.gpr[0] = 0;
    let (cpu, _, jit) = compare(cpu, bus, 1_000_000);
    assert_eq!(cpu.state.gpr[0], 5000 * 5001 / 2);
    let s = jit.stats();
    assert!(s.blocks_translated < 20, "{}", s.blocks_translated);
    assert!(s.smc_interpreted_pages >= 2, "{s:?}");
    assert!(s.smc_interpreted_steps > 19_000, "{s:?}");
}
