//! The CPU model's feature check holds in translated code: an instruction
//! the model does not enable is never planned as native code, so its
//! monitor call raises #UD (or runs what such a processor reads the bytes
//! as), exactly as the interpreter.

mod common;

use common::*;
use cpu_model::model::{QEMU64, XLAT};
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use translator::emit::Kind;
use translator::{plan_block, PlanOptions};

fn snippet(a: &mut CodeAssembler) {
    a.mov(eax, 0x1234u32).unwrap();
    a.mov(ebx, 0xf0u32).unwrap();
    a.cmp(eax, ebx).unwrap();
    a.cmovne(ecx, ebx).unwrap();
    a.tzcnt(edx, ebx).unwrap();
    a.lzcnt(esi, ebx).unwrap();
    a.popcnt(edi, ebx).unwrap();
    a.hlt().unwrap();
}

#[test]
fn planning_follows_the_model() {
    let code = asm(64, snippet);
    let kinds = |model| -> Vec<(iced_x86::Mnemonic, bool)> {
        let opts = PlanOptions {
            model,
            ..PlanOptions::default()
        };
        plan_block(&code, CODE, 64, u32::MAX, &opts)
            .iter()
            .map(|p| (p.ins.mnemonic(), matches!(p.kind, Kind::Native(_))))
            .collect()
    };
    for (m, native) in kinds(&QEMU64) {
        if matches!(
            m,
            iced_x86::Mnemonic::Tzcnt | iced_x86::Mnemonic::Lzcnt | iced_x86::Mnemonic::Popcnt
        ) {
            assert!(!native, "{m:?}");
        }
    }
    // CMOV is in both models and native in both.
    for model in [&XLAT, &QEMU64] {
        let k = kinds(model);
        assert!(
            k.contains(&(iced_x86::Mnemonic::Cmovne, true)),
            "{}",
            model.name
        );
    }
}

#[test]
fn both_engines_agree_under_qemu64() {
    // Real mode, #UD (vector 6) to a HLT at 0x2000.
    let code = asm(16, |a| {
        a.mov(eax, 0x8000u32).unwrap();
        a.mov(ebx, 0x80u32).unwrap();
        a.tzcnt(edx, ebx).unwrap(); // BSF there: EDX = 7
        a.lzcnt(esi, ebx).unwrap(); // BSR there: ESI = 7
        a.popcnt(edi, ebx).unwrap(); // #UD
        a.hlt().unwrap();
    });
    let (c, mut bus) = real_mode(&code);
    bus.ram[6 * 4..6 * 4 + 4].copy_from_slice(&[0x00, 0x20, 0x00, 0x00]);
    bus.ram[0x2000] = 0xf4;
    let mut cpu = Cpu::with_model(&QEMU64);
    cpu.state = c.state;
    let (cpu, _, _) = compare(cpu, bus, 100);
    assert_eq!(cpu.state.rip, 0x2001);
    assert_eq!((cpu.state.gpr[2], cpu.state.gpr[6]), (7, 7));
    assert_eq!(cpu.stats.exceptions[6], 1);
    assert_eq!(cpu.stats.not_in_model.get("popcnt"), Some(&1));
}
