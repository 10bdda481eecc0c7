//! Random port accesses and resets at random times (a fixed xorshift
//! sequence per seed), checking after every step that nothing panics, that
//! the state stays in range, that `irq` and `next_event` agree with each
//! other and with register C, and that UIP and the time bytes are
//! plausible. Two shadow devices get the same steps: one is replaced now
//! and then by a device restored from a snapshot, the other also gets
//! extra reads at times in between; both must answer identically.

use super::*;
use crate::testutil::XorShift;

/// Indexes worth hitting more often than a random one would.
const INDEXES: [u8; 24] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0b, 0x0b, 0x0b,
    0x0c, 0x0c, 0x0c, 0x0d, 0x0f, 0x32, 0x37, 0x7f,
];
const A_VALUES: [u8; 12] = [
    0x26, 0x26, 0x20, 0x23, 0x2f, 0x21, 0x66, 0x76, 0x06, 0x16, 0x56, 0xa6,
];
const B_VALUES: [u8; 18] = [
    0x02, 0x02, 0x06, 0x00, 0x04, 0x42, 0x22, 0x12, 0x72, 0x72, 0x52, 0x36, 0x60, 0x82, 0xf2, 0x7f,
    0xff, 0x01,
];

#[derive(Clone, Copy, Debug)]
enum Step {
    Write(u16, u8),
    Read(u16),
    Reset,
}

/// A step; a data write mostly gets a value that makes sense for the
/// register at the index.
fn random_step(rng: &mut XorShift, index: u8) -> Step {
    match rng.below(20) {
        0 => Step::Reset,
        1 => Step::Write(rng.pick(&[0x72, 0x6f, 0x70]), rng.next() as u8),
        2..=7 => {
            let nmi = if rng.below(2) == 0 { 0x80 } else { 0 };
            let index = if rng.below(8) == 0 {
                rng.below(0x80) as u8
            } else {
                rng.pick(&INDEXES)
            };
            Step::Write(INDEX_PORT, nmi | index)
        }
        8..=12 => {
            let value = match (rng.below(4), index) {
                (0, _) => rng.next() as u8,
                (_, REG_A) => rng.pick(&A_VALUES),
                (_, REG_B) => rng.pick(&B_VALUES),
                (1, _) => 0xc0,
                _ => (rng.below(6) as u8) << 4 | rng.below(10) as u8,
            };
            Step::Write(DATA_PORT, value)
        }
        13 => Step::Read(rng.pick(&[INDEX_PORT, 0x72])),
        _ => Step::Read(DATA_PORT),
    }
}

fn random_delay(rng: &mut XorShift, rtc: &Rtc, now: u64) -> u64 {
    match rng.below(9) {
        0 => 0,
        1 => rng.below(10),
        2 => rng.below(300_000),
        3 => rng.below(3_000_000),
        4 => rng.below(2_000_000_000),
        5 => rng.below(100_000_000_000),
        // Into the last 300 µs before the divider's next wrap (the UIP
        // window and the update), if that is ahead.
        6 => {
            let s = rtc.state();
            let wrap = clock_time(s.at + u64::from(32_768 - s.divider)).unwrap_or(now);
            wrap.saturating_sub(rng.below(300_000)).saturating_sub(now)
        }
        // To an event, or just before it.
        _ => rtc
            .next_event(now)
            .map_or(rng.below(1_000_000), |t| t - now - rng.below(2)),
    }
}

fn apply(rtc: &mut Rtc, step: Step, now: u64) -> Option<u8> {
    match step {
        Step::Write(port, v) => {
            rtc.write(port, v, now);
            None
        }
        Step::Read(port) => Some(rtc.read(port, now)),
        Step::Reset => {
            rtc.reset(now);
            None
        }
    }
}

/// A read of register B in between, which must change nothing: the index
/// port is put back as it was.
fn read_in_between(rtc: &mut Rtc, now: u64) {
    let s = rtc.state();
    rtc.write(INDEX_PORT, REG_B, now);
    rtc.read(DATA_PORT, now);
    rtc.write(INDEX_PORT, s.index | u8::from(s.nmi_masked) << 7, now);
}

fn check_invariants(rtc: &Rtc, now: u64) {
    let s = rtc.state();
    assert!(s.index < 0x80);
    assert_eq!(s.reg_a & A_UIP, 0);
    assert_eq!(s.flags & !(C_PF | C_AF | C_UF), 0);
    assert!(s.divider < 32_768);
    if DividerMode::of(s.reg_a) == DividerMode::Reset {
        assert_eq!(s.divider, 0);
    }
    assert!(s.weekday_offset < 7);
    let irq = rtc.irq(now);
    match rtc.next_event(now) {
        Some(t) => {
            assert!(t > now);
            assert!(!irq, "an event while IRQ 8 is already high");
            assert!(!rtc.irq(t - 1), "IRQ 8 early, before {t}");
            assert!(rtc.irq(t), "IRQ 8 not raised at {t}");
        }
        None if !irq => {
            assert!(!rtc.irq(now.saturating_add(3 * 86_400_000_000_000)));
        }
        None => {}
    }
}

fn run(seed: u64, steps: usize) {
    let mut rng = XorShift(seed);
    let mut rtc = Rtc::new(1_796_676_937 + (rng.below(1 << 32) as i64) - (1 << 31));
    let mut restored = Rtc::new(0);
    restored.restore(&rtc.state());
    let mut busy = Rtc::new(0);
    busy.restore(&rtc.state());
    let mut now = 0u64;
    for i in 0..steps {
        let delay = random_delay(&mut rng, &rtc, now);
        if delay > 2 {
            read_in_between(&mut busy, now + rng.below(delay));
        }
        now += delay;
        let step = random_step(&mut rng, rtc.state().index);
        let before = rtc.state();
        let irq_before = rtc.irq(now);
        let got = apply(&mut rtc, step, now);
        let ctx = || format!("seed {seed} step {i} at {now}: {step:?} on {before:?}");
        assert_eq!(apply(&mut restored, step, now), got, "{}", ctx());
        assert_eq!(apply(&mut busy, step, now), got, "{}", ctx());
        if let (Step::Read(DATA_PORT), Some(v)) = (step, got) {
            let counting =
                DividerMode::of(before.reg_a) == DividerMode::Running && before.reg_b & B_SET == 0;
            match before.index {
                REG_C => assert_eq!(v & C_IRQF != 0, irq_before, "{}", ctx()),
                REG_A => assert!(v & A_UIP == 0 || counting, "{}", ctx()),
                REG_D => assert_eq!(v, D_VRT),
                SECONDS | MINUTES if counting => {
                    assert!(calendar::decode(v, before.reg_b) < 60, "{}", ctx())
                }
                _ => {}
            }
        }
        check_invariants(&rtc, now);
        assert_eq!(restored.state(), rtc.state(), "{}", ctx());
        assert_eq!(restored.next_event(now), rtc.next_event(now));
        // (Index writes do not bring the state forward, so the busy
        // device may be ahead; equal times must give equal states.)
        if rtc.state().at == busy.state().at {
            assert_eq!(busy.state(), rtc.state(), "{}", ctx());
        }
        assert_eq!(busy.irq(now), rtc.irq(now), "{}", ctx());
        assert_eq!(busy.next_event(now), rtc.next_event(now), "{}", ctx());
        if rng.below(50) == 0 {
            restored = Rtc::new(0);
            restored.restore(&rtc.state());
        }
    }
}

#[test]
fn random_accesses_keep_invariants_and_snapshots_resume() {
    for seed in 1..=24u64 {
        run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 4000);
    }
}
