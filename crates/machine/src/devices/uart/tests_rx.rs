//! The receiver: FIFO trigger levels, the character timeout in virtual
//! time, overruns, the per-character error bits, host input and the FCR.

use super::tests::{iir_id, uart};
use super::*;

/// 9600 bit/s (divisor 12), 8N1: four 10-bit characters take
/// 40 / 9600 s = 4 166 666.67 ns, so the timeout fires at the next ns.
const TIMEOUT_9600_8N1: u64 = 4_166_667;

/// A UART as Linux leaves it for interrupt-driven input: 8N1 at
/// `divisor`, FIFOs on with trigger level index `trigger`, RX data and
/// line status interrupts enabled, OUT2 set.
fn rx_uart(divisor: u16, trigger: u8) -> Uart {
    let (mut u, _) = uart();
    u.write(LCR, LCR_DLAB, 0);
    u.write(RBR_THR, divisor as u8, 0);
    u.write(IER, (divisor >> 8) as u8, 0);
    u.write(LCR, 0x03, 0);
    u.write(
        IIR_FCR,
        FCR_ENABLE | FCR_RX_RESET | FCR_TX_RESET | trigger << 6,
        0,
    );
    u.write(MCR, MCR_DTR | MCR_RTS | MCR_OUT2, 0);
    u.write(IER, IER_ERBFI | IER_ELSI, 0);
    u
}

#[test]
fn timeout_lengths_follow_the_framing() {
    assert_eq!(rx_timeout_ns(0x03, 12), TIMEOUT_9600_8N1);
    // 115200 8N1: 40 bits = 347 222.2 ns.
    assert_eq!(rx_timeout_ns(0x03, 1), 347_223);
    // 7E2 at 9600: 1 + 7 + 1 + 2 = 11 bits, 44 bits = 4 583 333.3 ns.
    assert_eq!(
        rx_timeout_ns(0x02 | LCR_PEN | LCR_EPS | LCR_STB, 12),
        4_583_334
    );
    // 5 bits with 1.5 stop bits at 9600: 7.5 bits, 30 bits = 3 125 000 ns.
    assert_eq!(rx_timeout_ns(LCR_STB, 12), 3_125_000);
    // Divisor 0 is 65536: 40 bits * 16 * 65536 / 1.8432 MHz.
    assert_eq!(rx_timeout_ns(0x03, 0), 22_755_555_556);
    // DLAB and break do not change the frame.
    assert_eq!(rx_timeout_ns(0xc3, 12), TIMEOUT_9600_8N1);
}

/// The RX data interrupt comes exactly when the FIFO reaches the trigger
/// level and goes when a read takes it below.
#[test]
fn rx_trigger_levels() {
    for (trigger, level) in RX_TRIGGER_LEVELS.iter().enumerate() {
        let mut u = rx_uart(1, trigger as u8);
        let t = 10;
        for n in 1..=FIFO_SIZE {
            assert_eq!(u.receive(&[n as u8], t), 1);
            let expected = if n >= *level { IIR_RX_DATA } else { IIR_NONE };
            assert_eq!(iir_id(&mut u, t), expected, "level {level}, {n} bytes");
            assert_eq!(u.irq(t), n >= *level);
        }
        assert_eq!(u.can_receive(), 0);
        for n in (0..FIFO_SIZE).rev() {
            let b = u.read(RBR_THR, t);
            assert_eq!(usize::from(b), FIFO_SIZE - n);
            assert_eq!(u.irq(t), n >= *level, "level {level}, {n} left");
        }
        assert_eq!(u.read(LSR, t) & LSR_DR, 0);
    }
}

/// The character timeout: four character times after the last character
/// arrived, `next_event` says when, the line rises exactly then, IIR
/// reads 0xCC, and a read clears it and restarts the timer.
#[test]
fn timeout_interrupt_timing() {
    let mut u = rx_uart(12, 3);
    let t0 = 1_000;
    assert_eq!(u.receive(b"ab", t0), 2);
    let fire = t0 + TIMEOUT_9600_8N1;
    assert_eq!(u.next_event(t0), Some(fire));
    assert_eq!(u.next_event(fire - 1), Some(fire));
    assert_eq!(u.next_event(fire), None, "fired: nothing later");
    assert!(!u.irq(fire - 1));
    assert!(u.irq(fire));
    // A third character inside the window restarts the timer.
    let t1 = t0 + 2_000_000;
    u.receive(b"c", t1);
    let fire = t1 + TIMEOUT_9600_8N1;
    assert_eq!(u.next_event(t1), Some(fire));
    assert!(!u.irq(fire - 1));
    assert_eq!(u.read(IIR_FCR, fire), IIR_FIFOS_ENABLED | IIR_RX_TIMEOUT);
    // A character after the timeout fired does not clear it.
    u.receive(b"d", fire + 5);
    assert_eq!(iir_id(&mut u, fire + 5), IIR_RX_TIMEOUT);
    // A read clears it and restarts the timer from the read.
    let t2 = fire + 100;
    assert_eq!(u.read(RBR_THR, t2), b'a');
    assert!(!u.irq(t2));
    assert_eq!(u.next_event(t2), Some(t2 + TIMEOUT_9600_8N1));
    // Reading everything stops it.
    for b in *b"bcd" {
        assert_eq!(u.read(RBR_THR, t2 + 1), b);
    }
    assert_eq!(u.next_event(t2 + 1), None);
    assert!(!u.irq(t2 + TIMEOUT_9600_8N1 + 1));
}

/// The timeout outranks the trigger-level interrupt in IIR, and needs
/// ERBFI: its timer runs without, and shows as soon as ERBFI is set.
#[test]
fn timeout_priority_and_enable() {
    let mut u = rx_uart(1, 0);
    let t = 77;
    u.receive(b"x", t);
    assert_eq!(iir_id(&mut u, t), IIR_RX_DATA);
    let fire = u.next_event(t).unwrap();
    assert_eq!(fire, t + 347_223);
    assert_eq!(iir_id(&mut u, fire), IIR_RX_TIMEOUT);
    u.write(IER, IER_ELSI, fire);
    assert_eq!(u.next_event(fire - 10), None, "disabled: no event");
    assert_eq!(iir_id(&mut u, fire + 1), IIR_NONE);
    u.write(IER, IER_ERBFI, fire + 2);
    assert_eq!(iir_id(&mut u, fire + 2), IIR_RX_TIMEOUT);
}

/// The time the line is first seen high does not depend on how often it
/// is looked at: stepping one ns at a time, jumping from event to event
/// as the chipset does, and looking only at the end agree.
#[test]
fn timeout_is_independent_of_the_call_pattern() {
    let script = |u: &mut Uart, t: u64| match t {
        100 => {
            u.receive(b"12", t);
        }
        900_000 => {
            u.read(RBR_THR, t);
        }
        1_000_000 => {
            u.receive(b"3", t);
        }
        _ => {}
    };
    let steps = [100, 900_000, 1_000_000];
    let end = 1_000_000 + 2 * TIMEOUT_9600_8N1;
    // One ns at a time.
    let mut a = rx_uart(12, 2);
    let mut first_a = None;
    for t in 0..=end {
        script(&mut a, t);
        if first_a.is_none() && a.irq(t) {
            first_a = Some(t);
        }
    }
    // From event to event: the accesses and what next_event promises.
    let mut b = rx_uart(12, 2);
    let mut first_b = None;
    let mut t = 0;
    while first_b.is_none() && t <= end {
        script(&mut b, t);
        if b.irq(t) {
            first_b = Some(t);
            break;
        }
        let next_step = steps.iter().copied().find(|&s| s > t);
        t = match (next_step, b.next_event(t)) {
            (Some(s), Some(e)) => s.min(e),
            (Some(s), None) => s,
            (None, Some(e)) => e,
            (None, None) => break,
        };
    }
    assert_eq!(first_a, Some(1_000_000 + TIMEOUT_9600_8N1));
    assert_eq!(first_a, first_b);
    assert_eq!(a.state(), b.state());
    // Only the accesses, then one look at the end.
    let mut c = rx_uart(12, 2);
    for s in steps {
        script(&mut c, s);
    }
    assert_eq!(c.state(), a.state());
    assert_eq!(iir_id(&mut c, end), IIR_RX_TIMEOUT);
}

/// FIFO mode: with the FIFO full, a further character is lost and OE set
/// at once; the FIFO keeps the first 16. OE raises the line status
/// interrupt until the LSR is read.
#[test]
fn overrun_in_fifo_mode() {
    let mut u = rx_uart(1, 3);
    u.write(MCR, MCR_LOOP, 0);
    for b in 0..17u8 {
        u.write(RBR_THR, b'A' + b, 5);
    }
    assert_eq!(iir_id(&mut u, 5), IIR_LINE_STATUS);
    assert_eq!(u.read(LSR, 5) & (LSR_OE | LSR_DR), LSR_OE | LSR_DR);
    assert_eq!(u.read(LSR, 5) & LSR_OE, 0, "cleared by the read");
    assert_eq!(iir_id(&mut u, 5), IIR_RX_DATA);
    let got: Vec<u8> = (0..16).map(|_| u.read(RBR_THR, 6)).collect();
    assert_eq!(got, (b'A'..b'A' + 16).collect::<Vec<u8>>());
    assert_eq!(u.read(LSR, 6) & LSR_DR, 0);
    assert_eq!(
        u.read(RBR_THR, 6),
        b'A' + 15,
        "the holding register keeps the last"
    );
}

/// 16450 mode: a second character before the RBR is read destroys the
/// first and sets OE.
#[test]
fn overrun_in_16450_mode() {
    let (mut u, _) = uart();
    u.write(LCR, 0x03, 0);
    u.write(MCR, MCR_LOOP, 0);
    u.write(RBR_THR, b'1', 0);
    assert_eq!(u.read(LSR, 0) & (LSR_OE | LSR_DR), LSR_DR);
    u.write(RBR_THR, b'2', 0);
    u.write(RBR_THR, b'3', 0);
    assert_eq!(u.read(LSR, 0) & (LSR_OE | LSR_DR), LSR_OE | LSR_DR);
    assert_eq!(u.read(RBR_THR, 0), b'3');
    assert_eq!(u.read(LSR, 0), LSR_THRE | LSR_TEMT);
    assert_eq!(u.read(IIR_FCR, 0) & 0xc0, 0, "no FIFO bits in 16450 mode");
    assert_eq!(u.next_event(0), None, "no timeout in 16450 mode");
}

/// A break in loopback reaches the receiver as one zero character with BI
/// and FE (and PE with odd parity); in FIFO mode the errors show when it
/// reaches the top of the FIFO, and LSR bit 7 while any is in it.
#[test]
fn break_errors_follow_their_character_through_the_fifo() {
    let mut u = rx_uart(1, 3);
    u.write(MCR, MCR_LOOP, 0);
    u.write(LCR, 0x03 | LCR_PEN, 0); // 8O1
    u.write(RBR_THR, b'a', 0);
    u.write(LCR, 0x03 | LCR_PEN | LCR_BREAK, 0);
    u.write(RBR_THR, b'z', 0); // lost: the line is held spacing
    u.write(LCR, 0x03 | LCR_PEN | LCR_BREAK, 0); // still the same break
    u.write(LCR, 0x03 | LCR_PEN, 0);
    u.write(RBR_THR, b'b', 0);
    let t = 10;
    assert_eq!(
        u.read(LSR, t),
        LSR_DR | LSR_THRE | LSR_TEMT | LSR_FIFO_ERROR
    );
    assert_eq!(iir_id(&mut u, t), IIR_NONE, "below the trigger level");
    assert_eq!(u.read(RBR_THR, t), b'a');
    assert_eq!(iir_id(&mut u, t), IIR_LINE_STATUS);
    let errors = LSR_BI | LSR_FE | LSR_PE;
    assert_eq!(
        u.read(LSR, t),
        LSR_DR | errors | LSR_THRE | LSR_TEMT | LSR_FIFO_ERROR
    );
    assert_eq!(u.read(LSR, t) & (errors | LSR_FIFO_ERROR), LSR_FIFO_ERROR);
    assert_eq!(u.read(RBR_THR, t), 0);
    // No errored character is left: bit 7 goes with the next LSR read.
    assert_eq!(u.read(LSR, t) & (errors | LSR_FIFO_ERROR), LSR_FIFO_ERROR);
    assert_eq!(u.read(LSR, t) & (errors | LSR_FIFO_ERROR), 0);
    assert_eq!(u.read(RBR_THR, t), b'b');
    // Even parity expects the 0 a break sends: no PE.
    u.write(LCR, 0x03 | LCR_PEN | LCR_EPS | LCR_BREAK, t);
    assert_eq!(u.read(LSR, t) & errors, LSR_BI | LSR_FE);
    // Set-break first, loopback second: a break all the same.
    u.write(LCR, 0x03, t);
    u.write(MCR, 0, t);
    u.read(RBR_THR, t);
    u.write(LCR, 0x03 | LCR_BREAK, t);
    u.write(MCR, MCR_LOOP, t);
    assert_eq!(u.read(LSR, t) & (errors | LSR_DR), LSR_BI | LSR_FE | LSR_DR);
}

/// Host input: never more than fits (so never an overrun), cut to the
/// word length, one byte at a time in 16450 mode.
#[test]
fn host_input_never_overruns() {
    let mut u = rx_uart(12, 0);
    assert_eq!(u.can_receive(), 16);
    let data: Vec<u8> = (0..40).collect();
    assert_eq!(u.receive(&data, 0), 16);
    assert_eq!(u.receive(&data[16..], 0), 0);
    assert_eq!(u.read(LSR, 0) & LSR_OE, 0);
    assert_eq!(u.read(RBR_THR, 1), 0);
    assert_eq!(u.can_receive(), 1);
    assert_eq!(u.receive(&data[16..], 1), 1);
    let got: Vec<u8> = (0..16).map(|_| u.read(RBR_THR, 2)).collect();
    assert_eq!(got, (1..17).collect::<Vec<u8>>());
    // 16450 mode holds one.
    u.write(IIR_FCR, 0, 3);
    assert_eq!(u.can_receive(), 1);
    assert_eq!(u.receive(b"xy", 3), 1);
    assert_eq!(u.can_receive(), 0);
    assert_eq!(u.receive(b"y", 3), 0);
    assert_eq!(u.read(RBR_THR, 3), b'x');
    // 7-bit words drop bit 7.
    u.write(LCR, 0x02, 4);
    assert_eq!(u.receive(&[0xe1], 4), 1);
    assert_eq!(u.read(RBR_THR, 4), 0x61);
    assert_eq!(u.receive(&[], 4), 0);
}

/// FCR: bit 1 empties the receiver FIFO and stops the timer; a change of
/// bit 0 empties it too; with bit 0 clear the trigger level is not
/// programmed; IIR bits 7..6 follow bit 0.
#[test]
fn fifo_control() {
    let mut u = rx_uart(12, 1);
    u.receive(b"abcd", 0);
    assert_eq!(iir_id(&mut u, 0), IIR_RX_DATA);
    u.write(IIR_FCR, FCR_ENABLE | FCR_RX_RESET | 0x40, 1);
    assert_eq!(u.read(LSR, 1) & LSR_DR, 0);
    assert_eq!(u.next_event(1), None);
    assert_eq!(u.read(IIR_FCR, 1), IIR_FIFOS_ENABLED | IIR_NONE);
    u.receive(b"abc", 2);
    u.write(IIR_FCR, FCR_ENABLE | 0x40, 2); // no reset: kept
    assert_eq!(u.can_receive(), 13);
    u.write(IIR_FCR, 0xc0, 3); // leave FIFO mode: emptied, trigger kept
    assert_eq!(u.read(IIR_FCR, 3), IIR_NONE);
    assert_eq!(u.read(LSR, 3) & LSR_DR, 0);
    assert_eq!(u.state().rx_trigger, 1);
    u.write(IIR_FCR, FCR_ENABLE, 4); // back: emptied again, level 1
    u.receive(b"q", 4);
    assert_eq!(iir_id(&mut u, 4), IIR_RX_DATA);
    u.write(IIR_FCR, FCR_ENABLE | FCR_TX_RESET | FCR_DMA_MODE, 5);
    assert_eq!(
        u.read(RBR_THR, 5),
        b'q',
        "a TX reset leaves the receiver alone"
    );
    assert!(u.state().dma_mode);
}

/// Times at the end of the clock neither overflow nor fire early: a
/// deadline past u64::MAX is held at u64::MAX.
#[test]
fn timeout_at_the_end_of_time() {
    let mut u = rx_uart(0, 3);
    let late = u64::MAX - 1000;
    u.receive(b"z", late);
    assert_eq!(u.next_event(late), Some(u64::MAX));
    assert!(!u.irq(u64::MAX - 1));
    assert!(u.irq(u64::MAX));
    assert_eq!(u.next_event(u64::MAX), None);
    assert_eq!(u.read(RBR_THR, u64::MAX), b'z');
}
