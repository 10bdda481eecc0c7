//! Random port accesses, host input and time steps (a fixed xorshift
//! sequence), checking after every step that nothing panics and the
//! invariants hold; that a twin polled at many more times (status reads,
//! IRQ and event queries between the steps) gives the same answers, so
//! the result does not depend on the call pattern; and that a twin
//! restored from a snapshot now and then answers identically.

use super::*;
use crate::testutil::XorShift;

const COMMANDS: [u8; 26] = [
    0x20, 0x60, 0x60, 0x21, 0x7f, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xad, 0xae, 0xc0, 0xd0, 0xd1, 0xd2,
    0xd3, 0xd4, 0xd4, 0xd4, 0xdd, 0xdf, 0xfe, 0xff, 0xf1, 0x00,
];
const DEVICE_BYTES: [u8; 30] = [
    0xff, 0xf2, 0xee, 0xed, 0xf0, 0xf3, 0xf4, 0xf5, 0xf6, 0xfe, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb,
    0xec, 0xf0, 0xf3, 200, 100, 80, 0x00, 0x01, 0x02, 0x03, 0x47, 0x43, 0x61, 0x07,
];

fn check_invariants(kbc: &I8042, now: u64) {
    let s = kbc.state();
    assert!(s.keyboard.queue.len() <= queue::CAPACITY);
    assert!(s.mouse.queue.len() <= queue::CAPACITY);
    assert!((1..=3).contains(&s.keyboard.scancode_set));
    assert!(matches!(s.mouse.id, 0 | 3));
    let status = copy_of(kbc).read(STATUS_PORT, now);
    assert_eq!(status & (STATUS_IBF | STATUS_TIMEOUT | STATUS_PARITY), 0);
    assert_ne!(status & STATUS_NOT_INHIBITED, 0);
    let obf = status & STATUS_OBF != 0;
    let aux = status & STATUS_AUX_OBF != 0;
    assert!(obf || !aux, "AUX OBF without OBF");
    assert_eq!(
        kbc.irq1(now),
        obf && !aux && s.ram[0] & CMD_BYTE_KBD_INT != 0
    );
    assert_eq!(kbc.irq12(now), aux && s.ram[0] & CMD_BYTE_AUX_INT != 0);
    if let Some(t) = kbc.next_event(now) {
        assert!(t > now);
        assert!(!obf, "an event while the buffer is full");
        assert_eq!(copy_of(kbc).read(STATUS_PORT, t - 1) & STATUS_OBF, 0);
        assert_ne!(copy_of(kbc).read(STATUS_PORT, t) & STATUS_OBF, 0);
    }
}

/// A copy to probe without disturbing the original.
fn copy_of(kbc: &I8042) -> I8042 {
    let mut c = I8042::new();
    c.restore(&kbc.state());
    c
}

/// One random operation at `now` on both; returns a value to compare.
fn step(rng: &mut XorShift, kbc: &mut I8042, now: u64) -> u64 {
    match rng.below(100) {
        0..=24 => {
            let v = if rng.below(4) == 0 {
                rng.next() as u8
            } else {
                rng.pick(&COMMANDS)
            };
            kbc.write(STATUS_PORT, v, now);
            0
        }
        25..=49 => {
            let v = if rng.below(4) == 0 {
                rng.next() as u8
            } else {
                rng.pick(&DEVICE_BYTES)
            };
            kbc.write(DATA_PORT, v, now);
            0
        }
        50..=74 => u64::from(kbc.read(DATA_PORT, now)),
        75..=79 => {
            let port = rng.next() as u16;
            let v = rng.next() as u8;
            kbc.write(port, v, now);
            u64::from(kbc.read(port, now))
        }
        80..=89 => {
            let n = 1 + rng.below(3) as usize;
            let bytes = rng.next().to_le_bytes();
            u64::from(kbc.push_key_scancode(&bytes[..n], now))
        }
        _ => {
            let dx = rng.next() as i16 as i32;
            let dy = rng.next() as i8 as i32;
            let dz = rng.next() as i8 as i32 / 16;
            kbc.push_mouse_movement(dx, dy, dz, rng.next() as u8, now);
            0
        }
    }
}

#[test]
fn random_accesses_keep_invariants_and_do_not_depend_on_polling() {
    let mut bytes_read = 0;
    for seed in 1..=30u64 {
        let mut rng = XorShift(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let mut kbc = I8042::new();
        let mut polled = I8042::new();
        let mut restored = I8042::new();
        let mut now = 0u64;
        for _ in 0..2000 {
            // Time moves by a random amount, sometimes to the next event.
            let dt = match rng.below(4) {
                0 => 0,
                1 => rng.below(1000),
                2 => rng.below(3 * TRANSFER_NS),
                _ => kbc.next_event(now).map_or(1, |t| t - now),
            };
            // The polled twin is looked at on the way.
            let stops = rng.below(4);
            for k in 1..=stops {
                let t = now + dt * k / (stops + 1);
                polled.read(STATUS_PORT, t);
                let _ = (polled.irq1(t), polled.irq12(t), polled.next_event(t));
            }
            now += dt;
            let mut twin_rng = XorShift(rng.0);
            let mut twin_rng2 = XorShift(rng.0);
            let a = step(&mut rng, &mut kbc, now);
            let b = step(&mut twin_rng, &mut polled, now);
            let c = step(&mut twin_rng2, &mut restored, now);
            assert_eq!(a, b, "seed {seed}: polling changed an answer");
            assert_eq!(a, c, "seed {seed}: a restored copy answered differently");
            assert_eq!(kbc.state(), polled.state(), "seed {seed}");
            assert_eq!(kbc.state(), restored.state(), "seed {seed}");
            check_invariants(&kbc, now);
            if kbc.reset_requested() && rng.below(2) == 0 {
                kbc.reset(now);
                polled.reset(now);
                restored.reset(now);
            }
            if rng.below(50) == 0 {
                let s = kbc.state();
                restored = I8042::new();
                restored.restore(&s);
                assert_eq!(restored.state(), s, "restore(state()) is the identity");
            }
            if a != 0 {
                bytes_read += 1;
            }
        }
    }
    assert!(bytes_read > 10_000, "{bytes_read}");
}
