//! Interpreter tests: small programs run on a flat bus.

use super::*;
use crate::memory::FlatBus;
use crate::state::{CpuState, SegReg, Segment};

/// Assemble code at 0x1000 for a `bits`-bit code segment.
pub(crate) fn asm(
    bits: u32,
    f: impl FnOnce(&mut iced_x86::code_asm::CodeAssembler) -> Result<(), iced_x86::IcedError>,
) -> Vec<u8> {
    let mut a = iced_x86::code_asm::CodeAssembler::new(bits).expect("bitness");
    f(&mut a).expect("assemble");
    a.assemble(0x1000).expect("assemble")
}

/// A CPU in real mode with CS:IP = 0000:1000 and `code` at physical 0x1000.
pub(crate) fn real_mode(code: &[u8]) -> (Cpu, FlatBus) {
    let mut bus = FlatBus::new(1 << 20);
    bus.ram[0x1000..0x1000 + code.len()].copy_from_slice(code);
    let mut cpu = Cpu::new();
    cpu.state.seg[SegReg::Cs as usize] = Segment::real_mode(0);
    cpu.state.rip = 0x1000;
    cpu.state.gpr[4] = 0x8000;
    (cpu, bus)
}

pub(crate) fn run(cpu: &mut Cpu, bus: &mut FlatBus, steps: usize) {
    for _ in 0..steps {
        cpu.step(bus).expect("no stop");
    }
}

#[test]
fn undecodable_raises_ud_through_ivt() {
    // UD2 at 0x1000; IVT vector 6 -> 0000:2000.
    let (mut cpu, mut bus) = real_mode(&[0x0f, 0x0b]);
    bus.ram[6 * 4..6 * 4 + 4].copy_from_slice(&[0x00, 0x20, 0x00, 0x00]);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x2000);
    // FLAGS, CS, IP pushed; IP is the faulting instruction.
    assert_eq!(cpu.state.gpr[4], 0x8000 - 6);
    assert_eq!(&bus.ram[0x7ffa..0x7ffc], &[0x00, 0x10]);
    let _ = CpuState::reset();
}

/// Flat 32-bit protected mode, CPL 0, paging off; `code` at 0x1000.
pub(crate) fn prot32(code: &[u8]) -> (Cpu, FlatBus) {
    let (mut cpu, bus) = real_mode(code);
    cpu.state.cr0 |= crate::state::cr0::PE;
    let flat_code = crate::interp::descriptor::Descriptor(0x00cf_9b00_0000_ffff);
    let flat_data = crate::interp::descriptor::Descriptor(0x00cf_9300_0000_ffff);
    for s in SegReg::ALL {
        cpu.state.seg[s as usize] = flat_data.to_segment(0x10);
    }
    cpu.state.seg[SegReg::Cs as usize] = flat_code.to_segment(0x08);
    (cpu, bus)
}

/// 64-bit mode, CPL 0, the first 1 GiB identity-mapped with a 1 GiB page
/// (PML4 at 0x70000, PDPT at 0x71000); `code` at 0x1000.
pub(crate) fn long64(code: &[u8]) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = prot32(code);
    bus.ram[0x70000..0x70008].copy_from_slice(&(0x71000u64 | 0x7).to_le_bytes());
    bus.ram[0x71000..0x71008].copy_from_slice(&(0x87u64).to_le_bytes());
    cpu.state.cr3 = 0x70000;
    cpu.state.cr4 |= crate::state::cr4::PAE;
    cpu.state.efer |= crate::state::efer::LME | crate::state::efer::LMA;
    cpu.state.cr0 |= crate::state::cr0::PG;
    let code64 = crate::interp::descriptor::Descriptor(0x00af_9b00_0000_ffff);
    cpu.state.seg[SegReg::Cs as usize] = code64.to_segment(0x08);
    (cpu, bus)
}

#[test]
fn harness_modes() {
    assert_eq!(real_mode(&[]).0.state.mode(), crate::CpuMode::Real);
    assert_eq!(prot32(&[]).0.state.mode(), crate::CpuMode::Protected32);
    let (mut cpu, mut bus) = long64(&[]);
    assert_eq!(cpu.state.mode(), crate::CpuMode::Long64);
    let p = cpu
        .translate(&mut bus, 0x1234, crate::mmu::Access::read(false))
        .unwrap();
    assert_eq!(p.0, 0x1234);
}

/// Execute `n` instructions, each of which must retire without a fault.
pub(crate) fn exec_n(cpu: &mut Cpu, bus: &mut FlatBus, n: usize) {
    for i in 0..n {
        if let Err(e) = exec(cpu, bus) {
            panic!("instruction {i} at {:#x} faulted: {e}", cpu.state.rip);
        }
    }
}

/// Execute one instruction; a fault comes back as a value (registers
/// rolled back to the instruction start) instead of being delivered.
pub(crate) fn exec(cpu: &mut Cpu, bus: &mut FlatBus) -> Result<(), crate::Fault> {
    cpu.execute(bus).map(drop)
}

#[test]
fn x87_and_sse_raise_nm_or_ud_as_cr0_dictates() {
    use crate::exception::{Exception, Fault};
    use crate::state::{cr0, cr4};
    // fld1 (D9 E8), addps xmm0,xmm1 (0F 58 C1), emms (0F 77; MMX: #UD
    // with CR0.EM, else #NM with CR0.TS).
    let cases: [(&[u8], u64, u64, Exception); 7] = [
        (&[0x0f, 0x77], cr0::EM | cr0::TS, 0, Exception::UD),
        (&[0xd9, 0xe8], cr0::TS, 0, Exception::NM),
        (&[0xd9, 0xe8], cr0::EM, 0, Exception::NM),
        (&[0x0f, 0x58, 0xc1], cr0::TS, 0, Exception::UD), // CR4.OSFXSR = 0
        (&[0x0f, 0x58, 0xc1], cr0::TS, cr4::OSFXSR, Exception::NM),
        (
            &[0x0f, 0x58, 0xc1],
            cr0::TS | cr0::EM,
            cr4::OSFXSR,
            Exception::UD,
        ),
        (&[0x0f, 0x77], cr0::TS, 0, Exception::NM),
    ];
    for (code, c0, c4, want) in cases {
        let (mut cpu, mut bus) = prot32(code);
        cpu.state.cr0 |= c0;
        cpu.state.cr4 |= c4;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(want)),
            "{code:02x?}"
        );
    }
}

/// Hostile input: random code, random memory (so random descriptor tables,
/// IDT and page tables), random registers, in every mode. Nothing may
/// panic (this runs with overflow checks), and every step must either make
/// progress or stop with a reported reason.
#[test]
fn random_code_and_tables_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for case in 0..1500 {
        let (mut cpu, mut bus) = match case % 3 {
            0 => real_mode(&[]),
            1 => prot32(&[]),
            _ => long64(&[]),
        };
        // Keep the long-mode page tables; randomize everything else.
        for (i, b) in bus.ram.iter_mut().enumerate() {
            if !(0x70000..0x72000).contains(&i) {
                *b = next() as u8;
            }
        }
        for r in cpu.state.gpr.iter_mut() {
            *r = next();
        }
        cpu.state.rflags = (next() & (crate::flags::STATUS | crate::flags::DF)) | 2;
        cpu.state.gdtr.base = next() & 0xf_fff0;
        cpu.state.gdtr.limit = next() as u16;
        cpu.state.idtr.base = next() & 0xf_fff0;
        cpu.state.idtr.limit = next() as u16;
        if case % 3 == 1 && next() & 1 != 0 {
            // Paging over random tables (32-bit or PAE, PSE at random).
            use crate::state::{cr0, cr4};
            cpu.state.cr3 = next() & 0xf_f000;
            cpu.state.cr4 |= next() & (cr4::PSE | cr4::PAE | cr4::PGE);
            cpu.state.cr0 |= cr0::PG | (next() & cr0::WP);
        }
        for _ in 0..300 {
            match cpu.step(&mut bus) {
                Ok(StepOutcome::Executed) => {}
                Ok(StepOutcome::Halted) | Err(_) => break,
            }
        }
    }
}

#[test]
fn overlong_instruction_is_gp_and_wait_is_nm_only_with_mp_and_ts() {
    use crate::exception::{Exception, Fault};
    use crate::state::cr0;
    let mut code = vec![0x66u8; 15];
    code.push(0x90);
    let (mut cpu, mut bus) = long64(&code);
    assert_eq!(
        exec(&mut cpu, &mut bus),
        Err(Fault::Exception(Exception::GP(0)))
    );
    // Fourteen prefixes and the NOP: 15 bytes, fine.
    let (mut cpu, mut bus) = long64(&code[1..]);
    assert_eq!(exec(&mut cpu, &mut bus), Ok(()));
    assert_eq!(cpu.state.rip, 0x100f);
    for (bits, want) in [
        (0, None),
        (cr0::TS, None),
        (cr0::MP, None),
        (cr0::MP | cr0::TS, Some(Exception::NM)),
    ] {
        let (mut cpu, mut bus) = prot32(&[0x9b]);
        cpu.state.cr0 |= bits;
        let r = exec(&mut cpu, &mut bus);
        assert_eq!(r.err(), want.map(Fault::Exception), "cr0 bits {bits:#x}");
    }
}
