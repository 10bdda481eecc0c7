//! Random register accesses, host input and resets at random times (a
//! fixed xorshift sequence per seed), checking after every step that
//! nothing panics, that the state keeps its invariants, that IIR, LSR,
//! MSR and the interrupt line agree with an independent statement of the
//! datasheet's rules, and that `next_event` names the exact nanosecond the
//! line can change. A shadow UART fed the same steps is now and then
//! replaced by one restored from a snapshot and must answer identically,
//! output included.

use super::*;
use crate::testutil::SharedBuf;
use crate::testutil::XorShift;

/// Values worth writing more often than a random byte would: FCR
/// programming, LCR framings with and without DLAB and break, MCR with
/// and without loopback and OUT2, IER masks, small divisors.
const VALUES: [u8; 24] = [
    0x00, 0x01, 0x03, 0x07, 0xc7, 0x41, 0x81, 0x83, 0x80, 0x43, 0x0b, 0x1b, 0x10, 0x18, 0x1f, 0x0f,
    0x08, 0x02, 0x05, 0x0c, 0xff, 0x0a, 0x1a, 0xc1,
];

/// The interrupt identification restated from the datasheet's table of
/// priorities: the first enabled source that is active.
fn reference_id(s: &UartState, now: u64) -> u8 {
    let level = [1, 4, 8, 14][usize::from(s.rx_trigger & 3)];
    let timeout = s.rx_timeout_at.is_some_and(|t| now >= t);
    let rx_data = if s.fifo_enabled {
        s.rx.len() >= level
    } else {
        !s.rx.is_empty()
    };
    let sources = [
        (IER_ELSI, s.lsr_errors != 0, IIR_LINE_STATUS),
        (IER_ERBFI, timeout, IIR_RX_TIMEOUT),
        (IER_ERBFI, rx_data, IIR_RX_DATA),
        (IER_ETBEI, s.thre_pending, IIR_THRE),
        (IER_EDSSI, s.msr_deltas != 0, IIR_MODEM_STATUS),
    ];
    sources
        .iter()
        .find(|(enable, active, _)| s.ier & enable != 0 && *active)
        .map_or(IIR_NONE, |&(_, _, id)| id)
}

/// The modem inputs restated: MCR's outputs in loopback, the peer's lines
/// otherwise.
fn reference_inputs(s: &UartState) -> u8 {
    if s.mcr & MCR_LOOP == 0 {
        return MSR_DCD | MSR_DSR | MSR_CTS;
    }
    let m = s.mcr;
    (m & MCR_DTR) << 5 | (m & MCR_RTS) << 3 | (m & MCR_OUT1) << 4 | (m & MCR_OUT2) << 4
}

fn reference_irq(s: &UartState, now: u64) -> bool {
    s.mcr & (MCR_OUT2 | MCR_LOOP) == MCR_OUT2 && reference_id(s, now) != IIR_NONE
}

fn check_invariants(u: &Uart, now: u64) {
    let s = u.state();
    assert_eq!(s.ier & !IER_MASK, 0);
    assert_eq!(s.mcr & !MCR_MASK, 0);
    assert!(s.rx_trigger < 4);
    let capacity = if s.fifo_enabled { FIFO_SIZE } else { 1 };
    assert!(s.rx.len() <= capacity, "{s:?}");
    assert!(s.rx.iter().all(|c| c.errors & !LSR_CHAR_ERRORS == 0));
    assert_eq!(s.lsr_errors & !LSR_ERRORS, 0);
    assert_eq!(s.msr_deltas & !MSR_DELTAS, 0);
    assert!(!s.thre_pending || s.ier & IER_ETBEI != 0);
    assert!(!s.fifo_error || s.fifo_enabled);
    assert_eq!(
        s.rx_timeout_at.is_some(),
        s.fifo_enabled && !s.rx.is_empty(),
        "{s:?}"
    );
    assert_eq!(u.irq(now), reference_irq(&s, now));
    let room = if s.mcr & MCR_LOOP != 0 {
        0
    } else {
        capacity - s.rx.len()
    };
    assert_eq!(u.can_receive(), room);
    // The next event is in the future, and is exactly when the timeout
    // fires: the identification differs between the ns before and it.
    if let Some(t) = u.next_event(now) {
        assert!(t > now);
        assert!(s.ier & IER_ERBFI != 0);
        assert_eq!(s.rx_timeout_at, Some(t));
        assert_ne!(reference_id(&s, t - 1), IIR_RX_TIMEOUT);
        let at = reference_id(&s, t);
        assert!(at == IIR_RX_TIMEOUT || at == IIR_LINE_STATUS, "{at:#x}");
    }
}

/// One random step on `u` at `now`; what a read returned, for comparison
/// with the shadow. Reads are checked against the state before them.
fn step(u: &mut Uart, rng: &mut XorShift, now: u64) -> Option<u8> {
    let before = u.state();
    match rng.below(20) {
        0..=7 => {
            let offset = rng.below(10) as u16;
            let value = if rng.below(3) == 0 {
                rng.next() as u8
            } else {
                rng.pick(&VALUES)
            };
            u.write(offset, value, now);
            None
        }
        8..=15 => {
            let offset = rng.below(10) as u16;
            let v = u.read(offset, now);
            let dlab = before.lcr & LCR_DLAB != 0;
            match offset {
                IIR_FCR => {
                    let fifos = if before.fifo_enabled { 0xc0 } else { 0 };
                    assert_eq!(v, fifos | reference_id(&before, now));
                }
                LSR => {
                    assert_eq!(v & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
                    assert_eq!(v & LSR_DR != 0, !before.rx.is_empty());
                    assert_eq!(v & LSR_ERRORS, before.lsr_errors);
                    assert!(before.fifo_enabled || v & LSR_FIFO_ERROR == 0);
                }
                MSR => {
                    assert_eq!(v & 0xf0, reference_inputs(&before));
                    assert_eq!(v & 0x0f, before.msr_deltas);
                }
                IER if !dlab => assert_eq!(v, before.ier),
                MCR => assert_eq!(v, before.mcr),
                8.. => assert_eq!(v, FLOATING_BUS),
                _ => {}
            }
            Some(v)
        }
        16..=18 => {
            let len = rng.below(20) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let room = u.can_receive();
            let n = u.receive(&bytes, now);
            assert_eq!(n, room.min(len));
            assert_eq!(u.state().lsr_errors & LSR_OE, before.lsr_errors & LSR_OE);
            Some(n as u8)
        }
        _ => {
            if rng.below(10) == 0 {
                u.reset(now);
            }
            None
        }
    }
}

fn new_uart() -> (Uart, SharedBuf) {
    let buf = SharedBuf::default();
    (Uart::new(Box::new(buf.clone())), buf)
}

#[test]
fn random_accesses_keep_invariants_and_restore_exactly() {
    let mut restores = 0;
    let mut timeouts_seen = 0;
    for seed in 1..=60u64 {
        let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let (mut u, out) = new_uart();
        let (mut shadow, mut shadow_out) = new_uart();
        // Output the primary had written when the shadow was last restored.
        let mut out_at_restore = 0;
        let mut now = 0u64;
        for _ in 0..3000 {
            now += match rng.below(8) {
                0..=3 => rng.below(200),
                4..=5 => rng.below(1_000_000),
                6 => rng.below(30_000_000),
                _ => 0,
            };
            // The shadow gets the same random choices.
            let mut shadow_rng = XorShift(rng.0);
            let got = step(&mut u, &mut rng, now);
            let shadow_got = step(&mut shadow, &mut shadow_rng, now);
            assert_eq!(got, shadow_got, "seed {seed}");
            check_invariants(&u, now);
            assert_eq!(u.state(), shadow.state(), "seed {seed}");
            assert_eq!(u.next_event(now), shadow.next_event(now));
            if u.state().ier & IER_ERBFI != 0 && reference_id(&u.state(), now) == IIR_RX_TIMEOUT {
                timeouts_seen += 1;
            }
            if rng.below(100) == 0 {
                u.flush().unwrap();
                out_at_restore = out.contents().len();
                let (s, s_out) = new_uart();
                shadow = s;
                shadow_out = s_out;
                shadow.restore(&u.state());
                restores += 1;
            }
        }
        u.flush().unwrap();
        shadow.flush().unwrap();
        assert_eq!(
            out.contents()[out_at_restore..],
            shadow_out.contents()[..],
            "seed {seed}"
        );
    }
    assert!(restores > 1000, "{restores}");
    assert!(
        timeouts_seen > 100,
        "the timeout path was exercised: {timeouts_seen}"
    );
}

/// A damaged snapshot is brought into range: nothing panics afterwards,
/// and the invariants hold.
#[test]
fn restore_sanitizes_impossible_states() {
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for _ in 0..500 {
        let len = rng.below(40) as usize;
        let s = UartState {
            ier: rng.next() as u8,
            lcr: rng.next() as u8,
            mcr: rng.next() as u8,
            scr: rng.next() as u8,
            divisor: rng.next() as u16,
            fifo_enabled: rng.below(2) == 0,
            rx_trigger: rng.next() as u8,
            dma_mode: rng.below(2) == 0,
            rx: (0..len)
                .map(|_| RxChar {
                    data: rng.next() as u8,
                    errors: rng.next() as u8,
                })
                .collect(),
            rbr: rng.next() as u8,
            lsr_errors: rng.next() as u8,
            fifo_error: rng.below(2) == 0,
            thre_pending: rng.below(2) == 0,
            msr_deltas: rng.next() as u8,
            rx_timeout_at: None,
        };
        let any_time = rng.next();
        let s = UartState {
            rx_timeout_at: rng.pick(&[None, Some(0), Some(u64::MAX), Some(any_time)]),
            ..s
        };
        let (mut u, _) = new_uart();
        u.restore(&s);
        let now = rng.next() >> 1;
        check_invariants(&u, now);
        for _ in 0..50 {
            step(&mut u, &mut rng, now);
            check_invariants(&u, now);
        }
    }
}
