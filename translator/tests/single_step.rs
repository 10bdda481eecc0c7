//! Single-stepping set up inside a block (issue #12): a 16-bit POPF that
//! sets TF in the middle of translated code, followed by REPNE CMPSB or
//! REPNE SCASB whose iterations each end in a single-step trap. The
//! translator must hand every step from the POPF on to the interpreter, so
//! the registers and flags after each trap are those of exactly one
//! iteration, under both engines alike.

mod common;
use common::*;
use cpu_model::exception::{Exception, Fault};
use cpu_model::memory::FlatBus;
use cpu_model::{flags, Cpu};
use iced_x86::code_asm::*;
use translator::{Jit, JitConfig, JitExit};

/// The string instructions under test, by their encodings.
const REPNE_CMPSB: [u8; 2] = [0xf2, 0xa6];
const REPNE_SCASB: [u8; 2] = [0xf2, 0xae];

/// Native ALU work (so POPF is in the middle of a translated block), then
/// a 16-bit POPF of `popped` (the operand-size prefix outside 16-bit
/// code), the string instruction, more native work, and a POPF that
/// clears TF again before the HLT.
fn program(bits: u32, popped: u16, string: [u8; 2]) -> Vec<u8> {
    asm(bits, |a| {
        a.add(dx, 0x7f).unwrap();
        a.cmp(dl, 0x80).unwrap();
        a.push(i32::from(popped)).unwrap();
        // iced's `popf` is the word form: 9D in 16-bit code, 66 9D
        // elsewhere (only 16 bits of RFLAGS are loaded).
        a.popf().unwrap();
        a.db(&string).unwrap();
        a.inc(bx).unwrap();
        a.sub(dx, 3).unwrap();
        a.push(i32::from(popped & !(flags::TF as u16))).unwrap();
        a.popf().unwrap();
        a.hlt().unwrap();
    })
}

/// A start state: SI/DI on two buffers that agree on their first bytes
/// (REPNE CMPSB stops at the first equal pair, REPNE SCASB at AL), CX = 5.
fn machine(bits: u32, code: &[u8]) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = match bits {
        16 => real_mode(code),
        32 => prot32(code),
        _ => long64(code),
    };
    bus.ram[0x2000..0x2008].copy_from_slice(&[1, 2, 3, 9, 5, 6, 7, 8]);
    bus.ram[0x2100..0x2108].copy_from_slice(&[8, 7, 6, 9, 4, 3, 2, 1]);
    cpu.state.gpr[0] = 0x09; // AL: found at the fourth byte by SCASB
    cpu.state.gpr[1] = 5;
    cpu.state.gpr[6] = 0x2000;
    cpu.state.gpr[7] = 0x2100;
    // Flags that the string iterations must overwrite.
    cpu.state.rflags = flags::FIXED | flags::CF | flags::SF | flags::OF;
    (cpu, bus)
}

/// TF | a few status flags, as POPF loads them.
const POPPED: u16 = (flags::TF | flags::ZF | flags::PF | flags::FIXED) as u16;

/// `xlat diff`'s loop for the interpreter: execute until a single-step
/// trap (TF set at the instruction's start), a fault or HLT.
fn oracle_interp(cpu: &mut Cpu, bus: &mut FlatBus) -> Option<Exception> {
    for _ in 0..1000 {
        if cpu.state.events.halted {
            return None;
        }
        let tf = cpu.state.rflags & flags::TF != 0;
        match cpu.execute(bus) {
            Ok(_) if tf => return Some(Exception::DB),
            Ok(_) => {}
            Err(Fault::Exception(e)) => return Some(e),
            Err(f) => panic!("{f:?}"),
        }
    }
    panic!("no end");
}

/// As the oracle runs the translator: nothing delivered, a single-step
/// trap returned as `Exception(DB)`. Every iteration of the string
/// instruction is one run (the trap ends it); the state after each is
/// compared with the interpreter's.
#[test]
fn popf_setting_tf_then_repne_string_without_delivery() {
    for bits in [16, 32, 64] {
        for string in [REPNE_CMPSB, REPNE_SCASB] {
            let code = program(bits, POPPED, string);
            let (mut c1, mut b1) = machine(bits, &code);
            let (mut c2, mut b2) = machine(bits, &code);
            let mut jit = Jit::new(JitConfig {
                deliver_exceptions: false,
                ..JitConfig::default()
            })
            .unwrap();
            let mut traps = 0;
            loop {
                let e1 = oracle_interp(&mut c1, &mut b1);
                let e2 = match jit.run(&mut c2, &mut b2, 1000).unwrap() {
                    JitExit::Exception(e) => Some(e),
                    JitExit::Halted => None,
                    other => panic!("{other:?}"),
                };
                let at = format!("{bits}-bit {string:02x?}, after trap {traps}");
                assert_eq!(e1, e2, "{at}: exit");
                assert_eq!(c1.state.rip, c2.state.rip, "{at}: rip");
                assert_eq!(c1.state.gpr, c2.state.gpr, "{at}: gpr");
                assert_eq!(
                    c1.state.rflags, c2.state.rflags,
                    "{at}: rflags {:#x} vs {:#x}",
                    c1.state.rflags, c2.state.rflags
                );
                if e1.is_none() {
                    break;
                }
                traps += 1;
            }
            // The first POPF does not trap (TF was clear at its start);
            // each iteration up to the match (the fourth pair / byte), then
            // INC, SUB, PUSH and the POPF that clears TF do.
            assert_eq!(traps, 4 + 4, "{bits}-bit {string:02x?}");
            assert_eq!(c2.state.gpr[1] & 0xffff, 1, "CX after four iterations");
            assert_ne!(c2.state.rflags & flags::ZF, 0, "the match sets ZF");
        }
    }
}

/// The same in real mode with the traps delivered: a #DB handler that
/// counts in BP and returns with TF still set (IRET pops it), so the whole
/// rest of the program is single-stepped, the string instruction one
/// iteration per trap.
#[test]
fn popf_setting_tf_then_repne_string_delivered() {
    for string in [REPNE_CMPSB, REPNE_SCASB] {
        let code = program(16, POPPED, string);
        let (cpu, mut bus) = machine(16, &code);
        // IVT[1] -> 0000:3000: inc bp; iret.
        bus.ram[4..8].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
        bus.ram[0x3000..0x3002].copy_from_slice(&[0x45, 0xcf]);
        let (cpu, _, jit) = compare(cpu, bus, 1000);
        assert!(cpu.state.events.halted);
        // Four iterations, INC, SUB, PUSH and the POPF that clears TF:
        // 8 traps, each of them a handler entry.
        assert_eq!(cpu.state.gpr[5] & 0xffff, 8, "{string:02x?}");
        assert_eq!(cpu.state.gpr[1] & 0xffff, 1);
        assert!(jit.stats().interpreter_steps > 0);
    }
}
