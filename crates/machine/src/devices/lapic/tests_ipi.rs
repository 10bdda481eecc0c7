//! IPIs through the ICR (SDM 11.6): shorthands, physical and logical
//! destinations (flat and cluster), delivery modes, illegal vectors, and
//! a second unit receiving what the first sends.

use super::regs::*;
use super::tests::{enabled, esr, rd, take, wr};
use super::*;

const SELF: u32 = 1 << 18;
const ALL: u32 = 2 << 18;
const ALL_BUT_SELF: u32 = 3 << 18;
const LOGICAL: u32 = 1 << 11;

/// Send `low` to destination field `dest`.
fn send(l: &mut Lapic, dest: u8, low: u32) -> Option<BusMessage> {
    wr(l, REG_ICR_HIGH, u32::from(dest) << 24);
    wr(l, REG_ICR_LOW, low)
}

fn ipi(mode: DeliveryMode, vector: u8, destination: Destination) -> Option<BusMessage> {
    Some(BusMessage::Ipi(Ipi {
        mode,
        vector,
        destination,
    }))
}

#[test]
fn self_ipi_and_shorthands() {
    let mut l = enabled();
    assert_eq!(send(&mut l, 0, SELF | 0x50), None, "nothing for others");
    assert_eq!(l.pending(), Some(Pending::Fixed(0x50)));
    assert_eq!(rd(&mut l, REG_ICR_LOW), SELF | 0x50, "delivery status idle");
    l.acknowledge();
    assert_eq!(wr(&mut l, REG_EOI, 0), None, "IPIs are edge-triggered");

    // All including self: here and on the bus.
    let m = send(&mut l, 0, ALL | 0x51);
    assert_eq!(m, ipi(DeliveryMode::Fixed, 0x51, Destination::All));
    assert_eq!(l.acknowledge(), 0x51);
    wr(&mut l, REG_EOI, 0);
    // All excluding self: only on the bus.
    let m = send(&mut l, 0, ALL_BUT_SELF | 0x52);
    assert_eq!(m, ipi(DeliveryMode::Fixed, 0x52, Destination::All));
    assert_eq!(l.pending(), None);
    // The level/trigger bits make no level IPI.
    send(&mut l, 0, SELF | 0xc000 | 0x53);
    assert_eq!(l.acknowledge(), 0x53);
    assert_eq!(l.state().tmr, [0; 8]);
}

#[test]
fn physical_destinations() {
    let mut l = enabled();
    wr(&mut l, REG_ID, 0x0200_0000);
    let m = send(&mut l, 2, 0x60);
    assert_eq!(m, ipi(DeliveryMode::Fixed, 0x60, Destination::Physical(2)));
    assert_eq!(take(&mut l), 0x60);
    // Another ID: not here, and no send accept error on the xAPIC.
    send(&mut l, 3, 0x61);
    assert_eq!(l.pending(), None);
    assert_eq!(esr(&mut l), 0);
    // 0xFF is everybody.
    send(&mut l, 0xff, 0x62);
    assert_eq!(take(&mut l), 0x62);
    // Lowest priority is fixed on a uniprocessor.
    let m = send(&mut l, 2, 0x100 | 0x63);
    assert_eq!(
        m,
        ipi(DeliveryMode::LowestPriority, 0x63, Destination::Physical(2))
    );
    assert_eq!(take(&mut l), 0x63);
}

#[test]
fn logical_flat_and_cluster() {
    let mut l = enabled();
    wr(&mut l, REG_LDR, 0x2400_0000);
    // Flat: any common bit.
    for (mda, hit) in [
        (0x04, true),
        (0x20, true),
        (0xff, true),
        (0x03, false),
        (0, false),
    ] {
        send(&mut l, mda, LOGICAL | 0x70);
        assert_eq!(l.pending().is_some(), hit, "flat {mda:#x}");
        take(&mut l);
    }
    // Cluster 2, member bit 2.
    wr(&mut l, REG_DFR, 0x0fff_ffff);
    for (mda, hit) in [
        (0x24, true),
        (0x2c, true),
        (0x21, false),
        (0x34, false),
        (0xf4, true),
        (0xff, true),
        (0xf1, false),
    ] {
        send(&mut l, mda, LOGICAL | 0x71);
        assert_eq!(l.pending().is_some(), hit, "cluster {mda:#x}");
        take(&mut l);
    }
    // A reserved model matches nothing.
    wr(&mut l, REG_DFR, 0x5fff_ffff);
    send(&mut l, 0xff, LOGICAL | 0x72);
    assert_eq!(l.pending(), None);
}

#[test]
fn nmi_init_sipi_smi_are_signals() {
    let mut l = enabled();
    send(&mut l, 0, SELF | 0x400);
    send(&mut l, 0, SELF | 0x500);
    send(&mut l, 0, SELF | 0x69a);
    send(&mut l, 0, SELF | 0x200);
    l.accept(0x80, Trigger::Edge);
    // Most urgent first; the fixed vector waits for the CPU's acknowledge.
    assert_eq!(l.pending(), Some(Pending::Smi));
    assert_eq!(l.take_signal(), Some(Pending::Smi));
    assert_eq!(l.take_signal(), Some(Pending::Init));
    assert_eq!(l.take_signal(), Some(Pending::Startup(0x9a)));
    assert_eq!(l.take_signal(), Some(Pending::Nmi));
    assert_eq!(l.take_signal(), None);
    assert_eq!(l.pending(), Some(Pending::Fixed(0x80)));
    // INIT level de-assert does nothing; reserved modes send nothing.
    assert_eq!(send(&mut l, 0, ALL | 0x8500), None);
    assert_eq!(send(&mut l, 0, ALL | 0x300), None);
    assert_eq!(send(&mut l, 0, ALL | 0x700), None);
    assert_eq!(l.take_signal(), None);
    // INIT to another unit goes out.
    let m = send(&mut l, 1, 0x4500);
    assert_eq!(m, ipi(DeliveryMode::Init, 0, Destination::Physical(1)));
}

#[test]
fn illegal_vectors_on_send_and_receive() {
    let mut l = enabled();
    let m = send(&mut l, 0, SELF | 0x0f);
    assert_eq!(m, None);
    assert_eq!(l.pending(), None);
    assert_eq!(
        esr(&mut l),
        ESR_SEND_ILLEGAL_VECTOR | ESR_RECEIVE_ILLEGAL_VECTOR
    );
    // Only for fixed and lowest priority: an NMI's vector is unused.
    send(&mut l, 0, SELF | 0x400 | 0x03);
    assert_eq!(esr(&mut l), 0);
    assert_eq!(l.take_signal(), Some(Pending::Nmi));
}

#[test]
fn a_second_unit_receives_what_the_first_sends() {
    let mut bsp = enabled();
    let mut ap = Lapic::new(LapicConfig {
        initial_id: 1,
        bsp: false,
        phys_addr_bits: 40,
    });
    wr(&mut ap, REG_SVR, 0x1ff);
    let route = |m: Option<BusMessage>, ap: &mut Lapic| {
        if let Some(BusMessage::Ipi(i)) = m {
            ap.receive_ipi(&i);
        }
    };
    // INIT, SIPI to ID 1.
    let m = send(&mut bsp, 1, 0x4500);
    route(m, &mut ap);
    assert_eq!(ap.take_signal(), Some(Pending::Init));
    ap.init_reset(0);
    let m = send(&mut bsp, 1, 0x4608);
    route(m, &mut ap);
    assert_eq!(ap.take_signal(), Some(Pending::Startup(8)));
    assert_eq!(bsp.pending(), None);
    // A fixed IPI to all but self: the AP, once software-enabled.
    let m = send(&mut bsp, 0, ALL_BUT_SELF | 0x90);
    route(m, &mut ap);
    assert_eq!(ap.pending(), None, "INIT left the AP software-disabled");
    wr(&mut ap, REG_SVR, 0x1ff);
    let m = send(&mut bsp, 0, ALL_BUT_SELF | 0x90);
    route(m, &mut ap);
    assert_eq!(ap.pending(), Some(Pending::Fixed(0x90)));
    assert_eq!(bsp.pending(), None);
    // Physical ID 0 is not the AP's.
    let m = send(&mut bsp, 0, 0x91);
    route(m, &mut ap);
    assert_eq!(bsp.acknowledge(), 0x91);
    assert_eq!(ap.acknowledge(), 0x90);
    assert_eq!(ap.pending(), None);
}
