//! Directed tests of the 8259A pair: initialization as firmware and Linux do
//! it, delivery, priorities, trigger modes, masking, snapshots and reset (the
//! modes and commands are in `tests_modes.rs`), and the helpers both use.

use super::*;

/// The standard cascade initialization with these vector bases, ICW4 8086
/// mode plus `icw4_extra` on the master.
pub(super) fn init(pic: &mut Pic, master_base: u8, slave_base: u8, icw4_extra: u8) {
    for (cmd, data, base, icw3, icw4) in [
        (0x20, 0x21, master_base, 0x04, 0x01 | icw4_extra),
        (0xa0, 0xa1, slave_base, 0x02, 0x01),
    ] {
        pic.write(cmd, 0x11);
        pic.write(data, base);
        pic.write(data, icw3);
        pic.write(data, icw4);
    }
}

/// As SeaBIOS's `pic_setup`: bases 0x08 and 0x70, all masked but the
/// cascade; then the given IRQs unmasked.
pub(super) fn seabios(unmasked: &[u8]) -> Pic {
    let mut pic = Pic::new();
    init(&mut pic, 0x08, 0x70, 0);
    let mut mask: u16 = 0xfffb;
    for &irq in unmasked {
        mask &= !(1 << irq);
    }
    pic.write(0x21, mask as u8);
    pic.write(0xa1, (mask >> 8) as u8);
    pic
}

/// Both chips initialized with bases 0x08/0x70 and nothing masked.
pub(super) fn open() -> Pic {
    let mut pic = Pic::new();
    init(&mut pic, 0x08, 0x70, 0);
    pic
}

/// Non-specific EOI(s) for `irq` as a PC handler sends them.
pub(super) fn eoi(pic: &mut Pic, irq: u8) {
    if irq >= 8 {
        pic.write(0xa0, 0x20);
    }
    pic.write(0x20, 0x20);
}

/// The ISR through OCW3, leaving the IRR selected again.
pub(super) fn isr(pic: &mut Pic, cmd: u16) -> u8 {
    pic.write(cmd, 0x0b);
    let v = pic.read(cmd);
    pic.write(cmd, 0x0a);
    v
}

pub(super) fn irr(pic: &mut Pic, cmd: u16) -> u8 {
    pic.write(cmd, 0x0a);
    pic.read(cmd)
}

/// Acknowledge, checking INTR was high.
pub(super) fn take(pic: &mut Pic) -> u8 {
    assert!(pic.intr(), "INTR low at acknowledge");
    pic.acknowledge()
}

#[test]
fn seabios_init_delivers_timer_and_rtc() {
    let mut pic = seabios(&[0, 8]);
    assert_eq!(pic.read(0x21), 0xfa);
    assert_eq!(pic.read(0xa1), 0xfe);
    assert!(!pic.intr());

    // IRQ 1 is masked: requested, not delivered.
    pic.set_irq(1, true);
    assert!(!pic.intr());
    assert_eq!(irr(&mut pic, 0x20), 0x02);

    pic.set_irq(0, true);
    assert_eq!(take(&mut pic), 0x08);
    assert_eq!(isr(&mut pic, 0x20), 0x01);
    assert!(!pic.intr());
    eoi(&mut pic, 0);
    assert_eq!(isr(&mut pic, 0x20), 0);

    pic.set_irq(8, true);
    assert_eq!(take(&mut pic), 0x70);
    assert_eq!(isr(&mut pic, 0xa0), 0x01);
    assert_eq!(isr(&mut pic, 0x20), 0x04);
    assert!(!pic.intr());
    eoi(&mut pic, 8);
    assert_eq!(isr(&mut pic, 0xa0), 0);
    assert_eq!(isr(&mut pic, 0x20), 0);
    assert!(!pic.intr());
}

#[test]
fn linux_init_vectors_and_specific_eoi() {
    // Linux's init_8259A: masks first, then ICWs with vectors 0x30/0x38.
    let mut pic = Pic::new();
    pic.write(0x21, 0xff);
    pic.write(0xa1, 0xff);
    init(&mut pic, 0x30, 0x38, 0);
    // ICW1 cleared the masks.
    assert_eq!(pic.read(0x21), 0);
    pic.set_irq(3, true);
    pic.set_irq(12, true);
    // The slave's requests rank at master IR2, above IR3.
    assert_eq!(take(&mut pic), 0x3c);
    assert!(!pic.intr());
    // mask_and_ack_8259A: specific EOI to the slave, then to the master.
    pic.write(0xa0, 0x60 + 4);
    assert!(!pic.intr(), "master IR2 still in service");
    pic.write(0x20, 0x60 + 2);
    assert_eq!(take(&mut pic), 0x33);
    pic.write(0x20, 0x63);
    assert_eq!(isr(&mut pic, 0x20), 0);
    assert!(!pic.intr());
}

#[test]
fn priorities_and_nesting() {
    let mut pic = open();
    for irq in [5, 3, 1] {
        pic.set_irq(irq, true);
    }
    assert_eq!(take(&mut pic), 0x09);
    // A higher level nests; lower ones wait.
    pic.set_irq(0, true);
    assert_eq!(take(&mut pic), 0x08);
    assert_eq!(isr(&mut pic, 0x20), 0x03);
    assert!(!pic.intr());
    // A non-specific EOI ends the highest level in service.
    pic.write(0x20, 0x20);
    assert_eq!(isr(&mut pic, 0x20), 0x02);
    assert!(!pic.intr());
    pic.write(0x20, 0x20);
    assert_eq!(take(&mut pic), 0x0b);
    pic.write(0x20, 0x20);
    assert_eq!(take(&mut pic), 0x0d);
    pic.write(0x20, 0x20);
    assert!(!pic.intr());

    // Slave levels come between IRQ 1 and IRQ 3; among themselves 8 first.
    pic.set_irq(4, true);
    pic.set_irq(14, true);
    pic.set_irq(9, true);
    assert_eq!(take(&mut pic), 0x71);
    // IRQ 14 is lower than 9 on the slave: it waits for the slave's EOI.
    pic.write(0xa0, 0x20);
    assert!(!pic.intr(), "master IR2 still in service");
    pic.write(0x20, 0x20);
    assert_eq!(take(&mut pic), 0x76);
    eoi(&mut pic, 14);
    assert_eq!(take(&mut pic), 0x0c);
}

#[test]
fn edge_needs_a_new_rising_edge() {
    let mut pic = open();
    pic.set_irq(4, true);
    assert_eq!(take(&mut pic), 0x0c);
    eoi(&mut pic, 4);
    // Still high: no new request, however often the device says so.
    pic.set_irq(4, true);
    assert!(!pic.intr());
    assert_eq!(irr(&mut pic, 0x20), 0);
    pic.set_irq(4, false);
    pic.set_irq(4, true);
    assert_eq!(take(&mut pic), 0x0c);
    eoi(&mut pic, 4);
    // A pulse stays latched until acknowledged.
    pic.set_irq(6, true);
    pic.set_irq(6, false);
    assert_eq!(irr(&mut pic, 0x20), 0x40);
    assert_eq!(take(&mut pic), 0x0e);
    eoi(&mut pic, 6);
    assert!(!pic.intr());
}

#[test]
fn level_triggered_via_elcr() {
    let mut pic = open();
    pic.write(0x4d0, 0x20);
    pic.write(0x4d1, 0x08);
    assert_eq!(pic.read(0x4d0), 0x20);
    assert_eq!(pic.read(0x4d1), 0x08);

    pic.set_irq(5, true);
    assert_eq!(take(&mut pic), 0x0d);
    // The IRR bit stays while the line is high: the EOI re-interrupts.
    assert_eq!(irr(&mut pic, 0x20), 0x20);
    eoi(&mut pic, 5);
    assert_eq!(take(&mut pic), 0x0d);
    pic.set_irq(5, false);
    assert_eq!(irr(&mut pic, 0x20), 0);
    eoi(&mut pic, 5);
    assert!(!pic.intr());

    // A level request that goes away before the acknowledge is gone.
    pic.set_irq(5, true);
    assert!(pic.intr());
    pic.set_irq(5, false);
    assert!(!pic.intr());

    pic.set_irq(11, true);
    assert_eq!(take(&mut pic), 0x73);
    eoi(&mut pic, 11);
    assert_eq!(take(&mut pic), 0x73);
    pic.set_irq(11, false);
    eoi(&mut pic, 11);
    assert!(!pic.intr());
    assert_eq!(irr(&mut pic, 0xa0), 0);
}

#[test]
fn elcr_bits_of_edge_only_irqs_read_zero() {
    let mut pic = open();
    pic.write(0x4d0, 0xff);
    pic.write(0x4d1, 0xff);
    assert_eq!(pic.read(0x4d0), 0xf8);
    assert_eq!(pic.read(0x4d1), 0xde);
    // IRQ 0 stays edge-triggered: one interrupt for a line held high.
    pic.set_irq(0, true);
    assert_eq!(take(&mut pic), 0x08);
    eoi(&mut pic, 0);
    assert!(!pic.intr());
    // IRQ 3 is level-triggered now.
    pic.set_irq(3, true);
    assert_eq!(take(&mut pic), 0x0b);
    eoi(&mut pic, 3);
    assert_eq!(take(&mut pic), 0x0b);
}

#[test]
fn masking() {
    let mut pic = open();
    pic.write(0x21, 0x08);
    pic.set_irq(3, true);
    assert!(!pic.intr());
    assert_eq!(irr(&mut pic, 0x20), 0x08);
    pic.write(0x21, 0x00);
    assert_eq!(take(&mut pic), 0x0b);
    eoi(&mut pic, 3);

    // Masking the master's IR2 holds back every slave level.
    pic.write(0x21, 0x04);
    pic.set_irq(10, true);
    assert!(!pic.intr());
    pic.write(0x21, 0x00);
    assert_eq!(take(&mut pic), 0x72);
    eoi(&mut pic, 10);

    // A masked slave level raises no INT at the slave.
    pic.write(0xa1, 0x80);
    pic.set_irq(15, true);
    assert!(!pic.intr());
    assert_eq!(irr(&mut pic, 0xa0), 0x80);
    assert_eq!(irr(&mut pic, 0x20), 0);
    pic.write(0xa1, 0x00);
    assert_eq!(take(&mut pic), 0x77);
    assert_eq!(isr(&mut pic, 0xa0), 0x80, "a real IRQ 15 is in service");
}

#[test]
fn save_restore_mid_interrupt() {
    let mut pic = seabios(&[0, 1, 8, 12]);
    pic.write(0x4d1, 0x10);
    pic.set_irq(12, true);
    assert_eq!(take(&mut pic), 0x74);
    pic.set_irq(1, true);
    assert_eq!(take(&mut pic), 0x09);
    pic.set_irq(0, true);
    pic.set_irq(8, true);
    pic.write(0x20, 0x0b);
    let saved = pic.state();

    let mut copy = Pic::new();
    copy.restore(&saved);
    assert_eq!(copy.state(), saved);
    let run = |p: &mut Pic| {
        let mut out = vec![p.read(0x20), p.read(0x21)];
        for _ in 0..4 {
            p.write(0x20, 0x20);
            if p.intr() {
                out.push(p.acknowledge());
            }
            p.write(0xa0, 0x20);
            if p.intr() {
                out.push(p.acknowledge());
            }
        }
        out
    };
    let a = run(&mut pic);
    let b = run(&mut copy);
    assert_eq!(a, b);
    assert_eq!(pic.state(), copy.state());
    // IR1 and IR2 were in service with IRQ 0 pending above them: the EOIs
    // let IRQ 0, then 8, then the level IRQ 12 in.
    assert_eq!(a, vec![0x06, 0xf8, 0x08, 0x70, 0x74]);
}

#[test]
fn reset_and_power_on() {
    let mut pic = open();
    pic.write(0x4d0, 0x20);
    pic.write(0x21, 0x13);
    pic.set_irq(5, true);
    pic.set_irq(6, true);
    assert_eq!(take(&mut pic), 0x0d);
    pic.reset();
    let mut expect = Pic::new().state();
    expect.master.lines = 0x60;
    assert_eq!(pic.state(), expect);
    assert_eq!(pic.read(0x4d0), 0);
    // The high lines must make a new edge (ELCR reset: IRQ 5 is edge now).
    assert!(!pic.intr());
    pic.set_irq(6, false);
    pic.set_irq(6, true);
    // Unprogrammed after reset: vector base 0, as QEMU.
    assert_eq!(take(&mut pic), 0x06);
}

#[test]
fn foreign_ports_and_lines_are_ignored() {
    let mut pic = open();
    let before = pic.state();
    for port in [0x22, 0x1f, 0xa2, 0x4d2, 0x4cf, 0x120, 0xffff] {
        assert_eq!(pic.read(port), FLOATING_BUS, "port {port:#x}");
        pic.write(port, 0x11);
    }
    pic.set_irq(2, true);
    pic.set_irq(16, true);
    pic.set_irq(255, true);
    assert_eq!(pic.state(), before);
    assert!(!pic.intr());
}
