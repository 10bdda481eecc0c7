//! Loops whose back edge leaves the guest flags pending
//! (`emit::flags::deferred_loop_flags`) against the interpreter: every way
//! out of the loop's pending prefix must see the exact RFLAGS. Before each
//! loop `xor eax,eax` sets ZF and PF and clears CF, the opposite of what
//! the loop's CMP leaves (CF set, ZF clear), so a stale RFLAGS shows.
//!
//! * the budget running out at the loop head (every budget up to a few
//!   dozen passes, so it ends at each instruction of the loop);
//! * a page fault (#PF) and a #GP of the first SIMD access of the prefix
//!   after a warm pass (the fast path's slow form);
//! * loops where the rule must not apply: a flag read (ADC, SETC, PUSHF)
//!   or a partial flag write (INC) before the first full write.

mod common;
use common::*;
use cpu_model::exception::Exception;
use cpu_model::memory::FlatBus;
use cpu_model::state::cr4;
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use translator::{Jit, JitConfig, JitExit};

/// Emits a loop body.
type Body = fn(&mut CodeAssembler);

/// Source array of the loops (16 KiB of RAM, filled with a pattern).
const SRC: u64 = 0x20000;
const PASSES: u64 = 40;

/// 64-bit machine with OSFXSR running `code`; rsi = SRC, rdx = 0,
/// rcx = PASSES * 16.
fn machine(code: &[u8]) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = long64(code);
    cpu.state.cr4 |= cr4::OSFXSR;
    for (i, b) in bus.ram[SRC as usize..SRC as usize + 0x4000]
        .iter_mut()
        .enumerate()
    {
        *b = (i * 7 + 3) as u8;
    }
    cpu.state.gpr[6] = SRC;
    cpu.state.gpr[2] = 0;
    cpu.state.gpr[1] = PASSES * 16;
    (cpu, bus)
}

/// `xor eax,eax`, then a loop of `body` + `add rdx,16; cmp rdx,rcx; jb`,
/// then HLT.
fn looped(body: impl Fn(&mut CodeAssembler)) -> Vec<u8> {
    asm(64, |a| {
        a.xor(eax, eax).unwrap();
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        body(a);
        a.add(rdx, 16).unwrap();
        a.cmp(rdx, rcx).unwrap();
        a.jb(top).unwrap();
        a.hlt().unwrap();
    })
}

/// Every budget from 1 to a few passes past the loop's end: the run stops
/// at every point of a pass (the loop head's budget check after a back
/// edge included), and the state must be the interpreter's.
fn every_budget(code: &[u8], body_len: u64) {
    let total = 1 + PASSES * (body_len + 3) + 1;
    for budget in 1..=total {
        let (cpu, bus) = machine(code);
        let (_, _, jit) = compare(cpu, bus, budget);
        if budget == total {
            assert!(jit.stats().native_instructions > 0, "nothing ran natively");
        }
    }
}

#[test]
fn simd_loop_stopped_by_the_budget_at_any_point() {
    every_budget(
        &looped(|a| a.movdqu(xmm0, xmmword_ptr(rsi + rdx)).unwrap()),
        1,
    );
    every_budget(
        &looped(|a| {
            a.movdqu(xmm0, xmmword_ptr(rsi + rdx)).unwrap();
            a.paddd(xmm1, xmm0).unwrap();
            a.movdqu(xmmword_ptr(rsi + rdx + 0x2000), xmm1).unwrap();
        }),
        3,
    );
}

#[test]
fn loops_that_read_or_partly_write_flags_first() {
    // The rule must not apply: each reads the loop's flags (or writes
    // some of them) before the ADD writes them all.
    let bodies: [(Body, u64); 5] = [
        (
            |a| {
                a.movdqu(xmm0, xmmword_ptr(rsi + rdx)).unwrap();
                a.adc(rax, 0).unwrap();
            },
            2,
        ),
        (
            |a| {
                a.setb(bl).unwrap();
                a.add(rax, rbx).unwrap();
            },
            2,
        ),
        (
            // PF of the CMP changes from pass to pass (CF does not).
            |a| {
                a.setp(bl).unwrap();
                a.add(rax, rbx).unwrap();
            },
            2,
        ),
        (
            |a| {
                a.pushfq().unwrap();
                a.pop(rbx).unwrap();
                a.add(rax, rbx).unwrap();
            },
            3,
        ),
        (
            |a| {
                a.inc(rax).unwrap();
                a.movdqu(xmm0, xmmword_ptr(rsi + rdx)).unwrap();
            },
            2,
        ),
    ];
    for (body, len) in bodies {
        let code = looped(body);
        // The stack for PUSHF.
        let (cpu, bus) = machine(&code);
        let mut cpu = cpu;
        cpu.state.gpr[4] = 0x8000;
        let total = 1 + PASSES * (len + 3) + 1;
        for budget in [total, total - 1, total / 2, total / 2 + 1, 7] {
            compare(clone_cpu(&cpu), bus.clone(), budget);
        }
    }
}

/// The loop's load faults at its third pass: the first pass runs in the
/// block at the program's start, the second enters the loop's own block
/// from outside (nothing pending) and takes its back edge (flags
/// pending), the third faults in the pending prefix. The strides are 16,
/// then 16 + `jump`; `pre` (not a full flag write) comes before the
/// load. The translator must report the fault with the
/// interpreter's registers and RFLAGS.
fn fault_at_third_pass(pre: Option<Body>, aligned: bool, jump: u64, want: fn(&Exception) -> bool) {
    let code = asm(64, |a| {
        a.xor(eax, eax).unwrap();
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        if let Some(pre) = pre {
            pre(a);
        }
        if aligned {
            a.movdqa(xmm0, xmmword_ptr(rsi + rdx)).unwrap();
        } else {
            a.movdqu(xmm0, xmmword_ptr(rsi + rdx)).unwrap();
        }
        a.add(rdx, r8).unwrap();
        a.add(r8, r9).unwrap();
        a.cmp(rdx, rcx).unwrap();
        a.jb(top).unwrap();
        a.hlt().unwrap();
    });
    let (mut cpu, bus) = machine(&code);
    cpu.state.gpr[8] = 16;
    cpu.state.gpr[9] = jump;
    cpu.state.gpr[1] = u64::MAX;
    // The interpreter: step to the fault.
    let (mut rc, mut rb) = (clone_cpu(&cpu), bus.clone());
    let fault = loop {
        match rc.execute(&mut rb) {
            Ok(_) => {}
            Err(cpu_model::exception::Fault::Exception(e)) => break e,
            Err(f) => panic!("interpreter: {f:?}"),
        }
    };
    assert!(want(&fault), "the test expects another fault: {fault:?}");
    assert_eq!(rc.state.gpr[2], 32 + jump, "not at the third pass");
    let (mut c, mut b) = (cpu, bus);
    let mut jit = Jit::new(JitConfig {
        deliver_exceptions: false,
        ..JitConfig::default()
    })
    .unwrap();
    let got = jit.run(&mut c, &mut b, 1000).unwrap();
    assert_eq!(got, JitExit::Exception(fault), "end");
    assert_eq!(c.state.rip, rc.state.rip, "rip");
    assert_eq!(c.state.gpr, rc.state.gpr, "registers");
    assert_eq!(c.state.rflags, rc.state.rflags, "rflags");
    assert!(c.state == rc.state, "state differs");
    assert!(jit.stats().native_instructions > 0, "nothing ran natively");
}

#[test]
fn page_fault_in_the_pending_prefix() {
    // The third pass at 1 GiB + SRC + 40: not mapped (and the CMP before
    // it leaves PF clear, the first pass's set).
    fault_at_third_pass(None, false, 0x4000_0008, |e| {
        matches!(e, Exception::PF { .. })
    });
}

#[test]
fn alignment_fault_in_the_pending_prefix() {
    // The third pass misaligned: MOVDQA raises #GP(0) (PF as above).
    fault_at_third_pass(None, true, 8, |e| *e == Exception::GP(0));
}

#[test]
fn fault_after_a_partial_flag_write() {
    // INC writes all flags but CF: the rule must not apply, and the
    // fault must see INC's flags.
    fault_at_third_pass(Some(|a| a.inc(rax).unwrap()), false, 0x4000_0008, |e| {
        matches!(e, Exception::PF { .. })
    });
    // A shift by CL writes flags unless CL = 0 (here CL = 0xff: 31).
    fault_at_third_pass(Some(|a| a.shl(eax, cl).unwrap()), false, 0x4000_0008, |e| {
        matches!(e, Exception::PF { .. })
    });
}
