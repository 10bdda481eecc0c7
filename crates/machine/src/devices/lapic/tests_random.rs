//! Random register accesses, interrupts, pin changes, MSR writes,
//! acknowledges and EOIs at random times (a fixed xorshift sequence per
//! seed), checking after every step that nothing panics and the
//! invariants hold. Three units take the same steps: one brought up to
//! each step's time only, one also brought up at random times in between
//! (the results must not depend on how finely time is stepped), and a
//! shadow replaced now and then by one restored from a snapshot (which
//! must have the same future). A second test restores garbage snapshots.

use super::regs::*;
use super::vectors::highest;
use super::*;
use crate::testutil::XorShift;

/// Register offsets worth hitting more often than a random offset would.
const REGS: [u64; 20] = [
    REG_ID,
    REG_TPR,
    REG_EOI,
    REG_LDR,
    REG_DFR,
    REG_SVR,
    REG_ESR,
    REG_ICR_LOW,
    REG_ICR_HIGH,
    REG_LVT,
    REG_LVT + 0x10,
    REG_LVT + 0x20,
    REG_LVT + 0x30,
    REG_LVT + 0x40,
    REG_LVT + 0x50,
    REG_INITIAL_COUNT,
    REG_CURRENT_COUNT,
    REG_DIVIDE,
    REG_IRR + 0x20,
    REG_PPR,
];

#[derive(Clone, Debug)]
enum Step {
    Write(u64, Vec<u8>),
    Read(u64, usize),
    Accept(u8, Trigger),
    Deliver(DeliveryMode, u8),
    Lint(usize, bool),
    Base(u64),
    Tpr(u8),
    Acknowledge,
    AcknowledgeExtint,
    Eoi,
    TakeSignal,
    Reset,
    InitReset,
}

fn value_for(rng: &mut XorShift, offset: u64) -> u32 {
    let r = rng.next() as u32;
    match offset {
        REG_SVR => (r & 0x3ff) | if rng.chance(80) { 0x100 } else { 0 },
        REG_INITIAL_COUNT => r % 400,
        REG_TPR => r & 0xff,
        // Mostly unmasked, sometimes an illegal vector.
        0x320..=0x370 => r & 0x3_b7ff & !if rng.chance(70) { LVT_MASKED } else { 0 },
        REG_ICR_LOW => r & 0x000c_cfff,
        _ => r,
    }
}

fn random_step(rng: &mut XorShift) -> Step {
    match rng.below(100) {
        0..=44 => {
            let offset = if rng.chance(85) {
                REGS[rng.below(REGS.len() as u64) as usize]
            } else {
                rng.below(0x1010)
            };
            let value = value_for(rng, offset);
            let bytes = if rng.chance(90) {
                value.to_le_bytes().to_vec()
            } else {
                let len = [1, 2, 8][rng.below(3) as usize];
                (0..len).map(|i| (value >> (8 * (i % 4))) as u8).collect()
            };
            let offset = if rng.chance(95) {
                offset
            } else {
                offset + rng.below(16)
            };
            Step::Write(offset, bytes)
        }
        45..=59 => Step::Read(rng.below(0x1008), [1, 2, 4, 4, 8][rng.below(5) as usize]),
        60..=69 => {
            let trigger = if rng.chance(50) {
                Trigger::Edge
            } else {
                Trigger::Level
            };
            Step::Accept(rng.next() as u8, trigger)
        }
        70..=72 => {
            let mode =
                DeliveryMode::from_bits(rng.next() as u32, true).unwrap_or(DeliveryMode::Fixed);
            Step::Deliver(mode, rng.next() as u8)
        }
        73..=80 => Step::Lint(rng.below(3) as usize, rng.chance(50)),
        81 => {
            let base = if rng.chance(90) {
                0xfee0_0000 | BASE_EN | (rng.below(2) * BASE_BSP)
            } else if rng.chance(50) {
                rng.next() & 0xffff_ffff_ff00
            } else {
                0xfee0_0000
            };
            Step::Base(base)
        }
        82..=84 => Step::Tpr(rng.next() as u8),
        85..=90 => Step::Acknowledge,
        91 => Step::AcknowledgeExtint,
        92..=96 => Step::Eoi,
        97 => Step::TakeSignal,
        98 => {
            if rng.chance(20) {
                Step::Reset
            } else {
                Step::TakeSignal
            }
        }
        _ => Step::InitReset,
    }
}

/// What a step returned, for comparing units.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    None,
    Bytes(Vec<u8>),
    Message(Option<BusMessage>),
    Flag(bool),
    Vector(u8),
    Signal(Option<Pending>),
    Base(Result<BaseUpdate, GpFault>),
}

fn apply(l: &mut Lapic, step: &Step, now: u64) -> Outcome {
    match *step {
        Step::Write(offset, ref bytes) => Outcome::Message(l.write(offset, bytes, now)),
        Step::Read(offset, len) => {
            let mut b = vec![0xaa; len];
            l.read(offset, &mut b, now);
            Outcome::Bytes(b)
        }
        Step::Accept(v, t) => Outcome::Flag(l.accept(v, t)),
        Step::Deliver(mode, v) => {
            l.deliver(mode, v, Trigger::Edge);
            Outcome::None
        }
        Step::Lint(pin, level) => {
            l.set_lint(pin, level);
            Outcome::None
        }
        Step::Base(value) => Outcome::Base(l.set_apic_base(value, now)),
        Step::Tpr(v) => {
            l.set_tpr(v);
            Outcome::None
        }
        Step::Acknowledge => Outcome::Vector(l.acknowledge()),
        Step::AcknowledgeExtint => {
            l.acknowledge_extint();
            Outcome::None
        }
        Step::Eoi => Outcome::Message(l.eoi().map(BusMessage::Eoi)),
        Step::TakeSignal => Outcome::Signal(l.take_signal()),
        Step::Reset => {
            l.reset(now);
            Outcome::None
        }
        Step::InitReset => {
            l.init_reset(now);
            Outcome::None
        }
    }
}

#[derive(Default, Debug)]
struct Seen {
    fixed: u32,
    spurious: u32,
    timer_events: u32,
    level_eois: u32,
}

fn check_invariants(l: &Lapic, now: u64, seen: &mut Seen) {
    let s = l.state();
    for set in [&s.irr, &s.isr, &s.tmr] {
        assert_eq!(set[0] & 0xffff, 0, "vectors 0-15 are never set");
    }
    assert_eq!(s.esr & !ESR_DEFINED, 0);
    assert_eq!(s.esr_pending & !ESR_DEFINED, 0);
    assert_eq!(s.svr & !SVR_WRITABLE, 0);
    assert_eq!(s.icr_low & !ICR_LOW_WRITABLE, 0);
    assert_eq!(s.apic_base & !(BASE_BSP | BASE_EN | 0xff_ffff_f000), 0);
    for (entry, writable) in s.lvt.iter().zip(LVT_WRITABLE) {
        assert_eq!(entry & !writable, 0);
    }
    for pin in 0..2 {
        assert!(!s.lint_remote_irr[pin] || l.lint_is_fixed_level(pin));
    }
    assert_eq!(s.timer.divide_config & !0xb, 0);
    assert!(s.timer.base_count <= s.timer.initial_count);
    assert!(l.current_count(now) <= s.timer.initial_count);
    if let Some(t) = l.next_event(now) {
        assert!(t > now);
        seen.timer_events += 1;
    }
    // The fixed-interrupt rule restated: the highest request, if its class
    // is above the processor priority's.
    let signal = s.signals.smi || s.signals.init || s.signals.startup.is_some() || s.signals.nmi;
    match l.pending() {
        Some(Pending::Fixed(v)) => {
            assert!(!signal && l.enabled());
            assert_eq!(Some(v), highest(&s.irr));
            assert!(v >> 4 > l.ppr() >> 4);
        }
        None => {
            assert!(!signal);
            let blocked = highest(&s.irr).is_none_or(|v| v >> 4 <= l.ppr() >> 4);
            assert!(blocked || !l.enabled());
        }
        Some(_) => {}
    }
}

fn run_seed(seed: u64, steps: usize) -> Seen {
    let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut a = Lapic::default();
    let mut fine = Lapic::default();
    let mut shadow = Lapic::default();
    let mut seen = Seen::default();
    let mut now = 0u64;
    for i in 0..steps {
        let dt = if rng.chance(5) {
            rng.below(100_000)
        } else {
            rng.below(300)
        };
        // The finely stepped unit sees times in between.
        let mut t = now;
        while t < now + dt {
            t = (t + 1 + rng.below(40)).min(now + dt);
            fine.update(t);
        }
        now += dt;
        for l in [&mut a, &mut fine, &mut shadow] {
            l.update(now);
        }
        if rng.chance(3) {
            shadow = Lapic::new(a.config());
            shadow.restore(&a.state());
        }
        let step = random_step(&mut rng);
        let expected = apply(&mut a, &step, now);
        if let Outcome::Vector(v) = expected {
            if v == (a.state().svr & 0xff) as u8 {
                seen.spurious += 1;
            } else {
                seen.fixed += 1;
            }
        }
        if let Outcome::Message(Some(BusMessage::Eoi(_))) = expected {
            seen.level_eois += 1;
        }
        assert_eq!(
            apply(&mut fine, &step, now),
            expected,
            "seed {seed} step {i}: {step:?}"
        );
        assert_eq!(
            apply(&mut shadow, &step, now),
            expected,
            "seed {seed} step {i}: {step:?}"
        );
        assert_eq!(a.state(), fine.state(), "seed {seed} step {i}: {step:?}");
        assert_eq!(a.state(), shadow.state(), "seed {seed} step {i}: {step:?}");
        assert_eq!(a.pending(), fine.pending());
        assert_eq!(a.next_event(now), fine.next_event(now));
        check_invariants(&a, now, &mut seen);
    }
    seen
}

#[test]
fn random_steps_keep_invariants_and_snapshots_replay() {
    let mut total = Seen::default();
    for seed in 1..=24 {
        let s = run_seed(seed, 3000);
        total.fixed += s.fixed;
        total.spurious += s.spurious;
        total.timer_events += s.timer_events;
        total.level_eois += s.level_eois;
    }
    // The walk must reach the interesting paths, or it proves little.
    assert!(total.fixed > 500, "{total:?}");
    assert!(total.spurious > 100, "{total:?}");
    assert!(total.timer_events > 1000, "{total:?}");
    assert!(total.level_eois > 20, "{total:?}");
}

#[test]
fn garbage_snapshots_are_sanitized() {
    let mut rng = XorShift(0x5eed);
    for _ in 0..300 {
        let s = LapicState {
            apic_base: rng.next(),
            id: rng.next() as u8,
            tpr: rng.next() as u8,
            ldr: rng.next() as u8,
            dfr_model: rng.next() as u8,
            svr: rng.next() as u32,
            irr: [(); 8].map(|_| rng.next() as u32),
            isr: [(); 8].map(|_| rng.next() as u32),
            tmr: [(); 8].map(|_| rng.next() as u32),
            esr: rng.next() as u32,
            esr_pending: rng.next() as u32,
            icr_low: rng.next() as u32,
            icr_high: rng.next() as u32,
            lvt: [(); 6].map(|_| rng.next() as u32),
            lint_remote_irr: [rng.chance(50), rng.chance(50)],
            lint_levels: [rng.chance(50), rng.chance(50)],
            timer: TimerState {
                initial_count: rng.next() as u32,
                divide_config: rng.next() as u32,
                base_time: rng.next(),
                base_count: rng.next() as u32,
                checked: rng.next(),
            },
            signals: Signals {
                smi: rng.chance(50),
                init: rng.chance(50),
                startup: rng.chance(50).then(|| rng.next() as u8),
                nmi: rng.chance(50),
                extint: rng.chance(50),
            },
        };
        let mut l = Lapic::default();
        l.restore(&s);
        let mut seen = Seen::default();
        let mut now = rng.next();
        for _ in 0..50 {
            now = now.saturating_add(rng.below(1000));
            l.update(now);
            let step = random_step(&mut rng);
            apply(&mut l, &step, now);
            let _ = l.next_event(now);
            check_invariants(&l, now, &mut seen);
        }
    }
}
