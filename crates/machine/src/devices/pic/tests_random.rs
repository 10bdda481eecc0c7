//! Random port writes, reads, line changes and acknowledges (a fixed
//! xorshift sequence), checking after every step that nothing panics, that
//! the INT outputs agree with an independent statement of the priority
//! rules, and that `acknowledge` does what `intr` promised. A shadow pair fed
//! the same steps is replaced now and then by one restored from a snapshot,
//! and must answer identically.

use super::chip::{ICW1_ADI, ICW1_SNGL, ICW4_AEOI, ICW4_SFNM, ICW4_UPM};
use super::*;
use crate::testutil::XorShift;

const PORTS: [u16; 6] = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1];
/// Commands worth hitting more often than a random byte would.
const COMMANDS: [u8; 24] = [
    0x11, 0x11, 0x13, 0x10, 0x19, 0xb4, 0x20, 0x20, 0x60, 0x62, 0x64, 0xa0, 0xe3, 0xc5, 0x80, 0x00,
    0x40, 0x0a, 0x0b, 0x0c, 0x68, 0x48, 0x0e, 0x6f,
];
const DATA: [u8; 12] = [
    0x08, 0x70, 0x30, 0x04, 0x02, 0x01, 0x03, 0x11, 0x00, 0x00, 0xff, 0xfb,
];

fn cascade_inputs(c: &ChipState, master: bool) -> u8 {
    if master && c.icw1 & ICW1_SNGL == 0 {
        c.icw3
    } else {
        0
    }
}

/// The priority rules restated for checking: the unmasked request of best
/// rank is taken unless a level in service that counts ranks at or above it.
/// Every in-service level counts, except masked ones in special mask mode
/// and, in special fully nested mode, a cascade input's own level.
fn reference_pending(c: &ChipState, master: bool) -> Option<u8> {
    let rank = |ir: u8| (ir + 8 - c.highest_priority) % 8;
    let requests = c.irr() & !c.imr;
    let best = (0..8u8)
        .filter(|ir| requests >> ir & 1 != 0)
        .min_by_key(|&ir| rank(ir))?;
    let sfnm = c.icw4 & ICW4_SFNM != 0;
    let blocked = (0..8u8).any(|ir| {
        let in_service = c.isr >> ir & 1 != 0;
        let masked_away = c.special_mask && c.imr >> ir & 1 != 0;
        let own_cascade = sfnm && ir == best && cascade_inputs(c, master) >> ir & 1 != 0;
        in_service && !masked_away && !own_cascade && rank(ir) <= rank(best)
    });
    (!blocked).then_some(best)
}

/// The byte a chip drives for level `ir` (datasheet vector tables).
fn expected_vector(c: &ChipState, ir: u8) -> u8 {
    if c.icw4 & ICW4_UPM != 0 {
        (c.icw2 & 0xf8) + ir
    } else if c.icw1 & ICW1_ADI != 0 {
        (c.icw1 & 0xe0) + ir * 4
    } else {
        (c.icw1 & 0xc0) + ir * 8
    }
}

fn check_invariants(pic: &Pic) {
    let s = pic.state();
    for (c, mask) in [(&s.master, ELCR_MASKS[0]), (&s.slave, ELCR_MASKS[1])] {
        assert!(c.highest_priority < 8);
        assert_eq!(c.elcr & !mask, 0);
        let level = c.level_inputs();
        assert_eq!(c.irr() & level, c.lines & level);
        assert_eq!(c.irr() & !level, c.edge_requests & !level);
    }
    let slave_int = reference_pending(&s.slave, false).is_some();
    assert_eq!(s.master.lines >> CASCADE_IR & 1 != 0, slave_int, "{s:?}");
    assert_eq!(pic.intr(), reference_pending(&s.master, true).is_some());
}

#[derive(Default, Debug)]
struct Seen {
    delivered: u32,
    from_slave: u32,
    spurious_master: u32,
    spurious_slave: u32,
    floating: u32,
}

/// One acknowledge, checked against what the state before promised.
fn check_acknowledge(pic: &mut Pic, seen: &mut Seen) -> u8 {
    let before = pic.state();
    let intr = pic.intr();
    let vector = pic.acknowledge();
    let after = pic.state();
    let (m0, m1) = (&before.master, &after.master);
    let master_ir = reference_pending(m0, true);
    assert_eq!(master_ir.is_some(), intr);
    let ir = master_ir.unwrap_or(7);
    match master_ir {
        None => {
            seen.spurious_master += 1;
            assert_eq!(m1.isr, m0.isr, "a default IR7 sets no ISR bit");
        }
        Some(ir) => {
            seen.delivered += 1;
            let expect_isr = if m0.icw4 & ICW4_AEOI != 0 {
                m0.isr
            } else {
                m0.isr | 1 << ir
            };
            assert_eq!(m1.isr, expect_isr);
            if m0.level_inputs() >> ir & 1 == 0 && ir != CASCADE_IR {
                assert_eq!(m1.irr() >> ir & 1, 0, "edge request cleared");
            }
        }
    }
    if cascade_inputs(m0, true) >> ir & 1 == 0 {
        assert_eq!(vector, expected_vector(m0, ir));
        assert_eq!(after.slave.isr, before.slave.isr);
    } else if before.slave.icw1 & ICW1_SNGL == 0 && before.slave.icw3 & 7 == ir {
        let (s0, s1) = (&before.slave, &after.slave);
        match reference_pending(s0, false) {
            Some(sir) => {
                seen.from_slave += 1;
                assert_eq!(vector, expected_vector(s0, sir));
                if s0.icw4 & ICW4_AEOI == 0 {
                    assert_eq!(s1.isr, s0.isr | 1 << sir);
                }
            }
            None => {
                seen.spurious_slave += 1;
                assert_eq!(vector, expected_vector(s0, 7));
                assert_eq!(s1.isr, s0.isr);
            }
        }
    } else {
        seen.floating += 1;
        assert_eq!(vector, FLOATING_BUS);
        assert_eq!(after.slave.isr, before.slave.isr);
    }
    vector
}

/// One random step on `pic`, the same on `shadow`; their answers must match.
fn step(rng: &mut XorShift, pic: &mut Pic, shadow: &mut Pic, seen: &mut Seen) {
    match rng.below(100) {
        0..=34 => {
            let port = rng.pick(&PORTS);
            let value = match (rng.below(2), port & 1) {
                (0, 0) => rng.pick(&COMMANDS),
                (0, _) => rng.pick(&DATA),
                _ => rng.next() as u8,
            };
            pic.write(port, value);
            shadow.write(port, value);
        }
        35..=37 => {
            let port = rng.next() as u16;
            let value = rng.next() as u8;
            pic.write(port, value);
            shadow.write(port, value);
        }
        38..=49 => {
            let port = if rng.below(8) == 0 {
                rng.next() as u16
            } else {
                rng.pick(&PORTS)
            };
            assert_eq!(pic.read(port), shadow.read(port), "read {port:#x}");
        }
        50..=84 => {
            let irq = rng.below(18) as u8;
            let level = rng.below(2) == 0;
            pic.set_irq(irq, level);
            shadow.set_irq(irq, level);
        }
        85..=97 => {
            let v = check_acknowledge(pic, seen);
            assert_eq!(shadow.acknowledge(), v);
        }
        _ => {
            let s = pic.state();
            let mut copy = Pic::new();
            copy.restore(&s);
            assert_eq!(copy.state(), s, "restore(state()) is the identity");
            *shadow = copy;
        }
    }
    assert_eq!(pic.intr(), shadow.intr());
    check_invariants(pic);
}

#[test]
fn random_programming_keeps_the_invariants() {
    let mut seen = Seen::default();
    for seed in 1..=8u64 {
        let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut pic = Pic::new();
        let mut shadow = Pic::new();
        for _ in 0..40_000 {
            step(&mut rng, &mut pic, &mut shadow, &mut seen);
        }
        assert_eq!(pic.state(), shadow.state());
    }
    // Every kind of acknowledge happened, so the checks above were reached.
    assert!(seen.delivered > 1000, "{seen:?}");
    assert!(seen.from_slave > 100, "{seen:?}");
    assert!(seen.spurious_master > 100, "{seen:?}");
    assert!(seen.spurious_slave > 10, "{seen:?}");
    assert!(seen.floating > 10, "{seen:?}");
}

#[test]
fn damaged_snapshots_are_brought_into_range() {
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for _ in 0..2000 {
        let mut s = Pic::new().state();
        for c in [&mut s.master, &mut s.slave] {
            c.lines = rng.next() as u8;
            c.edge_requests = rng.next() as u8;
            c.imr = rng.next() as u8;
            c.isr = rng.next() as u8;
            c.elcr = rng.next() as u8;
            c.highest_priority = rng.next() as u8;
            c.icw1 = rng.next() as u8;
            c.icw2 = rng.next() as u8;
            c.icw3 = rng.next() as u8;
            c.icw4 = rng.next() as u8;
            c.special_mask = rng.below(2) == 0;
            c.poll = rng.below(2) == 0;
        }
        let mut pic = Pic::new();
        pic.restore(&s);
        check_invariants(&pic);
        let mut seen = Seen::default();
        check_acknowledge(&mut pic, &mut seen);
        check_invariants(&pic);
    }
}
