//! Tests of interrupt delivery and IRET (included by interrupt.rs), and
//! the system-table builders other families' tests use: a GDT, IDT and TSS
//! laid out in FlatBus memory.

use super::*;
use crate::interp::descriptor::sys_type::*;
use crate::interp::tests::{long64, prot32, run};
use crate::memory::FlatBus;
use crate::state::DescriptorTable;
use iced_x86::{Decoder, DecoderOptions};

pub(crate) const GDT: u64 = 0x20000;
pub(crate) const IDT: u64 = 0x21000;
pub(crate) const TSS: u64 = 0x23000;
pub(crate) const K_CODE: u16 = 0x08;
pub(crate) const K_DATA: u16 = 0x10;
pub(crate) const U_CODE: u16 = 0x1b;
pub(crate) const U_DATA: u16 = 0x23;
pub(crate) const K_CODE64: u16 = 0x28;
pub(crate) const U_CODE64: u16 = 0x33;
pub(crate) const K_CODE16: u16 = 0x38;
pub(crate) const TSS_SEL: u16 = 0x48;

const DESCS: [u64; 9] = [
    0,
    0x00cf_9b00_0000_ffff, // 0x08 ring-0 code, 32-bit flat
    0x00cf_9300_0000_ffff, // 0x10 ring-0 data flat
    0x00cf_fb00_0000_ffff, // 0x18 ring-3 code, 32-bit flat
    0x00cf_f300_0000_ffff, // 0x20 ring-3 data flat
    0x00af_9b00_0000_ffff, // 0x28 ring-0 code, 64-bit
    0x00af_fb00_0000_ffff, // 0x30 ring-3 code, 64-bit
    0x0000_9b00_0000_ffff, // 0x38 ring-0 code, 16-bit
    0x0000_9300_0000_ffff, // 0x40 ring-0 data, 16-bit
];

pub(crate) fn put(bus: &mut FlatBus, at: u64, n: usize, v: u64) {
    bus.ram[at as usize..at as usize + n].copy_from_slice(&v.to_le_bytes()[..n]);
}

pub(crate) fn get(bus: &FlatBus, at: u64, n: usize) -> u64 {
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&bus.ram[at as usize..at as usize + n]);
    u64::from_le_bytes(b)
}

/// The hidden-cache form of one of the test GDT's segments.
pub(crate) fn seg(sel: u16) -> Segment {
    Descriptor(DESCS[usize::from(sel >> 3)]).to_segment(sel)
}

/// Write the GDT, point GDTR, IDTR and TR at the test tables (the TSS is a
/// busy 32-bit/64-bit TSS at `TSS`, limit 0x67).
pub(crate) fn tables(cpu: &mut Cpu, bus: &mut FlatBus) {
    for (i, d) in DESCS.iter().enumerate() {
        put(bus, GDT + i as u64 * 8, 8, *d);
    }
    let tss = 0x67 | ((TSS & 0xff_ffff) << 16) | (0x8b << 40) | ((TSS >> 24) << 56);
    put(bus, GDT + u64::from(TSS_SEL), 8, tss);
    put(bus, GDT + u64::from(TSS_SEL) + 8, 8, 0);
    cpu.state.gdtr = DescriptorTable {
        base: GDT,
        limit: 0x57,
    };
    let long = cpu.state.long_mode_active();
    cpu.state.idtr = DescriptorTable {
        base: IDT,
        limit: if long { 0xfff } else { 0x7ff },
    };
    cpu.state.tr = Segment {
        base: TSS,
        limit: 0x67,
        selector: TSS_SEL,
        attrs: attr::P | 0xb,
    };
}

/// A legacy (8-byte) IDT gate.
pub(crate) fn gate32(bus: &mut FlatBus, v: u8, sel: u16, off: u64, typ: u8, dpl: u8) {
    let access = 0x80 | (u64::from(dpl) << 5) | u64::from(typ);
    let d = (off & 0xffff) | (u64::from(sel) << 16) | (access << 40) | ((off >> 16) << 48);
    put(bus, IDT + u64::from(v) * 8, 8, d);
}

/// A 64-bit (16-byte) IDT gate.
pub(crate) fn gate64(bus: &mut FlatBus, v: u8, sel: u16, off: u64, typ: u8, dpl: u8, ist: u8) {
    let access = 0x80 | (u64::from(dpl) << 5) | u64::from(typ);
    let d = (off & 0xffff)
        | (u64::from(sel) << 16)
        | (u64::from(ist) << 32)
        | (access << 40)
        | (((off >> 16) & 0xffff) << 48);
    put(bus, IDT + u64::from(v) * 16, 8, d);
    put(bus, IDT + u64::from(v) * 16 + 8, 8, off >> 32);
}

/// Clear the P bit of the gate for `v`.
fn not_present(bus: &mut FlatBus, v: u8, long: bool) {
    let at = IDT + u64::from(v) * if long { 16 } else { 8 } + 5;
    bus.ram[at as usize] &= 0x7f;
}

/// Switch to CPL 3 with `code` and the ring-3 data segment everywhere.
pub(crate) fn to_user(cpu: &mut Cpu, code: u16) {
    for s in SegReg::ALL {
        cpu.state.seg[s as usize] = seg(U_DATA);
    }
    cpu.state.seg[SegReg::Cs as usize] = seg(code);
}

/// Flat 32-bit protected mode with the test tables, IF = 1.
pub(crate) fn pm(code: &[u8]) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = prot32(code);
    tables(&mut cpu, &mut bus);
    cpu.state.rflags = flags::FIXED | flags::IF;
    (cpu, bus)
}

/// 64-bit mode (CS = K_CODE64) with the test tables, IF = 1.
pub(crate) fn lm(code: &[u8]) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = long64(code);
    tables(&mut cpu, &mut bus);
    cpu.state.seg[SegReg::Cs as usize] = seg(K_CODE64);
    cpu.state.rflags = flags::FIXED | flags::IF;
    (cpu, bus)
}

/// Decode one instruction in the current mode (for calling handlers directly).
pub(crate) fn decode(cpu: &Cpu, bytes: &[u8]) -> Instruction {
    Decoder::with_ip(
        cpu.state.mode().bitness(),
        bytes,
        cpu.state.rip,
        DecoderOptions::NONE,
    )
    .decode()
}

const RSP: usize = reg::RSP;
const IRETD: u8 = 0xcf;

#[test]
fn pm_int_same_privilege_and_iretd() {
    let (mut cpu, mut bus) = pm(&[0xcd, 0x30]);
    gate32(&mut bus, 0x30, K_CODE, 0x3000, INT_GATE, 0);
    bus.ram[0x3000] = IRETD;
    cpu.state.rflags |= flags::CF;
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3000);
    assert_eq!(cpu.state.cs().selector, K_CODE);
    assert_eq!(cpu.state.gpr[RSP], 0x7ff4);
    assert_eq!(cpu.state.rflags, 0x003); // IF cleared by the interrupt gate
    assert_eq!(get(&bus, 0x7ff4, 4), 0x1002);
    assert_eq!(get(&bus, 0x7ff8, 4), u64::from(K_CODE));
    assert_eq!(get(&bus, 0x7ffc, 4), 0x203);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x1002);
    assert_eq!(cpu.state.gpr[RSP], 0x8000);
    assert_eq!(cpu.state.rflags, 0x203);
}

#[test]
fn pm_ring3_to_ring0_trap_gate_and_back() {
    let (mut cpu, mut bus) = pm(&[0xcd, 0x80]);
    to_user(&mut cpu, U_CODE);
    put(&mut bus, TSS + 4, 4, 0x9000);
    put(&mut bus, TSS + 8, 2, u64::from(K_DATA));
    gate32(&mut bus, 0x80, K_CODE, 0x3000, TRAP_GATE, 3);
    bus.ram[0x3000] = IRETD;
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.cpl(), 0);
    assert_eq!(cpu.state.cs().selector, K_CODE);
    assert_eq!(cpu.state.ss().selector, K_DATA);
    assert_eq!(cpu.state.gpr[RSP], 0x8fec);
    assert_eq!(cpu.state.rflags, 0x202); // trap gate keeps IF
    let frame: Vec<u64> = (0..5).map(|i| get(&bus, 0x8fec + i * 4, 4)).collect();
    assert_eq!(frame, [0x1002, 0x1b, 0x202, 0x8000, 0x23]);
    // The kernel loads its own DS; IRET to ring 3 must null it, not ES.
    cpu.state.seg[SegReg::Ds as usize] = seg(K_DATA);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.cpl(), 3);
    assert_eq!(cpu.state.rip, 0x1002);
    assert_eq!(cpu.state.ss().selector, U_DATA);
    assert_eq!(cpu.state.gpr[RSP], 0x8000);
    assert_eq!(cpu.state.segment(SegReg::Ds).selector, 0);
    assert!(cpu.state.segment(SegReg::Ds).unusable());
    assert_eq!(cpu.state.segment(SegReg::Es).selector, U_DATA);
}

#[test]
fn pm_gate_dpl_violation_is_gp_fault_with_rf() {
    let (mut cpu, mut bus) = pm(&[0xcd, 0x80]);
    to_user(&mut cpu, U_CODE);
    put(&mut bus, TSS + 4, 4, 0x9000);
    put(&mut bus, TSS + 8, 2, u64::from(K_DATA));
    gate32(&mut bus, 0x80, K_CODE, 0x3000, INT_GATE, 0);
    gate32(&mut bus, 13, K_CODE, 0x3100, INT_GATE, 0);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3100);
    assert_eq!(cpu.state.gpr[RSP], 0x9000 - 24);
    let frame: Vec<u64> = (0..6).map(|i| get(&bus, 0x9000 - 24 + i * 4, 4)).collect();
    // #GP(0x80 * 8 + 2), no EXT (INT n); EIP of the INT; RF = 1.
    assert_eq!(frame, [0x402, 0x1000, 0x1b, 0x10202, 0x8000, 0x23]);
    assert_eq!(cpu.stats.exceptions[13], 1);
    assert_eq!(cpu.state.rflags & flags::RF, 0);
}

#[test]
fn not_present_gate_ext_bit() {
    // INT n: #NP(vector*8+2); external interrupt: #NP(vector*8+3).
    let (mut cpu, mut bus) = pm(&[0xcd, 0x30]);
    gate32(&mut bus, 0x30, K_CODE, 0x3000, INT_GATE, 0);
    not_present(&mut bus, 0x30, false);
    gate32(&mut bus, 11, K_CODE, 0x3200, INT_GATE, 0);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3200);
    assert_eq!(get(&bus, 0x7ff0, 4), 0x182);
    assert_eq!(get(&bus, 0x7ff4, 4), 0x1000);

    let (mut cpu, mut bus) = pm(&[]);
    gate32(&mut bus, 0x30, K_CODE, 0x3000, INT_GATE, 0);
    not_present(&mut bus, 0x30, false);
    gate32(&mut bus, 11, K_CODE, 0x3200, INT_GATE, 0);
    cpu.deliver(&mut bus, EventKind::External(0x30)).unwrap();
    assert_eq!(cpu.state.rip, 0x3200);
    assert_eq!(get(&bus, 0x7ff0, 4), 0x183);
    assert_eq!(get(&bus, 0x7ff4, 4), 0x1000);
    // External interrupts ignore the gate DPL.
    let (mut cpu, mut bus) = pm(&[]);
    to_user(&mut cpu, U_CODE);
    put(&mut bus, TSS + 4, 4, 0x9000);
    put(&mut bus, TSS + 8, 2, u64::from(K_DATA));
    gate32(&mut bus, 0x30, K_CODE, 0x3000, INT_GATE, 0);
    cpu.deliver(&mut bus, EventKind::External(0x30)).unwrap();
    assert_eq!(cpu.state.rip, 0x3000);
    assert_eq!(cpu.state.gpr[RSP], 0x9000 - 20);
}

#[test]
fn np_on_gp_gate_double_faults_then_triple_faults() {
    // INT 0x90 beyond the IDT limit: #GP(0x482); the #GP gate is not
    // present: #NP(13*8+2+1) while delivering a contributory fault: #DF.
    let (mut cpu, mut bus) = pm(&[0xcd, 0x90]);
    cpu.state.idtr.limit = 0x80 * 8 - 1;
    gate32(&mut bus, 13, K_CODE, 0x3100, INT_GATE, 0);
    not_present(&mut bus, 13, false);
    gate32(&mut bus, 8, K_CODE, 0x3300, INT_GATE, 0);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3300);
    assert_eq!(cpu.state.gpr[RSP], 0x7ff0);
    assert_eq!(get(&bus, 0x7ff0, 4), 0); // #DF error code
    assert_eq!(get(&bus, 0x7ff4, 4), 0x1000);
    assert_eq!(cpu.stats.exceptions[8], 1);
    assert_eq!(cpu.stats.exceptions[13], 0);

    // Same with the #DF gate absent: triple fault, state untouched.
    let (mut cpu, mut bus) = pm(&[0xcd, 0x90]);
    cpu.state.idtr.limit = 0x80 * 8 - 1;
    gate32(&mut bus, 13, K_CODE, 0x3100, INT_GATE, 0);
    not_present(&mut bus, 13, false);
    let before = cpu.state.clone();
    assert_eq!(cpu.step(&mut bus), Err(StopReason::TripleFault));
    let mut after = cpu.state.clone();
    after.rflags &= !flags::RF;
    assert_eq!(after, before);
}

#[test]
fn pm_16bit_gate_pushes_words() {
    let (mut cpu, mut bus) = pm(&[0xcd, 0x31]);
    gate32(&mut bus, 0x31, K_CODE, 0x12_3400, INT_GATE16, 0);
    bus.ram[0x3400..0x3402].copy_from_slice(&[0x66, 0xcf]); // 16-bit IRET
    cpu.state.rflags |= flags::CF;
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3400); // offset bits 16..32 ignored
    assert_eq!(cpu.state.gpr[RSP], 0x7ffa);
    assert_eq!(get(&bus, 0x7ffa, 2), 0x1002);
    assert_eq!(get(&bus, 0x7ffc, 2), u64::from(K_CODE));
    assert_eq!(get(&bus, 0x7ffe, 2), 0x203);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x1002);
    assert_eq!(cpu.state.gpr[RSP], 0x8000);
    assert_eq!(cpu.state.rflags, 0x203);
}

#[test]
fn inner_stack_faults_leave_state_unchanged() {
    let setup = |ss0: u16| {
        let (mut cpu, mut bus) = pm(&[]);
        to_user(&mut cpu, U_CODE);
        put(&mut bus, TSS + 4, 4, 0x9000);
        put(&mut bus, TSS + 8, 2, u64::from(ss0));
        gate32(&mut bus, 0x80, K_CODE, 0x3000, INT_GATE, 3);
        (cpu, bus)
    };
    let cases = [
        (0, EventKind::Software(0x80), Exception::TS(0)),
        (0, EventKind::External(0x80), Exception::TS(1)),
        (0x13, EventKind::Software(0x80), Exception::TS(0x10)),
        (U_DATA, EventKind::Software(0x80), Exception::TS(0x20)),
        (K_CODE, EventKind::Software(0x80), Exception::TS(0x08)),
    ];
    for (ss0, ev, want) in cases {
        let (mut cpu, mut bus) = setup(ss0);
        let before = cpu.state.clone();
        assert_eq!(cpu.deliver_once(&mut bus, ev), Err(want.into()), "{ss0:#x}");
        assert_eq!(cpu.state, before);
    }
    // SS0 whose limit is too small for the frame: #SS(SS0).
    let (mut cpu, mut bus) = setup(K_DATA);
    put(&mut bus, GDT + 0x10, 8, 0x0040_9300_0000_00ff);
    let before = cpu.state.clone();
    let r = cpu.deliver_once(&mut bus, EventKind::Software(0x80));
    assert_eq!(r, Err(Exception::SS(0x10).into()));
    assert_eq!(cpu.state, before);
    // TSS too short for SS0:ESP0: #TS(TSS selector).
    let (mut cpu, mut bus) = setup(K_DATA);
    cpu.state.tr.limit = 8;
    let r = cpu.deliver_once(&mut bus, EventKind::External(0x80));
    assert_eq!(r, Err(Exception::TS(TSS_SEL | 1).into()));
}

#[test]
fn bad_gates_and_targets() {
    let (mut cpu, mut bus) = pm(&[]);
    // A data-segment descriptor in the IDT: #GP(idt).
    put(&mut bus, IDT + 0x40 * 8, 8, DESCS[2]);
    assert_eq!(
        cpu.deliver_once(&mut bus, EventKind::Software(0x40)),
        Err(Exception::GP(0x202).into())
    );
    // Gate to a null selector, to a data segment, to a non-present code segment.
    gate32(&mut bus, 0x41, 0, 0x3000, INT_GATE, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x41),
        Err(Exception::GP(1).into())
    );
    gate32(&mut bus, 0x42, K_DATA, 0x3000, INT_GATE, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x42),
        Err(Exception::GP(0x11).into())
    );
    put(&mut bus, GDT + 0x38, 8, 0x0000_1b00_0000_ffff);
    gate32(&mut bus, 0x43, K_CODE16, 0x3000, INT_GATE, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x43),
        Err(Exception::NP(0x39).into())
    );
    // Target EIP beyond the limit of a 16-bit code segment: #GP(EXT).
    put(&mut bus, GDT + 0x38, 8, DESCS[7]);
    gate32(&mut bus, 0x44, K_CODE16, 0x1_0000, INT_GATE, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x44),
        Err(Exception::GP(1).into())
    );
    // Selector beyond the GDT limit.
    gate32(&mut bus, 0x45, 0x80, 0x3000, INT_GATE, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x45),
        Err(Exception::GP(0x81).into())
    );
    // Task gate: reported.
    gate32(&mut bus, 0x46, TSS_SEL, 0, TASK_GATE, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x46),
        Err(StopReason::Unsupported("task gate").into())
    );
    // Virtual-8086 mode: reported.
    gate32(&mut bus, 0x47, K_CODE, 0x3000, INT_GATE, 0);
    cpu.state.rflags |= flags::VM;
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x47),
        Err(StopReason::Unsupported("virtual-8086 mode").into())
    );
}

/// Deliver external interrupt `v` once.
fn cpu_deliver(cpu: &mut Cpu, bus: &mut FlatBus, v: u8) -> Result<(), Fault> {
    cpu.deliver_once(bus, EventKind::External(v))
}

#[test]
fn lm_ring3_to_ring0_and_iretq() {
    let (mut cpu, mut bus) = lm(&[0xcd, 0x80]);
    to_user(&mut cpu, U_CODE64);
    cpu.state.gpr[RSP] = 0x8008;
    put(&mut bus, TSS + 4, 8, 0x9008); // RSP0, aligned down to 0x9000
    gate64(&mut bus, 0x80, K_CODE64, 0x3000, INT_GATE, 3, 0);
    bus.ram[0x3000..0x3002].copy_from_slice(&[0x48, 0xcf]);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.mode(), crate::CpuMode::Long64);
    assert_eq!(cpu.state.cpl(), 0);
    assert_eq!(cpu.state.ss().selector, 0);
    assert_eq!(cpu.state.gpr[RSP], 0x9000 - 40);
    assert_eq!(cpu.state.rflags, 0x002);
    let frame: Vec<u64> = (0..5).map(|i| get(&bus, 0x9000 - 40 + i * 8, 8)).collect();
    assert_eq!(frame, [0x1002, 0x33, 0x202, 0x8008, 0x23]);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.cpl(), 3);
    assert_eq!(cpu.state.rip, 0x1002);
    assert_eq!(cpu.state.gpr[RSP], 0x8008);
    assert_eq!(cpu.state.ss().selector, U_DATA);
    assert_eq!(cpu.state.rflags, 0x202);
}

#[test]
fn lm_same_privilege_alignment_and_ist() {
    let (mut cpu, mut bus) = lm(&[0xcd, 0x40, 0xcd, 0x41]);
    cpu.state.gpr[RSP] = 0x8008;
    gate64(&mut bus, 0x40, K_CODE64, 0x1002, TRAP_GATE, 0, 0);
    gate64(&mut bus, 0x41, K_CODE64, 0x3000, INT_GATE, 0, 2);
    put(&mut bus, TSS + 0x2c, 8, 0xa00f); // IST2
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.gpr[RSP], 0x8000 - 40);
    assert_eq!(get(&bus, 0x8000 - 8, 8), u64::from(K_DATA)); // SS always pushed
    assert_eq!(get(&bus, 0x8000 - 16, 8), 0x8008);
    assert_eq!(cpu.state.rflags & flags::IF, flags::IF); // trap gate
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3000);
    assert_eq!(cpu.state.gpr[RSP], 0xa000 - 40);
    assert_eq!(cpu.state.ss().selector, K_DATA);
    assert_eq!(get(&bus, 0xa000 - 16, 8), 0x8000 - 40);
    assert_eq!(get(&bus, 0xa000 - 40, 8), 0x1004);
}

#[test]
fn lm_error_code_and_target_checks() {
    // #GP from the gate DPL at CPL 3, pushed as a quadword.
    let (mut cpu, mut bus) = lm(&[0xcd, 0x30]);
    to_user(&mut cpu, U_CODE64);
    put(&mut bus, TSS + 4, 8, 0x9000);
    gate64(&mut bus, 0x30, K_CODE64, 0x3000, INT_GATE, 0, 0);
    gate64(&mut bus, 13, K_CODE64, 0x3100, INT_GATE, 0, 0);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3100);
    assert_eq!(cpu.state.gpr[RSP], 0x9000 - 48);
    assert_eq!(get(&bus, 0x9000 - 48, 8), 0x182);
    assert_eq!(get(&bus, 0x9000 - 40, 8), 0x1000);
    // 32-bit gate types are invalid in IA-32e mode; so is a 32-bit target.
    let (mut cpu, mut bus) = lm(&[]);
    gate64(&mut bus, 0x50, K_CODE64, 0x3000, INT_GATE16, 0, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x50),
        Err(Exception::GP(0x283).into())
    );
    gate64(&mut bus, 0x51, K_CODE, 0x3000, INT_GATE, 0, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x51),
        Err(Exception::GP(0x09).into())
    );
    gate64(&mut bus, 0x52, K_CODE64, 0x8000_0000_0000, INT_GATE, 0, 0);
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x52),
        Err(Exception::GP(1).into())
    );
    // IDT limit counts 16-byte entries.
    cpu.state.idtr.limit = 0x52 * 16 + 14;
    assert_eq!(
        cpu_deliver(&mut cpu, &mut bus, 0x52),
        Err(Exception::GP(0x293).into())
    );
}

#[test]
fn lm_page_fault_on_frame_double_faults_onto_ist() {
    let (mut cpu, mut bus) = lm(&[0xcc]);
    cpu.state.gpr[RSP] = 0x8000_0010; // beyond the 1 GiB mapping
    gate64(&mut bus, 3, K_CODE64, 0x3000, INT_GATE, 0, 0);
    gate64(&mut bus, 14, K_CODE64, 0x3100, INT_GATE, 0, 0);
    gate64(&mut bus, 8, K_CODE64, 0x3200, INT_GATE, 0, 1);
    put(&mut bus, TSS + 0x24, 8, 0xb000); // IST1
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3200);
    assert_eq!(cpu.state.cr2, 0x8000_0008);
    assert_eq!(cpu.state.gpr[RSP], 0xb000 - 48);
    let frame: Vec<u64> = (0..6).map(|i| get(&bus, 0xb000 - 48 + i * 8, 8)).collect();
    assert_eq!(frame, [0, 0x1000, 0x28, 0x10202, 0x8000_0010, 0x10]);
    assert_eq!(cpu.stats.exceptions[8], 1);
    assert_eq!(cpu.stats.exceptions[14], 0);
}

#[test]
fn single_step_traps_after_the_instruction() {
    let (mut cpu, mut bus) = pm(&[0xfa, 0xfa]); // CLI; CLI
    gate32(&mut bus, 1, K_CODE, 0x3000, INT_GATE, 0);
    cpu.state.rflags |= flags::TF;
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3000);
    assert_eq!(cpu.state.dr[6], 0xffff_4ff0);
    assert_eq!(get(&bus, 0x7ff4, 4), 0x1001);
    assert_eq!(get(&bus, 0x7ffc, 4), 0x102); // TF, IF cleared by CLI, RF = 0
    assert_eq!(cpu.state.rflags & flags::TF, 0);
}

#[test]
fn software_interrupt_discards_single_step() {
    let (mut cpu, mut bus) = pm(&[0xcd, 0x30]);
    gate32(&mut bus, 0x30, K_CODE, 0x3000, INT_GATE, 0);
    gate32(&mut bus, 1, K_CODE, 0x3100, INT_GATE, 0);
    cpu.state.rflags |= flags::TF;
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3000);
    assert_eq!(cpu.state.dr[6] & (1 << 14), 0);
    assert_eq!(get(&bus, 0x7ffc, 4), 0x302);
}

#[test]
fn instruction_breakpoint_fault_and_resume_flag() {
    let (mut cpu, mut bus) = pm(&[0xfa]); // CLI
    gate32(&mut bus, 1, K_CODE, 0x3000, INT_GATE, 0);
    bus.ram[0x3000] = IRETD;
    cpu.state.dr[0] = 0x1000;
    cpu.state.dr[7] = 0x401;
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3000);
    assert_eq!(cpu.state.dr[6] & 0xf, 1);
    assert_eq!(get(&bus, 0x7ff4, 4), 0x1000);
    assert_eq!(get(&bus, 0x7ffc, 4), 0x202); // RF not set for this fault
                                             // The handler returns with RF = 1: the breakpoint is not taken again.
    put(&mut bus, 0x7ffc, 4, 0x1_0202);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x1000);
    assert_eq!(cpu.state.rflags, 0x1_0202);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x1001);
    assert_eq!(cpu.state.rflags, 0x002);
}

#[test]
fn int3_into_int1() {
    // INT3 and INTO are traps through their gates; INTO with OF = 0 does nothing.
    let (mut cpu, mut bus) = pm(&[0xce, 0xce, 0xcc, 0xf1]);
    gate32(&mut bus, 4, K_CODE, 0x1002, INT_GATE, 0);
    gate32(&mut bus, 3, K_CODE, 0x1003, INT_GATE, 0);
    gate32(&mut bus, 1, K_CODE, 0x3000, INT_GATE, 0);
    run(&mut cpu, &mut bus, 1);
    assert_eq!((cpu.state.rip, cpu.state.gpr[RSP]), (0x1001, 0x8000));
    cpu.state.rflags |= flags::OF;
    run(&mut cpu, &mut bus, 1);
    assert_eq!((cpu.state.rip, get(&bus, 0x7ff4, 4)), (0x1002, 0x1002));
    run(&mut cpu, &mut bus, 1);
    assert_eq!((cpu.state.rip, get(&bus, 0x7fe8, 4)), (0x1003, 0x1003));
    // INT1 ignores the gate DPL at CPL 3; INT3 does not.
    let (mut cpu, mut bus) = pm(&[0xf1, 0xcc]);
    to_user(&mut cpu, U_CODE);
    put(&mut bus, TSS + 4, 4, 0x9000);
    put(&mut bus, TSS + 8, 2, u64::from(K_DATA));
    gate32(&mut bus, 1, K_CODE, 0x1001, TRAP_GATE, 0);
    cpu.state.dr[7] |= DR7_GD;
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x1001);
    assert_eq!(cpu.state.dr[7] & DR7_GD, 0); // cleared on #DB entry
    let (mut cpu, mut bus) = pm(&[0xcc]);
    to_user(&mut cpu, U_CODE);
    put(&mut bus, TSS + 4, 4, 0x9000);
    put(&mut bus, TSS + 8, 2, u64::from(K_DATA));
    gate32(&mut bus, 3, K_CODE, 0x3000, TRAP_GATE, 0);
    gate32(&mut bus, 13, K_CODE, 0x3100, TRAP_GATE, 0);
    run(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.rip, 0x3100);
    assert_eq!(get(&bus, 0x9000 - 24, 4), 3 * 8 + 2);
}

#[test]
fn real_mode_delivery_and_iret() {
    let (mut cpu, mut bus) = crate::interp::tests::real_mode(&[0xcd, 0x21]);
    put(&mut bus, 0x21 * 4, 4, 0x0200_0010); // 0200:0010
    bus.ram[0x2010] = IRETD; // 16-bit IRET in real mode
    cpu.state.rflags = flags::FIXED | flags::IF | flags::TF | flags::CF;
    gate_free_real(&mut bus);
    run(&mut cpu, &mut bus, 1);
    assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x200, 0x10));
    assert_eq!(cpu.state.gpr[RSP], 0x7ffa);
    assert_eq!(get(&bus, 0x7ffa, 2), 0x1002);
    assert_eq!(get(&bus, 0x7ffe, 2), 0x303);
    assert_eq!(cpu.state.rflags, 0x003);
    run(&mut cpu, &mut bus, 1);
    assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0, 0x1002));
    assert_eq!(cpu.state.rflags, 0x303);
}

/// Real-mode #DB vector pointing at an IRET so TF traps return at once.
fn gate_free_real(bus: &mut FlatBus) {
    put(bus, 4, 4, 0x0200_0010);
}

#[test]
fn mov_ss_and_pop_ss_open_a_shadow() {
    use crate::interp::loads_ss;
    let (cpu, _bus) = pm(&[]);
    assert!(loads_ss(&decode(&cpu, &[0x8e, 0xd0]))); // MOV SS, AX
    assert!(loads_ss(&decode(&cpu, &[0x17]))); // POP SS
    assert!(!loads_ss(&decode(&cpu, &[0x0f, 0xb2, 0x00]))); // LSS
    assert!(!loads_ss(&decode(&cpu, &[0x8e, 0xd8]))); // MOV DS, AX
    assert!(!loads_ss(&decode(&cpu, &[0x8c, 0xd0]))); // MOV AX, SS
}
