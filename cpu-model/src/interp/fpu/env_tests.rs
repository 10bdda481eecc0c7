//! FNSTENV/FSTENV, FLDENV, FNSAVE/FSAVE, FRSTOR: the images byte for
//! byte (SDM Vol. 1 Figures 8-9 to 8-12), the full tag word, round
//! trips, #NM, pending exceptions and memory faults.

use super::{abridged_tag, full_tag_word, load_env, store_env, tag, tag_of, Layout};
use crate::exception::{Exception, Fault};
use crate::fxstate::{fsw, X87Reg, FCW_INIT};
use crate::interp::tests::{asm, long64, prot32, real_mode};
use crate::memory::FlatBus;
use crate::state::{cr0, CpuState, SegReg, Segment};
use crate::{flags, Cpu};
use iced_x86::code_asm::*;
use iced_x86::{Code, Instruction, MemoryOperand, Register};

fn reg(signif: u64, sign_exp: u16) -> X87Reg {
    X87Reg {
        signif,
        sign_exp,
        reserved: [0; 6],
    }
}

const ONE: X87Reg = X87Reg {
    signif: 1 << 63,
    sign_exp: 0x3fff,
    reserved: [0; 6],
};

fn run_to_hlt(cpu: &mut Cpu, bus: &mut FlatBus) -> Result<(), Fault> {
    for _ in 0..100 {
        let lin = cpu.state.cs().base + cpu.state.rip;
        if bus.ram[lin as usize] == 0xf4 {
            return Ok(());
        }
        cpu.execute(bus)?;
    }
    panic!("no HLT");
}

fn le32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn le16(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The state the protected-mode format tests store: TOP = 6, ST(0) = 1.0
/// (R6, valid), ST(1) = +0 (R7, zero), the rest empty, so the full tag
/// word is 01 00 11 11 11 11 11 11B = 4FFFH.
fn prot_state(cpu: &mut Cpu) {
    let fx = &mut cpu.state.fx;
    fx.fcw = 0x0260; // PM masked; IM, DM, ZM, OM, UM unmasked
    fx.fsw = (6 << fsw::TOP_SHIFT) | fsw::C1 | 0x20; // PE (masked)
    fx.ftw = 0xc0;
    fx.st[0] = ONE;
    fx.st[1] = reg(0, 0);
    fx.fip = 0x0040_1234;
    fx.fdp = 0x8765_4321;
    fx.fop = 0x5e9;
    cpu.state.fcs = 0x001b;
    cpu.state.fds = 0x0023;
}

#[test]
fn protected_32bit_image_figure_8_9() {
    let (mut cpu, mut bus) = prot32(&asm(32, |a| {
        a.fnstenv(ptr(0x3000))?;
        a.hlt()
    }));
    prot_state(&mut cpu);
    bus.ram[0x3000..0x3040].fill(0xcc);
    let before = cpu.state.fx;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let want = le32(&[
        0xffff_0260, // FCW
        0xffff_3220, // FSW: TOP 6, C1, PE
        0xffff_4fff, // FTW
        0x0040_1234, // FIP
        0x05e9_001b, // FOP in 26:16, FCS
        0x8765_4321, // FDP
        0xffff_0023, // FDS
    ]);
    assert_eq!(&bus.ram[0x3000..0x301c], &want[..]);
    assert_eq!(bus.ram[0x301c], 0xcc, "28 bytes only");
    // Every exception masked afterwards; nothing else changes (not even
    // the last-instruction pointers: a control instruction).
    let fx = &cpu.state.fx;
    assert_eq!(fx.fcw, 0x027f);
    assert_eq!((fx.fsw, fx.ftw, fx.st), (before.fsw, before.ftw, before.st));
    assert_eq!((fx.fip, fx.fdp, fx.fop), (0x0040_1234, 0x8765_4321, 0x5e9));
    assert_eq!((cpu.state.fcs, cpu.state.fds), (0x1b, 0x23));
}

#[test]
fn protected_16bit_image_figure_8_11() {
    // o16 fnstenv [0x3000]
    let (mut cpu, mut bus) = prot32(&[0x66, 0xd9, 0x35, 0x00, 0x30, 0, 0, 0xf4]);
    prot_state(&mut cpu);
    bus.ram[0x3000..0x3040].fill(0xcc);
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let want = le16(&[0x0260, 0x3220, 0x4fff, 0x1234, 0x001b, 0x4321, 0x0023]);
    assert_eq!(&bus.ram[0x3000..0x300e], &want[..]);
    assert_eq!(bus.ram[0x300e], 0xcc, "14 bytes only");
    assert_eq!(cpu.state.fx.fcw, 0x027f);
}

/// Real-mode state: FCS:FIP = 1234:12345678 (a 32-bit offset, as in
/// big real mode), linear 123579B8H; FDS:FDP = F000:FFF0, linear FFFF0H.
fn real_state(cpu: &mut Cpu) {
    let fx = &mut cpu.state.fx;
    fx.fcw = 0x037f;
    fx.fsw = 0x0100; // C0, TOP 0
    fx.ftw = 0x01; // R0 = ST(0) = 1.0
    fx.st[0] = ONE;
    fx.fip = 0x1234_5678;
    fx.fdp = 0xfff0;
    fx.fop = 0x1d9;
    cpu.state.fcs = 0x1234;
    cpu.state.fds = 0xf000;
}

#[test]
fn real_mode_32bit_image_figure_8_10() {
    // o32 fnstenv [0x3000] in 16-bit code.
    let (mut cpu, mut bus) = real_mode(&[0x66, 0xd9, 0x36, 0x00, 0x30, 0xf4]);
    real_state(&mut cpu);
    bus.ram[0x3000..0x3040].fill(0xcc);
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let want = le32(&[
        0xffff_037f,
        0xffff_0100,
        0xffff_fffc, // R0 valid, the others empty
        0xffff_79b8, // FIP[15:0]
        0x0123_51d9, // 0000B, FIP[31:16] = 1235H, 0, FOP
        0xffff_fff0, // FDP[15:0]
        0x0000_f000, // 0000B, FDP[31:16] = 000FH, 0...
    ]);
    assert_eq!(&bus.ram[0x3000..0x301c], &want[..]);
    assert_eq!(bus.ram[0x301c], 0xcc);
}

#[test]
fn real_mode_16bit_image_figure_8_12() {
    // fnstenv [0x3000] in 16-bit code.
    let (mut cpu, mut bus) = real_mode(&[0xd9, 0x36, 0x00, 0x30, 0xf4]);
    real_state(&mut cpu);
    bus.ram[0x3000..0x3040].fill(0xcc);
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    // FIP[19:16] = 5 and FDP[19:16] = F in bits 15:12.
    let want = le16(&[0x037f, 0x0100, 0xfffc, 0x79b8, 0x51d9, 0xfff0, 0xf000]);
    assert_eq!(&bus.ram[0x3000..0x300e], &want[..]);
    assert_eq!(bus.ram[0x300e], 0xcc);
}

#[test]
fn virtual_8086_mode_uses_the_real_mode_format() {
    let (mut cpu, mut bus) = prot32(&[0xd9, 0x36, 0x00, 0x30, 0xf4]);
    for s in SegReg::ALL {
        cpu.state.seg[s as usize] = Segment::real_mode(0);
    }
    cpu.state.rflags |= flags::VM;
    assert_eq!(cpu.state.mode(), crate::CpuMode::Virtual8086);
    real_state(&mut cpu);
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let want = le16(&[0x037f, 0x0100, 0xfffc, 0x79b8, 0x51d9, 0xfff0, 0xf000]);
    assert_eq!(&bus.ram[0x3000..0x300e], &want[..]);
}

#[test]
fn long_mode_uses_the_protected_formats() {
    // fnstenv [0x3000]: 32-bit protected format, FIP/FDP truncated to
    // 32 bits; o16: the 16-bit protected format.
    let code = asm(64, |a| {
        a.fnstenv(ptr(0x3000))?;
        a.hlt()
    });
    let (mut cpu, mut bus) = long64(&code);
    prot_state(&mut cpu);
    cpu.state.fx.fip = 0x1_2345_6789;
    cpu.state.fx.fdp = 0xffff_8000_0000_1000;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let want = le32(&[
        0xffff_0260,
        0xffff_3220,
        0xffff_4fff,
        0x2345_6789,
        0x05e9_001b,
        0x0000_1000,
        0xffff_0023,
    ]);
    assert_eq!(&bus.ram[0x3000..0x301c], &want[..]);

    let (mut cpu, mut bus) = long64(&[0x66, 0xd9, 0x34, 0x25, 0x00, 0x30, 0, 0, 0xf4]);
    prot_state(&mut cpu);
    bus.ram[0x3000..0x3040].fill(0xcc);
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let want = le16(&[0x0260, 0x3220, 0x4fff, 0x1234, 0x001b, 0x4321, 0x0023]);
    assert_eq!(&bus.ram[0x3000..0x300e], &want[..]);
    assert_eq!(bus.ram[0x300e], 0xcc);
}

#[test]
fn tag_classes() {
    assert_eq!(tag_of(ONE), tag::VALID);
    assert_eq!(tag_of(reg(0xffff_ffff_ffff_ffff, 0xc3fe)), tag::VALID);
    assert_eq!(tag_of(reg(0, 0)), tag::ZERO);
    assert_eq!(tag_of(reg(0, 0x8000)), tag::ZERO, "-0");
    // Denormal, pseudo-denormal.
    assert_eq!(tag_of(reg(1, 0)), tag::SPECIAL);
    assert_eq!(tag_of(reg(1 << 63, 0x8000)), tag::SPECIAL);
    // Infinities, QNaN, SNaN, the indefinite.
    assert_eq!(tag_of(reg(1 << 63, 0x7fff)), tag::SPECIAL);
    assert_eq!(tag_of(reg(1 << 63, 0xffff)), tag::SPECIAL);
    assert_eq!(tag_of(reg(0xc000_0000_0000_0001, 0x7fff)), tag::SPECIAL);
    assert_eq!(tag_of(reg(0x8000_0000_0000_0001, 0x7fff)), tag::SPECIAL);
    assert_eq!(tag_of(reg(0xc000_0000_0000_0000, 0xffff)), tag::SPECIAL);
    // Unsupported: pseudo-infinity, pseudo-NaN, unnormal.
    assert_eq!(tag_of(reg(0, 0x7fff)), tag::SPECIAL);
    assert_eq!(tag_of(reg(0x4000_0000_0000_0000, 0x7fff)), tag::SPECIAL);
    assert_eq!(tag_of(reg(0x4000_0000_0000_0000, 0x3fff)), tag::SPECIAL);
    assert_eq!(abridged_tag(0xffff), 0);
    assert_eq!(abridged_tag(0x0000), 0xff);
    assert_eq!(abridged_tag(0xa92e), 0xfd);
}

#[test]
fn full_tag_word_by_physical_register_with_top_3() {
    // TOP = 3: ST(i) is R((3 + i) mod 8).
    let mut cpu = Cpu::new();
    let fx = &mut cpu.state.fx;
    fx.fsw = 3 << fsw::TOP_SHIFT;
    fx.st = [
        ONE,                                // ST0 = R3: valid   00
        reg(0, 0x8000),                     // ST1 = R4: zero    01
        reg(1, 0),                          // ST2 = R5: denormal 10
        reg(1 << 63, 0x7fff),               // ST3 = R6: +inf    10
        reg(0xc000_0000_0000_0000, 0xffff), // ST4 = R7: QNaN    10
        reg(0x4000_0000_0000_0000, 0x3fff), // ST5 = R0: unnormal 10
        ONE,                                // ST6 = R1: empty   11
        reg(0x8000_0000_0000_0000, 0),      // ST7 = R2: pseudo-denormal 10
    ];
    fx.ftw = 0xfd; // all but R1
                   // R7..R0 = 10 10 10 01 00 10 11 10
    assert_eq!(full_tag_word(fx), 0b1010_1001_0010_1110);
    assert_eq!(full_tag_word(fx), 0xa92e);
    // And as FNSTENV stores it.
    let (mut c, mut bus) = prot32(&asm(32, |a| {
        a.fnstenv(ptr(0x3000))?;
        a.hlt()
    }));
    c.state.fx = cpu.state.fx;
    run_to_hlt(&mut c, &mut bus).unwrap();
    assert_eq!(&bus.ram[0x3008..0x300c], &[0x2e, 0xa9, 0xff, 0xff]);
    // All empty: FFFFH.
    cpu.state.fx.ftw = 0;
    assert_eq!(full_tag_word(&cpu.state.fx), 0xffff);
}

#[test]
fn store_then_load_each_layout_round_trips() {
    for layout in [
        Layout::Real16,
        Layout::Real32,
        Layout::Prot16,
        Layout::Prot32,
    ] {
        let mut st = CpuState::reset();
        st.fx.fcw = 0x0b7f;
        st.fx.fsw = (5 << fsw::TOP_SHIFT) | fsw::C3 | fsw::SF | 1;
        st.fx.ftw = 0x61;
        st.fx.st[3] = ONE; // R0
        st.fx.st[1] = reg(5, 0); // R6
        st.fx.st[2] = reg(0, 0); // R7
        st.fx.fip = 0x0000_9abc;
        st.fx.fdp = 0x0000_def0;
        st.fx.fop = 0x7ff;
        st.fcs = 0x0700;
        st.fds = 0x0800;
        let mut img = [0u8; 28];
        let img = &mut img[..layout.env_len()];
        store_env(&st, layout, img);
        let mut back = CpuState::reset();
        back.fx.st = st.fx.st;
        back.fx.fsw = st.fx.fsw & fsw::TOP;
        load_env(&mut back, layout, img);
        let fx = &back.fx;
        assert_eq!(
            (fx.fcw, fx.fsw, fx.ftw),
            (0x0b7f, st.fx.fsw, 0x61),
            "{layout:?}"
        );
        assert_eq!(fx.st, st.fx.st);
        match layout {
            Layout::Prot32 => {
                assert_eq!((fx.fip, fx.fdp, fx.fop), (0x9abc, 0xdef0, 0x7ff));
                assert_eq!((back.fcs, back.fds), (0x700, 0x800));
            }
            Layout::Prot16 => {
                // Figure 8-11 has no opcode.
                assert_eq!((fx.fip, fx.fdp, fx.fop), (0x9abc, 0xdef0, 0));
                assert_eq!((back.fcs, back.fds), (0x700, 0x800));
            }
            Layout::Real16 | Layout::Real32 => {
                // Linear addresses, selectors 0.
                assert_eq!((fx.fip, fx.fdp, fx.fop), (0x1_0abc, 0x1_5ef0, 0x7ff));
                assert_eq!((back.fcs, back.fds), (0, 0));
            }
        }
        // Stored again: the same image.
        let mut again = [0u8; 28];
        store_env(&back, layout, &mut again[..layout.env_len()]);
        assert_eq!(&again[..layout.env_len()], &img[..], "{layout:?}");
    }
}

#[test]
fn fldenv_loads_each_format_and_rotates_the_stack_to_the_new_top() {
    // Protected 32-bit image: TOP = 3, R3 and R4 not empty (tags 10 and
    // 00 whatever they hold: only "empty or not" is kept), FOP 123H, the reserved bits and
    // bits 31:27 of the FCS/FOP dword set (ignored).
    let img = le32(&[
        0xffff_0362,
        0xffff_1800 | u32::from(fsw::C2),
        0xffff_fcbf, // R7..R0 = 11 11 11 00 10 11 11 11
        0x0000_5555,
        0xf923_002b,
        0x0000_6666,
        0xffff_0033,
    ]);
    let (mut cpu, mut bus) = prot32(&asm(32, |a| {
        a.fldenv(ptr(0x3000))?;
        a.hlt()
    }));
    bus.ram[0x3000..0x301c].copy_from_slice(&img);
    // TOP 0 before: ST(i) = Ri holds i.
    for i in 0..8 {
        cpu.state.fx.st[i] = reg(i as u64, 0x4000);
    }
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let fx = &cpu.state.fx;
    assert_eq!(fx.fcw, 0x0362);
    assert_eq!(fx.fsw, 0x1800 | fsw::C2);
    assert_eq!(fx.top(), 3);
    assert_eq!(fx.ftw, 0b0001_1000);
    for i in 0..8 {
        assert_eq!(fx.st[i].signif, ((3 + i) & 7) as u64, "ST({i}) is R(3+{i})");
    }
    assert_eq!((fx.fip, fx.fdp, fx.fop), (0x5555, 0x6666, 0x123));
    assert_eq!((cpu.state.fcs, cpu.state.fds), (0x2b, 0x33));

    // Real-mode 16-bit image: 20-bit pointers, FOP; TOP 7.
    let img = le16(&[0x037f, 0x3800, 0x3fff, 0x1111, 0xa456, 0x2222, 0xb000]);
    let (mut cpu, mut bus) = real_mode(&[0xd9, 0x26, 0x00, 0x30, 0xf4]);
    bus.ram[0x3000..0x300e].copy_from_slice(&img);
    cpu.state.fcs = 0x1234;
    cpu.state.fds = 0x5678;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let fx = &cpu.state.fx;
    assert_eq!((fx.fcw, fx.top(), fx.ftw), (0x037f, 7, 0x80));
    assert_eq!((fx.fip, fx.fdp, fx.fop), (0xa_1111, 0xb_2222, 0x456));
    assert_eq!((cpu.state.fcs, cpu.state.fds), (0, 0));
}

/// TOP = 5, four registers in use, pointers set, a masked exception
/// flag: a state FSAVE/FRSTOR must bring back exactly.
fn busy_state(cpu: &mut Cpu) {
    let fx = &mut cpu.state.fx;
    fx.fcw = 0x0f7e | 1; // all masked, RC chop, PC 64
    fx.fsw = (5 << fsw::TOP_SHIFT) | fsw::C0 | fsw::C2 | 0x10; // UE
    fx.ftw = 0b1110_0001; // R5 R6 R7 R0 = ST0..ST3
    fx.st[0] = ONE;
    fx.st[1] = reg(0, 0x8000);
    fx.st[2] = reg(1, 0);
    fx.st[3] = reg(0xc000_0000_0000_0000, 0xffff);
    fx.st[6] = reg(0x1234_5678_9abc_def0, 0x4abc); // empty R3
    fx.fip = 0x0012_3456;
    fx.fdp = 0x0065_4321;
    fx.fop = 0x2e9;
    cpu.state.fcs = 0x08;
    cpu.state.fds = 0x10;
}

#[test]
fn fsave_frstor_round_trip_with_top_5() {
    let code = asm(32, |a| {
        a.fnsave(ptr(0x3000))?;
        a.fld1()?;
        a.fld1()?;
        a.fldz()?;
        a.frstor(ptr(0x3000))?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    busy_state(&mut cpu);
    bus.ram[0x3000..0x3080].fill(0xcc);
    let before = cpu.state.fx;
    // FNSAVE alone first: the image, and the FNINIT state after it.
    cpu.execute(&mut bus).unwrap();
    let mut init = Cpu::new();
    init.state.fx = before;
    init.state.fx.fcw = FCW_INIT;
    init.state.fx.fsw = 0;
    init.state.fx.ftw = 0;
    init.state.fx.fip = 0;
    init.state.fx.fdp = 0;
    init.state.fx.fop = 0;
    assert_eq!(cpu.state.fx, init.state.fx, "FNINIT after the image");
    assert_eq!((cpu.state.fcs, cpu.state.fds), (0, 0));
    let env = le32(&[
        0xffff_0f7f,
        0xffff_2d10, // TOP 5, C2, C0, UE
        // R7 special (denormal), R6 zero, R5 valid, R4-R1 empty, R0
        // special (NaN): 10 01 00 11 11 11 11 10B
        0xffff_93fe,
        0x0012_3456,
        0x02e9_0008,
        0x0065_4321,
        0xffff_0010,
    ]);
    assert_eq!(&bus.ram[0x3000..0x301c], &env[..]);
    for i in 0..8 {
        let at = 0x301c + 10 * i;
        assert_eq!(&bus.ram[at..at + 8], &before.st[i].signif.to_le_bytes());
        assert_eq!(
            &bus.ram[at + 8..at + 10],
            &before.st[i].sign_exp.to_le_bytes()
        );
    }
    assert_eq!(bus.ram[0x3000 + 108], 0xcc, "108 bytes");
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx, before);
    assert_eq!((cpu.state.fcs, cpu.state.fds), (0x08, 0x10));
}

#[test]
fn fsave_frstor_16bit_real_mode_round_trip() {
    // fnsave [0x3000]; fld1; frstor [0x3000]; hlt
    let (mut cpu, mut bus) = real_mode(&[
        0xdd, 0x36, 0x00, 0x30, 0xd9, 0xe8, 0xdd, 0x26, 0x00, 0x30, 0xf4,
    ]);
    busy_state(&mut cpu);
    bus.ram[0x3000..0x3080].fill(0xcc);
    let before = cpu.state.fx;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    // FCS:FIP 0008:00123456 is linear 001234D6H, FDS:FDP 0010:00654321
    // is 00654421H: 20 bits of each in this format.
    let env = le16(&[0x0f7f, 0x2d10, 0x93fe, 0x34d6, 0x22e9, 0x4421, 0x5000]);
    assert_eq!(&bus.ram[0x3000..0x300e], &env[..]);
    assert_eq!(&bus.ram[0x300e..0x3016], &ONE.signif.to_le_bytes());
    assert_eq!(bus.ram[0x3000 + 94], 0xcc, "94 bytes");
    let fx = &cpu.state.fx;
    assert_eq!(
        (fx.fcw, fx.fsw, fx.ftw, fx.st),
        (before.fcw, before.fsw, before.ftw, before.st)
    );
    assert_eq!((fx.fip, fx.fdp, fx.fop), (0x2_34d6, 0x5_4421, 0x2e9));
    assert_eq!((cpu.state.fcs, cpu.state.fds), (0, 0));
}

/// Each instruction as bytes in 32-bit code, operand at DS:3000.
const ALL: [(&str, &[u8]); 6] = [
    ("fnstenv", &[0xd9, 0x35, 0x00, 0x30, 0, 0]),
    ("fstenv", &[0x9b, 0xd9, 0x35, 0x00, 0x30, 0, 0]),
    ("fldenv", &[0xd9, 0x25, 0x00, 0x30, 0, 0]),
    ("fnsave", &[0xdd, 0x35, 0x00, 0x30, 0, 0]),
    ("fsave", &[0x9b, 0xdd, 0x35, 0x00, 0x30, 0, 0]),
    ("frstor", &[0xdd, 0x25, 0x00, 0x30, 0, 0]),
];

#[test]
fn unavailable_unit_raises_nm() {
    for (name, bytes) in ALL {
        for bits in [cr0::EM, cr0::TS] {
            let (mut cpu, mut bus) = prot32(bytes);
            busy_state(&mut cpu);
            bus.ram[0x3000..0x3080].fill(0x5a);
            cpu.state.cr0 |= bits;
            let before = cpu.state.clone();
            if bytes[0] == 0x9b {
                // The decoder takes FWAIT as an instruction of its own:
                // it follows MP and TS, and neither raises #NM without MP.
                cpu.execute(&mut bus).unwrap();
            }
            let rip = cpu.state.rip;
            let r = cpu.execute(&mut bus);
            assert_eq!(r.unwrap_err(), Exception::NM.into(), "{name}");
            assert_eq!(cpu.state.fx, before.fx, "{name}");
            assert_eq!(cpu.state.rip, rip, "{name}");
            assert!(bus.ram[0x3000..0x3080].iter().all(|&b| b == 0x5a), "{name}");
        }
    }
}

#[test]
fn pending_exception_waiting_forms_raise_mf_no_wait_forms_store() {
    // IE pending (unmasked): FSTENV, FSAVE (at their FWAIT), FLDENV and
    // FRSTOR raise #MF (with CR0.NE) before touching anything; FNSTENV
    // and FNSAVE store.
    for (name, bytes) in ALL {
        let (mut cpu, mut bus) = prot32(bytes);
        cpu.state.cr0 |= cr0::NE;
        cpu.state.fx.fcw = 0x037e;
        cpu.state.fx.fsw = 1 | fsw::ES | fsw::B;
        bus.ram[0x3000..0x3080].fill(0x5a);
        let before = cpu.state.fx;
        let r = cpu.execute(&mut bus);
        if name.starts_with("fn") {
            r.unwrap();
            assert_eq!(
                &bus.ram[0x3004..0x3006],
                &[0x81, 0x80],
                "{name}: FSW stored"
            );
        } else {
            assert_eq!(r.unwrap_err(), Exception::MF.into(), "{name}");
            assert_eq!(cpu.state.fx, before, "{name}");
            assert!(bus.ram[0x3000..0x3080].iter().all(|&b| b == 0x5a), "{name}");
        }
    }
    // Without CR0.NE the waiting forms wait for the FERR# interrupt
    // instead (FlatBus never asserts IGNNE#), nothing changed.
    let (mut cpu, mut bus) = prot32(ALL[1].1);
    cpu.state.fx.fcw = 0x037e;
    cpu.state.fx.fsw = 1 | fsw::ES | fsw::B;
    let before = cpu.state.fx;
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Fault::FpuErrorWait);
    assert_eq!(cpu.state.fx, before);
}

#[test]
fn fstenv_and_fsave_as_one_instruction_check_pending_exceptions() {
    // The decoder never yields FSTENV/FSAVE (9B is FWAIT on its own), but
    // an instruction built as one (the assembler's form, given to
    // `execute_decoded`) makes the check itself.
    for code in [Code::Fstenv_m28byte, Code::Fsave_m108byte] {
        let ins = Instruction::with1(code, MemoryOperand::with_base_displ(Register::None, 0x3000))
            .unwrap();
        let (mut cpu, mut bus) = prot32(&[0x90; 16]);
        cpu.state.cr0 |= cr0::NE;
        cpu.state.fx.fcw = 0x037e;
        cpu.state.fx.fsw = 1 | fsw::ES | fsw::B;
        let r = cpu.execute_decoded(&mut bus, &ins);
        assert_eq!(r.unwrap_err(), Exception::MF.into(), "{code:?}");
        assert_eq!(&bus.ram[0x3000..0x3004], &[0; 4]);
        cpu.state.fx.fsw = 1;
        cpu.execute_decoded(&mut bus, &ins).unwrap();
        assert_eq!(&bus.ram[0x3000..0x3004], &[0x7e, 0x03, 0xff, 0xff]);
    }
}

#[test]
fn fnstenv_masks_exceptions_so_nothing_is_pending_after_it() {
    let code = asm(32, |a| {
        a.fnstenv(ptr(0x3000))?;
        a.wait()?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr0 |= cr0::NE;
    cpu.state.fx.fcw = 0x0372;
    cpu.state.fx.fsw = 1 | fsw::ES | fsw::B | fsw::C3;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    assert_eq!(&bus.ram[0x3000..0x3004], &[0x72, 0x03, 0xff, 0xff]);
    assert_eq!(&bus.ram[0x3004..0x3008], &[0x81, 0xc0, 0xff, 0xff]);
    assert_eq!(cpu.state.fx.fcw, 0x037f);
    assert_eq!(cpu.state.fx.fsw, 1 | fsw::C3, "flags kept, ES and B clear");
}

#[test]
fn fldenv_unmasked_flag_is_pending_for_the_next_waiting_instruction() {
    // An image with IE set and unmasked but ES clear: after FLDENV, ES
    // and B are set and the next FWAIT raises #MF. One with ES set but
    // every flag masked: nothing is pending.
    let code = asm(32, |a| {
        a.fldenv(ptr(0x3000))?;
        a.wait()?;
        a.hlt()
    });
    let env = |fcw: u32, fsw: u32| le32(&[fcw, fsw, 0xffff, 0, 0, 0, 0]);
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr0 |= cr0::NE;
    bus.ram[0x3000..0x301c].copy_from_slice(&env(0x037e, 0x0001));
    cpu.execute(&mut bus).unwrap();
    assert_eq!(cpu.state.fx.fsw, 1 | fsw::ES | fsw::B);
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::MF.into());

    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr0 |= cr0::NE;
    bus.ram[0x3000..0x301c].copy_from_slice(&env(0x037f, 0x8081));
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.fsw, 1);
}

#[test]
fn memory_faults_leave_the_state_and_memory_unchanged() {
    // DS limit 3050H: the 108-byte image does not fit (#GP(0)), nor does
    // the 28-byte one at 3040H.
    let cases: [(&str, &[u8]); 4] = [
        ("fnsave", &[0xdd, 0x35, 0x00, 0x30, 0, 0]),
        ("frstor", &[0xdd, 0x25, 0x00, 0x30, 0, 0]),
        ("fnstenv", &[0xd9, 0x35, 0x40, 0x30, 0, 0]),
        ("fldenv", &[0xd9, 0x25, 0x40, 0x30, 0, 0]),
    ];
    for (name, bytes) in cases {
        let (mut cpu, mut bus) = prot32(bytes);
        busy_state(&mut cpu);
        cpu.state.fx.fcw = 0x0360;
        cpu.state.seg[SegReg::Ds as usize].limit = 0x3050;
        bus.ram[0x3000..0x3080].fill(0x5a);
        let before = cpu.state.clone();
        let r = cpu.execute(&mut bus);
        assert_eq!(r.unwrap_err(), Exception::GP(0).into(), "{name}");
        assert_eq!(cpu.state.fx, before.fx, "{name}");
        assert_eq!((cpu.state.fcs, cpu.state.fds), (before.fcs, before.fds));
        assert!(bus.ram[0x3000..0x3080].iter().all(|&b| b == 0x5a), "{name}");
    }
}
