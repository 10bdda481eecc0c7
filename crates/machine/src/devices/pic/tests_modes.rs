//! Directed tests of the 8259A's modes and commands: EOI kinds and rotation,
//! AEOI, poll, special mask mode, spurious IRQs, OCW3 status reads, short and
//! interrupted initialization sequences, ICW3 addressing and special fully
//! nested mode.

use super::tests::{init, irr, isr, open, take};
use super::*;

#[test]
fn eoi_kinds_and_rotation() {
    let mut pic = open();
    // Rotate on non-specific EOI: IR0 becomes the lowest level.
    pic.set_irq(0, true);
    assert_eq!(take(&mut pic), 0x08);
    pic.write(0x20, 0xa0);
    assert_eq!(isr(&mut pic, 0x20), 0);
    pic.set_irq(0, false);
    pic.set_irq(0, true);
    pic.set_irq(7, true);
    assert_eq!(take(&mut pic), 0x0f);
    // Rotate on specific EOI 7: IR0 is the highest again.
    pic.write(0x20, 0xe7);
    assert_eq!(take(&mut pic), 0x08);
    pic.write(0x20, 0x60);
    assert!(!pic.intr());

    // Set priority: IR4 lowest, so IR5 highest.
    pic.write(0x20, 0xc4);
    pic.set_irq(3, true);
    pic.set_irq(6, true);
    assert_eq!(take(&mut pic), 0x0e);
    // IR3 ranks below IR6 now: it waits.
    assert!(!pic.intr());
    // A specific EOI ends exactly the level named, wherever it ranks.
    pic.write(0x20, 0x63);
    assert_eq!(isr(&mut pic, 0x20), 0x40);
    pic.write(0x20, 0x66);
    assert_eq!(take(&mut pic), 0x0b);
    pic.write(0x20, 0x20);

    // "No operation" and EOIs with nothing in service change nothing.
    let before = pic.state();
    for cmd in [0x40, 0x47, 0x20, 0xa0] {
        pic.write(0x20, cmd);
        assert_eq!(pic.state(), before, "OCW2 {cmd:#x}");
    }
}

#[test]
fn automatic_eoi_and_rotation() {
    let mut pic = Pic::new();
    init(&mut pic, 0x08, 0x70, 0x02);
    pic.set_irq(1, true);
    assert_eq!(take(&mut pic), 0x09);
    assert_eq!(isr(&mut pic, 0x20), 0, "AEOI leaves nothing in service");
    // A lower level can come at once.
    pic.set_irq(3, true);
    assert_eq!(take(&mut pic), 0x0b);

    // Rotate in AEOI mode: each acknowledged level becomes the lowest.
    pic.write(0x20, 0x80);
    pic.set_irq(0, true);
    assert_eq!(take(&mut pic), 0x08);
    pic.set_irq(0, false);
    pic.set_irq(0, true);
    pic.set_irq(5, true);
    assert_eq!(take(&mut pic), 0x0d);
    // IR5 is the lowest now, so IR0 (rank 2) is next anyway.
    assert_eq!(take(&mut pic), 0x08);
    // Clear the rotation: priorities stay where they are but stop moving.
    pic.write(0x20, 0x00);
    pic.set_irq(0, false);
    pic.set_irq(0, true);
    pic.set_irq(7, true);
    assert_eq!(take(&mut pic), 0x0f);
    assert_eq!(take(&mut pic), 0x08);
}

#[test]
fn poll_mode() {
    let mut pic = open();
    pic.write(0x21, 0xff);
    pic.set_irq(5, true);
    pic.set_irq(6, true);
    // Masked levels are not polled.
    pic.write(0x20, 0x0c);
    assert_eq!(pic.read(0x20), 0);
    pic.write(0x21, 0x00);
    pic.write(0x20, 0x0c);
    assert_eq!(pic.read(0x20), 0x85);
    assert_eq!(isr(&mut pic, 0x20), 0x20);
    // The poll was one read: the next read is the IRR again.
    assert_eq!(pic.read(0x20), 0x40);
    // A poll at the odd address works too; IR6 is below IR5 in service.
    pic.write(0x20, 0x0c);
    assert_eq!(pic.read(0x21), 0);
    pic.write(0x20, 0x20);
    pic.write(0x20, 0x0c);
    assert_eq!(pic.read(0x21), 0x86);
    pic.write(0x20, 0x20);

    // A slave request: the master's poll says IR2, the slave's says IR2 too
    // (IRQ 10).
    pic.set_irq(10, true);
    pic.write(0x20, 0x0c);
    assert_eq!(pic.read(0x20), 0x82);
    pic.write(0xa0, 0x0c);
    assert_eq!(pic.read(0xa0), 0x82);
    assert_eq!(isr(&mut pic, 0xa0), 0x04);
    assert_eq!(isr(&mut pic, 0x20), 0x04);
    assert!(!pic.intr());
}

#[test]
fn special_mask_mode() {
    let mut pic = open();
    pic.set_irq(0, true);
    assert_eq!(take(&mut pic), 0x08);
    pic.set_irq(3, true);
    assert!(!pic.intr());
    // Enter special mask mode and mask the level in service: lower levels
    // come through.
    pic.write(0x20, 0x68);
    assert!(!pic.intr(), "an unmasked level in service still inhibits");
    pic.write(0x21, 0x01);
    assert_eq!(take(&mut pic), 0x0b);
    assert_eq!(isr(&mut pic, 0x20), 0x09);
    // A non-specific EOI skips the masked IR0 and ends IR3.
    pic.write(0x20, 0x20);
    assert_eq!(isr(&mut pic, 0x20), 0x01);
    // Leave special mask mode (ESMM with SMM = 0): IR0 inhibits again.
    pic.write(0x20, 0x48);
    pic.write(0x21, 0x00);
    pic.set_irq(4, true);
    assert!(!pic.intr());
    // OCW3 without ESMM leaves the mode alone.
    pic.write(0x20, 0x28);
    assert!(!pic.intr());
    pic.write(0x20, 0x20);
    assert_eq!(take(&mut pic), 0x0c);
}

#[test]
fn spurious_irq7() {
    let mut pic = open();
    assert!(!pic.intr());
    assert_eq!(pic.acknowledge(), 0x0f);
    assert_eq!(isr(&mut pic, 0x20), 0, "a default IR7 sets no ISR bit");
    // A latched request masked before the acknowledge.
    pic.set_irq(3, true);
    assert!(pic.intr());
    pic.write(0x21, 0x08);
    assert!(!pic.intr());
    assert_eq!(pic.acknowledge(), 0x0f);
    assert_eq!(isr(&mut pic, 0x20), 0);
    assert_eq!(irr(&mut pic, 0x20), 0x08, "the request waits");
    pic.write(0x21, 0x00);
    assert_eq!(take(&mut pic), 0x0b);
    // The spurious vector follows ICW2.
    let mut pic = Pic::new();
    init(&mut pic, 0x30, 0x38, 0);
    assert_eq!(pic.acknowledge(), 0x37);
}

#[test]
fn spurious_irq15() {
    let mut pic = open();
    pic.set_irq(12, true);
    assert!(pic.intr());
    // The slave masks the request after the master latched IR2's edge.
    pic.write(0xa1, 0x10);
    assert!(pic.intr());
    assert_eq!(pic.acknowledge(), 0x77);
    assert_eq!(isr(&mut pic, 0xa0), 0);
    assert_eq!(isr(&mut pic, 0x20), 0x04, "the master's IR2 is in service");
    assert!(!pic.intr());
    // The handler of a spurious IRQ 15 sends the master its EOI.
    pic.write(0x20, 0x20);
    assert_eq!(isr(&mut pic, 0x20), 0);
    assert!(!pic.intr());

    // A level-triggered slave line that falls before the acknowledge.
    let mut pic = open();
    pic.write(0x4d1, 0x08);
    pic.set_irq(11, true);
    pic.set_irq(11, false);
    assert_eq!(pic.acknowledge(), 0x77);
    assert_eq!(isr(&mut pic, 0x20), 0x04);
}

#[test]
fn ocw3_selects_irr_or_isr() {
    let mut pic = open();
    pic.set_irq(1, true);
    pic.set_irq(4, true);
    assert_eq!(pic.read(0x20), 0x12, "IRR after initialization");
    assert_eq!(take(&mut pic), 0x09);
    pic.write(0x20, 0x0b);
    assert_eq!(pic.read(0x20), 0x02);
    // The selection sticks, also through an OCW3 without RR.
    pic.write(0x20, 0x08);
    assert_eq!(pic.read(0x20), 0x02);
    pic.write(0x20, 0x0a);
    assert_eq!(pic.read(0x20), 0x10);
    // The odd address always reads the IMR.
    pic.write(0x21, 0x5a);
    assert_eq!(pic.read(0x21), 0x5a);
    // ICW1 selects the IRR again.
    pic.write(0x20, 0x0b);
    pic.write(0x20, 0x11);
    pic.set_irq(4, false);
    pic.set_irq(4, true);
    assert_eq!(pic.read(0x20), 0x10);
}

#[test]
fn init_sequences_without_icw3_or_icw4() {
    // Single mode with ICW4: no ICW3, so the third write is ICW4 and the
    // fourth the mask. IR2 is an ordinary input for a single master.
    let mut pic = Pic::new();
    pic.write(0x20, 0x13);
    pic.write(0x21, 0x20);
    pic.write(0x21, 0x01);
    pic.write(0x21, 0xf0);
    assert_eq!(pic.read(0x21), 0xf0);
    pic.write(0x21, 0x00);
    pic.set_irq(9, true);
    assert_eq!(take(&mut pic), 0x22);
    assert_eq!(isr(&mut pic, 0xa0), 0, "the slave was not asked");

    // Cascade without ICW4: ICW2, ICW3, then the mask; MCS-80/85 mode, so
    // the vector is the CALL address's low byte.
    let mut pic = Pic::new();
    pic.write(0x20, 0xb4);
    pic.write(0x21, 0x12);
    pic.write(0x21, 0x04);
    pic.write(0x21, 0x00);
    assert_eq!(pic.read(0x21), 0x00);
    pic.set_irq(3, true);
    assert_eq!(take(&mut pic), 0xa0 | (3 << 2), "interval 4");
    pic.write(0x20, 0x20);
    // Interval 8, single mode: ICW2 then ready.
    pic.write(0x20, 0xb2);
    pic.write(0x21, 0x12);
    pic.write(0x21, 0x55);
    assert_eq!(pic.read(0x21), 0x55);
    pic.write(0x21, 0x00);
    pic.set_irq(3, false);
    pic.set_irq(3, true);
    assert_eq!(take(&mut pic), 0x80 | (3 << 3));
}

#[test]
fn commands_in_the_middle_of_initialization() {
    let mut pic = open();
    pic.write(0x20, 0x11);
    pic.write(0x21, 0x40);
    // OCW2/OCW3 at the even address do their work; the sequence goes on.
    pic.write(0x20, 0x0b);
    pic.write(0x20, 0x20);
    pic.write(0x21, 0x04);
    // A new ICW1 starts over.
    pic.write(0x20, 0x11);
    pic.write(0x21, 0x50);
    pic.write(0x21, 0x04);
    pic.write(0x21, 0x01);
    pic.write(0x21, 0xfe);
    assert_eq!(pic.read(0x21), 0xfe);
    assert_eq!(pic.state().master.init, InitStep::Ready);
    pic.set_irq(1, true);
    assert!(!pic.intr(), "IR1 masked");
    pic.set_irq(0, true);
    assert_eq!(take(&mut pic), 0x50);
}

#[test]
fn icw3_decides_who_answers() {
    // The master marks IR3 as the cascade and the slave takes ID 3: an
    // acknowledge of IR3 is answered by the slave, IR2 by the master.
    let mut pic = Pic::new();
    pic.write(0x20, 0x11);
    pic.write(0x21, 0x08);
    pic.write(0x21, 0x08);
    pic.write(0x21, 0x01);
    pic.write(0xa0, 0x11);
    pic.write(0xa1, 0x70);
    pic.write(0xa1, 0x03);
    pic.write(0xa1, 0x01);
    pic.set_irq(13, true);
    assert_eq!(take(&mut pic), 0x0a, "IR2 is not a cascade input now");
    assert_eq!(isr(&mut pic, 0xa0), 0);
    // Keep the slave's INT off the master and raise IR3.
    pic.write(0x21, 0x04);
    pic.write(0x20, 0x20);
    pic.set_irq(3, true);
    assert_eq!(take(&mut pic), 0x75, "the slave answers cascade address 3");
    assert_eq!(isr(&mut pic, 0xa0), 0x20);

    // Slave ID 5 never hears its address: the data bus floats.
    let mut pic = Pic::new();
    init(&mut pic, 0x08, 0x70, 0);
    pic.write(0xa0, 0x11);
    pic.write(0xa1, 0x70);
    pic.write(0xa1, 0x05);
    pic.write(0xa1, 0x01);
    pic.set_irq(8, true);
    assert_eq!(take(&mut pic), FLOATING_BUS);
    assert_eq!(isr(&mut pic, 0x20), 0x04);
    assert_eq!(isr(&mut pic, 0xa0), 0);
}

#[test]
fn special_fully_nested_mode() {
    for sfnm in [false, true] {
        let mut pic = Pic::new();
        init(&mut pic, 0x08, 0x70, if sfnm { 0x10 } else { 0 });
        pic.set_irq(12, true);
        assert_eq!(take(&mut pic), 0x74);
        // A higher slave level while IRQ 12 is in service.
        pic.set_irq(9, true);
        assert_eq!(pic.intr(), sfnm, "sfnm={sfnm}");
        if sfnm {
            assert_eq!(pic.acknowledge(), 0x71);
            assert_eq!(isr(&mut pic, 0xa0), 0x12);
        }
        // Lower master levels wait either way.
        pic.set_irq(3, true);
        assert!(!pic.intr(), "sfnm={sfnm}");
    }
}
