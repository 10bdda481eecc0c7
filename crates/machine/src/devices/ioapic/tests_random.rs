//! Random MMIO accesses, input changes, EOIs and message takes (a fixed
//! xorshift sequence), checking after every step that nothing panics, that
//! the waiting messages agree with an independent statement of the rules,
//! and that every message sent matches its entry. A shadow fed the same
//! steps is replaced now and then by one restored from a snapshot and must
//! answer identically.

use super::entry::{MASKED, POLARITY_LOW, REMOTE_IRR, TRIGGER_LEVEL};
use super::tests::{read_reg, write_reg};
use super::*;
use crate::testutil::XorShift;

/// Does entry `e` act level-triggered? (Fixed, lowest priority and the
/// reserved modes follow the trigger bit; the others force edge.)
fn acts_level(e: u64) -> bool {
    e & TRIGGER_LEVEL != 0 && matches!((e >> 8) & 7, 0 | 1 | 3 | 6)
}

/// The rules restated: does `pin` wait to send?
fn reference_waits(s: &IoApicState, pin: usize, latched_edge: bool) -> bool {
    let e = s.redirection[pin];
    let mode = (e >> 8) & 7;
    if e & MASKED != 0 || mode == 3 || mode == 6 {
        return false;
    }
    if acts_level(e) {
        let asserted = (s.lines >> pin & 1 != 0) != (e & POLARITY_LOW != 0);
        asserted && e & REMOTE_IRR == 0
    } else {
        latched_edge
    }
}

fn check_invariants(io: &IoApic) {
    let s = io.state();
    assert!(s.id <= ID_MASK);
    assert_eq!(s.lines & !PIN_MASK, 0);
    assert_eq!(s.pending & !PIN_MASK, 0);
    assert_eq!(io.has_delivery(), s.pending != 0);
    for pin in 0..PINS {
        let e = s.redirection[pin];
        assert_eq!(e & entry::DELIVERY_STATUS, 0);
        let latched = s.pending >> pin & 1 != 0;
        assert_eq!(
            latched,
            reference_waits(&s, pin, latched),
            "pin {pin}: {s:x?}"
        );
        if !acts_level(e) {
            assert_eq!(e & REMOTE_IRR, 0, "pin {pin}: remote IRR on an edge entry");
        }
    }
}

/// Take one message, checking it against the entry it came from.
fn check_take(io: &mut IoApic) -> Option<Delivery> {
    let before = io.state();
    let d = io.take_delivery();
    let after = io.state();
    match d {
        None => assert_eq!(before.pending, 0),
        Some(d) => {
            let pin = usize::from(d.pin);
            assert_eq!(before.pending.trailing_zeros() as usize, pin);
            let e = before.redirection[pin];
            assert_eq!(d.vector, e as u8);
            assert_eq!(d.dest, (e >> 56) as u8);
            assert_eq!(d.dest_mode == DestMode::Logical, e & 1 << 11 != 0);
            let level = acts_level(e);
            assert_eq!(d.trigger == Trigger::Level, level);
            assert_eq!(after.redirection[pin] & REMOTE_IRR != 0, level);
            assert_eq!(after.pending, before.pending & !(1 << pin));
        }
    }
    d
}

/// One random step on both; their answers must match.
fn step(rng: &mut XorShift, io: &mut IoApic, shadow: &mut IoApic, sent: &mut u32) {
    match rng.below(100) {
        0..=29 => {
            // A redirection entry half, biased to meaningful values.
            let sel = REG_REDIRECTION + rng.below(2 * PINS as u64) as u8;
            let mut v = rng.next() as u32;
            if sel & 1 == 0 && rng.below(3) != 0 {
                // One of four vectors, mostly unmasked, any mode, trigger,
                // polarity and destination mode.
                let masked = u32::from(rng.below(4) == 0) << 16;
                v = (v & 0xef00) | masked | (0x30 + rng.below(4) as u32);
            }
            write_reg(io, sel, v);
            write_reg(shadow, sel, v);
        }
        30..=39 => {
            // Any access, any offset, any size.
            let offset = pick_offset(rng);
            let len = 1 + rng.below(8) as usize;
            let bytes = rng.next().to_le_bytes();
            if rng.below(2) == 0 {
                io.write(offset, &bytes[..len]);
                shadow.write(offset, &bytes[..len]);
            } else {
                let (mut a, mut b) = ([0u8; 8], [0u8; 8]);
                io.read(offset, &mut a[..len]);
                shadow.read(offset, &mut b[..len]);
                assert_eq!(a, b);
            }
        }
        40..=49 => {
            let sel = rng.next() as u8;
            assert_eq!(read_reg(io, sel), read_reg(shadow, sel));
        }
        50..=79 => {
            let pin = rng.below(26) as u8;
            let level = rng.below(2) == 0;
            io.set_irq(pin, level);
            shadow.set_irq(pin, level);
        }
        80..=87 => {
            let vector = 0x30 + rng.below(5) as u8;
            if rng.below(2) == 0 {
                io.eoi(vector);
                shadow.eoi(vector);
            } else {
                io.write(EOI, &u32::from(vector).to_le_bytes());
                shadow.write(EOI, &u32::from(vector).to_le_bytes());
            }
        }
        88..=97 => {
            let d = check_take(io);
            assert_eq!(shadow.take_delivery(), d);
            *sent += u32::from(d.is_some());
        }
        _ => {
            let s = io.state();
            let mut copy = IoApic::new();
            copy.restore(&s);
            assert_eq!(copy.state(), s, "restore(state()) is the identity");
            *shadow = copy;
        }
    }
    check_invariants(io);
    assert_eq!(io.state(), shadow.state());
}

fn pick_offset(rng: &mut XorShift) -> u64 {
    match rng.below(4) {
        0 => rng.below(0x1000),
        1 => [IOREGSEL, IOWIN, EOI][rng.below(3) as usize] + rng.below(4),
        2 => rng.next(),
        _ => [IOREGSEL, IOWIN, EOI][rng.below(3) as usize],
    }
}

#[test]
fn random_programming_keeps_the_rules() {
    let mut total_sent = 0;
    for seed in 1..=40u64 {
        let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut io = IoApic::new();
        let mut shadow = IoApic::new();
        let mut sent = 0;
        for _ in 0..3000 {
            step(&mut rng, &mut io, &mut shadow, &mut sent);
        }
        total_sent += sent;
    }
    // The sequence is meant to exercise delivery, not only to survive.
    assert!(total_sent > 1000, "{total_sent}");
}

/// A damaged snapshot of random bits restores to a state that keeps the
/// invariants, and behaves the same as its own state restored again.
#[test]
fn random_snapshots_restore_consistently() {
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for _ in 0..500 {
        let mut redirection = [0u64; PINS];
        for e in &mut redirection {
            *e = rng.next();
        }
        let bad = IoApicState {
            id: rng.next() as u8,
            ioregsel: rng.next() as u8,
            redirection,
            lines: rng.next() as u32,
            pending: rng.next() as u32,
        };
        let mut io = IoApic::new();
        io.restore(&bad);
        check_invariants(&io);
        let mut again = IoApic::new();
        again.restore(&io.state());
        assert_eq!(again.state(), io.state());
    }
}
