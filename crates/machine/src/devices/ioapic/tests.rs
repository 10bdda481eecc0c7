//! Directed tests of the I/O APIC through its MMIO interface and input
//! pins, against the 82093AA datasheet's register descriptions and the
//! choices listed in `mod.rs`.

use super::entry::{DELIVERY_STATUS, MASKED, POLARITY_LOW, REMOTE_IRR, TRIGGER_LEVEL};
use super::*;

pub(super) fn read32(io: &mut IoApic, offset: u64) -> u32 {
    let mut b = [0u8; 4];
    io.read(offset, &mut b);
    u32::from_le_bytes(b)
}

pub(super) fn write32(io: &mut IoApic, offset: u64, value: u32) {
    io.write(offset, &value.to_le_bytes());
}

pub(super) fn read_reg(io: &mut IoApic, sel: u8) -> u32 {
    io.write(IOREGSEL, &[sel]);
    read32(io, IOWIN)
}

pub(super) fn write_reg(io: &mut IoApic, sel: u8, value: u32) {
    io.write(IOREGSEL, &[sel]);
    write32(io, IOWIN, value);
}

/// The whole 64-bit entry of `pin` as the guest reads it.
fn read_entry(io: &mut IoApic, pin: u8) -> u64 {
    let lo = read_reg(io, REG_REDIRECTION + 2 * pin);
    let hi = read_reg(io, REG_REDIRECTION + 2 * pin + 1);
    u64::from(hi) << 32 | u64::from(lo)
}

/// Program `pin`'s entry, high dword first (as Linux does, so the entry is
/// never live with a stale destination).
pub(super) fn write_entry(io: &mut IoApic, pin: u8, value: u64) {
    write_reg(io, REG_REDIRECTION + 2 * pin + 1, (value >> 32) as u32);
    write_reg(io, REG_REDIRECTION + 2 * pin, value as u32);
}

fn drain(io: &mut IoApic) -> Vec<Delivery> {
    std::iter::from_fn(|| io.take_delivery()).collect()
}

fn fixed(pin: u8, vector: u8, dest: u8, trigger: Trigger) -> Delivery {
    Delivery {
        pin,
        vector,
        mode: DeliveryMode::Fixed,
        dest_mode: DestMode::Physical,
        dest,
        trigger,
    }
}

#[test]
fn identification_registers() {
    let mut io = IoApic::new();
    assert_eq!(read_reg(&mut io, REG_VERSION), 0x0017_0020);
    assert_eq!(read_reg(&mut io, REG_ID), 0);
    // Only bits 27:24 of the ID are writable.
    write_reg(&mut io, REG_ID, 0xffff_ffff);
    assert_eq!(read_reg(&mut io, REG_ID), 0x0f00_0000);
    assert_eq!(read_reg(&mut io, REG_ARBITRATION), 0x0f00_0000);
    write_reg(&mut io, REG_ID, 0x0200_0000);
    assert_eq!(read_reg(&mut io, REG_ARBITRATION), 0x0200_0000);
    // Version and arbitration are read-only.
    write_reg(&mut io, REG_VERSION, 0);
    write_reg(&mut io, REG_ARBITRATION, 0x0500_0000);
    assert_eq!(read_reg(&mut io, REG_VERSION), 0x0017_0020);
    assert_eq!(read_reg(&mut io, REG_ID), 0x0200_0000);
    assert_eq!(read_reg(&mut io, REG_ARBITRATION), 0x0200_0000);
}

#[test]
fn entries_reset_masked_and_reset_clears_programming() {
    let mut io = IoApic::new();
    for pin in 0..PINS as u8 {
        assert_eq!(read_entry(&mut io, pin), MASKED);
    }
    write_reg(&mut io, REG_ID, 0x0300_0000);
    write_entry(&mut io, 4, 0x0100_0000_0000_8031);
    io.set_irq(4, true);
    assert!(io.has_delivery());
    io.reset();
    assert!(!io.has_delivery());
    assert_eq!(read32(&mut io, IOREGSEL), 0);
    assert_eq!(read_reg(&mut io, REG_ID), 0);
    assert_eq!(read_entry(&mut io, 4), MASKED);
    // The wire kept its level through the reset: unmasking the level
    // entry sends at once.
    write_entry(&mut io, 4, 0x8031);
    assert_eq!(drain(&mut io), vec![fixed(4, 0x31, 0, Trigger::Level)]);
}

#[test]
fn edge_pins_send_on_the_asserting_edge_only() {
    let mut io = IoApic::new();
    write_entry(&mut io, 1, 0x0500_0000_0000_0031);
    assert!(!io.has_delivery());
    io.set_irq(1, true);
    assert!(io.has_delivery());
    assert_eq!(drain(&mut io), vec![fixed(1, 0x31, 5, Trigger::Edge)]);
    // Holding the line high or raising it again is no new edge.
    io.set_irq(1, true);
    assert!(!io.has_delivery());
    io.set_irq(1, false);
    assert!(!io.has_delivery());
    io.set_irq(1, true);
    assert_eq!(drain(&mut io).len(), 1);
    // Edges leave no remote IRR.
    assert_eq!(read_entry(&mut io, 1) & REMOTE_IRR, 0);
    // Two edges before the message is taken are one message (one request
    // latch per pin).
    io.set_irq(1, false);
    io.set_irq(1, true);
    io.set_irq(1, false);
    io.set_irq(1, true);
    assert_eq!(drain(&mut io).len(), 1);
}

#[test]
fn edges_while_masked_are_lost() {
    let mut io = IoApic::new();
    write_entry(&mut io, 3, MASKED | 0x33);
    io.set_irq(3, true);
    assert!(!io.has_delivery());
    write_entry(&mut io, 3, 0x33);
    assert!(!io.has_delivery(), "unmasking an edge pin sends nothing");
    // An edge latched but not yet taken is withdrawn by masking.
    io.set_irq(3, false);
    io.set_irq(3, true);
    assert!(io.has_delivery());
    write_reg(&mut io, REG_REDIRECTION + 6, (MASKED | 0x33) as u32);
    assert!(!io.has_delivery());
    write_reg(&mut io, REG_REDIRECTION + 6, 0x33);
    assert_eq!(io.take_delivery(), None);
}

#[test]
fn level_pins_wait_for_the_eoi_and_resend_while_asserted() {
    let mut io = IoApic::new();
    write_entry(&mut io, 10, TRIGGER_LEVEL | 0x41);
    io.set_irq(10, true);
    assert_eq!(drain(&mut io), vec![fixed(10, 0x41, 0, Trigger::Level)]);
    assert_ne!(read_entry(&mut io, 10) & REMOTE_IRR, 0);
    // Still asserted, but remote IRR holds it.
    io.set_irq(10, true);
    assert!(!io.has_delivery());
    // An EOI of another vector changes nothing.
    io.eoi(0x42);
    assert!(!io.has_delivery());
    assert_ne!(read_entry(&mut io, 10) & REMOTE_IRR, 0);
    // The EOI of its vector, line still high: sent again.
    io.eoi(0x41);
    assert_eq!(drain(&mut io), vec![fixed(10, 0x41, 0, Trigger::Level)]);
    // The device drops the line, then the EOI: nothing more.
    io.set_irq(10, false);
    io.eoi(0x41);
    assert!(!io.has_delivery());
    assert_eq!(read_entry(&mut io, 10) & REMOTE_IRR, 0);
    // A line that falls before its message is taken withdraws it.
    io.set_irq(10, true);
    io.set_irq(10, false);
    assert_eq!(io.take_delivery(), None);
    assert_eq!(read_entry(&mut io, 10) & REMOTE_IRR, 0);
}

#[test]
fn one_eoi_serves_every_level_entry_with_its_vector() {
    let mut io = IoApic::new();
    write_entry(&mut io, 16, TRIGGER_LEVEL | POLARITY_LOW | 0x50);
    write_entry(&mut io, 17, TRIGGER_LEVEL | POLARITY_LOW | 0x50);
    write_entry(&mut io, 18, 0x50); // edge: no remote IRR to clear
    io.set_irq(16, false);
    io.set_irq(17, false);
    assert_eq!(
        drain(&mut io).iter().map(|d| d.pin).collect::<Vec<_>>(),
        [16, 17]
    );
    io.set_irq(17, true); // 17's device is served
    io.eoi(0x50);
    assert_eq!(
        drain(&mut io).iter().map(|d| d.pin).collect::<Vec<_>>(),
        [16]
    );
    assert_eq!(read_entry(&mut io, 17) & REMOTE_IRR, 0);
}

#[test]
fn polarity_inverts_the_wire() {
    let mut io = IoApic::new();
    // Active-low level (a PCI INTx line): idle high is not asserted.
    io.set_irq(20, true);
    write_entry(&mut io, 20, TRIGGER_LEVEL | POLARITY_LOW | 0x60);
    assert!(!io.has_delivery());
    io.set_irq(20, false);
    assert_eq!(drain(&mut io), vec![fixed(20, 0x60, 0, Trigger::Level)]);
    // Active-low edge: the falling wire is the asserting edge.
    write_entry(&mut io, 5, POLARITY_LOW | 0x35);
    io.set_irq(5, true);
    assert!(!io.has_delivery());
    io.set_irq(5, false);
    assert_eq!(drain(&mut io), vec![fixed(5, 0x35, 0, Trigger::Edge)]);
    // Flipping an edge entry's polarity under a steady wire sends nothing.
    write_entry(&mut io, 5, 0x35);
    write_entry(&mut io, 5, POLARITY_LOW | 0x35);
    assert!(!io.has_delivery());
    // A level entry follows its polarity at once: the wire is low, active
    // high is deasserted, active low asserted.
    io.set_irq(21, false);
    write_entry(&mut io, 21, TRIGGER_LEVEL | 0x61);
    assert!(!io.has_delivery());
    write_entry(&mut io, 21, TRIGGER_LEVEL | POLARITY_LOW | 0x61);
    assert_eq!(drain(&mut io).len(), 1);
}

#[test]
fn unmasking_an_asserted_level_pin_sends() {
    let mut io = IoApic::new();
    write_entry(&mut io, 9, MASKED | TRIGGER_LEVEL | 0x49);
    io.set_irq(9, true);
    assert!(!io.has_delivery());
    assert_eq!(read_entry(&mut io, 9) & (DELIVERY_STATUS | REMOTE_IRR), 0);
    write_reg(&mut io, REG_REDIRECTION + 18, (TRIGGER_LEVEL | 0x49) as u32);
    // Delivery status shows the waiting message until it is taken.
    assert_ne!(read_entry(&mut io, 9) & DELIVERY_STATUS, 0);
    assert_eq!(drain(&mut io).len(), 1);
    assert_eq!(
        read_entry(&mut io, 9) & (DELIVERY_STATUS | REMOTE_IRR),
        REMOTE_IRR
    );
    // Masking keeps remote IRR; the EOI still clears it, and the masked
    // pin does not send.
    write_reg(
        &mut io,
        REG_REDIRECTION + 18,
        (MASKED | TRIGGER_LEVEL | 0x49) as u32,
    );
    io.eoi(0x49);
    assert_eq!(read_entry(&mut io, 9) & REMOTE_IRR, 0);
    assert!(!io.has_delivery());
}

#[test]
fn read_only_bits_ignore_writes() {
    let mut io = IoApic::new();
    // Setting delivery status and remote IRR by software does nothing.
    write_entry(
        &mut io,
        2,
        TRIGGER_LEVEL | DELIVERY_STATUS | REMOTE_IRR | 0x22,
    );
    assert_eq!(read_entry(&mut io, 2), TRIGGER_LEVEL | 0x22);
    io.set_irq(2, true);
    assert_eq!(drain(&mut io).len(), 1);
    // Clearing them by software does nothing either.
    write_entry(&mut io, 2, TRIGGER_LEVEL | 0x22);
    assert_ne!(read_entry(&mut io, 2) & REMOTE_IRR, 0);
    assert!(!io.has_delivery());
    // Reprogramming to edge clears remote IRR (Linux's EOI without an EOI
    // register); back to level with the line still high sends again.
    write_entry(&mut io, 2, MASKED | 0x22);
    assert_eq!(read_entry(&mut io, 2) & REMOTE_IRR, 0);
    write_entry(&mut io, 2, TRIGGER_LEVEL | 0x22);
    assert_eq!(drain(&mut io).len(), 1);
    // Reserved bits 55:17 are kept as written.
    write_entry(&mut io, 7, 0x00ff_ffff_fffe_0000 | MASKED);
    assert_eq!(read_entry(&mut io, 7), 0x00ff_ffff_fffe_0000 | MASKED);
}

#[test]
fn eoi_register_takes_a_whole_dword_and_its_vector_byte() {
    let mut io = IoApic::new();
    write_entry(&mut io, 11, TRIGGER_LEVEL | 0x71);
    io.set_irq(11, true);
    assert_eq!(drain(&mut io).len(), 1);
    // A byte or word write is ignored.
    io.write(EOI, &[0x71]);
    io.write(EOI, &[0x71, 0]);
    assert!(!io.has_delivery());
    // The reserved bits 31:8 do not matter.
    write32(&mut io, EOI, 0xabcd_0171);
    assert_eq!(drain(&mut io).len(), 1);
    // It aliases every 256 bytes like the other registers.
    write32(&mut io, 0x540, 0x71);
    assert_eq!(drain(&mut io).len(), 1);
    // Reading it gives 0.
    assert_eq!(read32(&mut io, EOI), 0);
}

#[test]
fn decoding_of_offsets_and_sizes() {
    let mut io = IoApic::new();
    write_reg(&mut io, REG_ID, 0x0a00_0000);
    // IOREGSEL keeps 8 bits, whatever the write's size.
    write32(&mut io, IOREGSEL, 0x1234_5601);
    assert_eq!(read32(&mut io, IOREGSEL), 0x01);
    io.write(IOREGSEL, &[0x00, 0xff]);
    let mut b = [0u8; 2];
    io.read(IOREGSEL, &mut b);
    assert_eq!(b, [0, 0]);
    // A write starting at byte 1 does not reach the index.
    io.write(IOREGSEL + 1, &[0x01]);
    assert_eq!(read32(&mut io, IOREGSEL), 0);
    // IOWIN acts on whole dwords only.
    let mut b = [0u8; 1];
    io.read(IOWIN + 3, &mut b);
    assert_eq!(b, [0]);
    let mut w = [0u8; 2];
    io.read(IOWIN, &mut w);
    assert_eq!(w, [0, 0]);
    io.write(IOWIN + 3, &[0x05]);
    io.write(IOWIN, &[0, 0, 0]);
    assert_eq!(read32(&mut io, IOWIN), 0x0a00_0000);
    // An 8-byte access is two dwords: IOWIN and the nothing after it.
    let mut q = [0u8; 8];
    io.read(IOWIN, &mut q);
    assert_eq!(u64::from_le_bytes(q), 0x0a00_0000);
    io.write(IOWIN, &0x0000_0000_0500_0000u64.to_le_bytes());
    assert_eq!(read_reg(&mut io, REG_ID), 0x0500_0000);
    // The registers repeat every 256 bytes; other offsets read 0.
    assert_eq!(read32(&mut io, 0xf10), 0x0500_0000);
    io.write(0x300, &[REG_VERSION]);
    assert_eq!(read32(&mut io, IOWIN), 0x0017_0020);
    for offset in [0x04, 0x08, 0x0c, 0x14, 0x20, 0x30, 0x44, 0x80, 0xfc] {
        assert_eq!(read32(&mut io, offset), 0, "{offset:#x}");
        write32(&mut io, offset, 0xffff_ffff);
    }
    assert_eq!(read32(&mut io, IOREGSEL), u32::from(REG_VERSION));
    assert_eq!(read_reg(&mut io, REG_ID), 0x0500_0000);
    // Offsets near the end of the address space do not overflow.
    io.read(u64::MAX - 2, &mut q);
    io.write(u64::MAX - 2, &q);
}

#[test]
fn unknown_register_indexes_read_zero_and_ignore_writes() {
    let mut io = IoApic::new();
    let before = io.state();
    for sel in (0x03..=0x0f).chain(0x40..=0xff) {
        write_reg(&mut io, sel, 0xffff_ffff);
        assert_eq!(read_reg(&mut io, sel), 0, "{sel:#x}");
    }
    assert_eq!(io.state().redirection, before.redirection);
    assert_eq!(io.state().id, 0);
}

#[test]
fn forced_edge_and_reserved_delivery_modes() {
    let mut io = IoApic::new();
    // NMI programmed level-triggered acts as edge: no remote IRR, one
    // message per asserting edge.
    write_entry(&mut io, 6, TRIGGER_LEVEL | 4 << 8 | 0x02);
    io.set_irq(6, true);
    let d = drain(&mut io);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].mode, d[0].trigger),
        (DeliveryMode::Nmi, Trigger::Edge)
    );
    assert_eq!(read_entry(&mut io, 6) & REMOTE_IRR, 0);
    io.eoi(0x02);
    assert!(!io.has_delivery());
    // ExtINT, SMI, INIT likewise.
    for (mode, want) in [
        (7, DeliveryMode::ExtInt),
        (2, DeliveryMode::Smi),
        (5, DeliveryMode::Init),
        (1, DeliveryMode::LowestPriority),
    ] {
        io.set_irq(6, false);
        write_entry(&mut io, 6, mode << 8 | 0x02);
        io.set_irq(6, true);
        let d = drain(&mut io);
        assert_eq!(d.len(), 1, "mode {mode}");
        assert_eq!(d[0].mode, want);
    }
    // Reserved modes send nothing and set no remote IRR, even for an
    // asserted level pin; a defined mode then sends.
    for mode in [3u64, 6] {
        io.set_irq(8, true);
        write_entry(&mut io, 8, TRIGGER_LEVEL | mode << 8 | 0x48);
        assert!(!io.has_delivery());
        assert_eq!(read_entry(&mut io, 8) & (REMOTE_IRR | DELIVERY_STATUS), 0);
        write_entry(&mut io, 8, TRIGGER_LEVEL | 0x48);
        assert_eq!(drain(&mut io).len(), 1);
        io.set_irq(8, false);
        io.eoi(0x48);
    }
}

#[test]
fn destinations_are_reported_as_programmed() {
    let mut io = IoApic::new();
    write_entry(&mut io, 12, 0xa500_0000_0000_0000 | 1 << 11 | 1 << 8 | 0x92);
    io.set_irq(12, true);
    assert_eq!(
        io.take_delivery(),
        Some(Delivery {
            pin: 12,
            vector: 0x92,
            mode: DeliveryMode::LowestPriority,
            dest_mode: DestMode::Logical,
            dest: 0xa5,
            trigger: Trigger::Edge,
        })
    );
}

#[test]
fn several_waiting_messages_go_lowest_pin_first() {
    let mut io = IoApic::new();
    for pin in [23u8, 0, 13] {
        write_entry(&mut io, pin, 0x20 + u64::from(pin));
    }
    io.set_irq(23, true);
    io.set_irq(13, true);
    io.set_irq(0, true);
    let pins: Vec<u8> = drain(&mut io).iter().map(|d| d.pin).collect();
    assert_eq!(pins, [0, 13, 23]);
}

#[test]
fn pins_beyond_23_are_ignored() {
    let mut io = IoApic::new();
    for pin in [24u8, 31, 32, 255] {
        io.set_irq(pin, true);
    }
    assert_eq!(io.state().lines, 0);
    assert!(!io.has_delivery());
}

#[test]
fn restore_resumes_and_sanitizes() {
    let mut io = IoApic::new();
    write_entry(&mut io, 14, TRIGGER_LEVEL | 0x80);
    io.set_irq(14, true);
    let s = io.state();
    let mut copy = IoApic::new();
    copy.restore(&s);
    assert_eq!(copy.state(), s);
    assert_eq!(drain(&mut copy), drain(&mut io));
    // A damaged snapshot: a 5-bit ID, lines and messages beyond pin 23,
    // delivery status stored, remote IRR on an edge entry, a message
    // waiting on a masked pin and on a level pin with remote IRR.
    let mut bad = IoApicState {
        id: 0xff,
        ioregsel: 0x13,
        redirection: [MASKED; PINS],
        lines: 0xffff_ffff,
        pending: 0xffff_ffff,
    };
    bad.redirection[0] = REMOTE_IRR | DELIVERY_STATUS | 0x30; // edge
    bad.redirection[1] = TRIGGER_LEVEL | REMOTE_IRR | 0x31;
    bad.redirection[2] = TRIGGER_LEVEL | 0x32;
    let mut io = IoApic::new();
    io.restore(&bad);
    let s = io.state();
    assert_eq!(s.id, 0x0f);
    assert_eq!(s.lines, PIN_MASK);
    assert_eq!(s.redirection[0], 0x30);
    assert_eq!(s.redirection[1], TRIGGER_LEVEL | REMOTE_IRR | 0x31);
    // Pin 0 keeps its latched edge, pin 2 (level, asserted) waits; the
    // masked pins and pin 1 (remote IRR) do not.
    assert_eq!(s.pending, 0b101);
    assert_eq!(read_reg(&mut io, 0x13), 0);
}
