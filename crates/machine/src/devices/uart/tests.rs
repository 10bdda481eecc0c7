//! The UART's registers against the PC16550D datasheet and the programming
//! Linux's serial8250 driver does: autoconfiguration, the THRE rules, the
//! console write loop, the divisor latch, loopback, the /OUT2 gate, reset
//! and the output sink.

use super::*;
use crate::testutil::SharedBuf;

pub(super) fn uart() -> (Uart, SharedBuf) {
    let buf = SharedBuf::default();
    (Uart::new(Box::new(buf.clone())), buf)
}

/// The IIR's interrupt identification (bits 3..0) without the FIFO bits.
pub(super) fn iir_id(u: &mut Uart, now: u64) -> u8 {
    u.read(IIR_FCR, now) & 0x0f
}

#[test]
fn power_on_state_matches_the_reset_table() {
    let (mut u, _) = uart();
    assert_eq!(u.read(IER, 0), 0);
    assert_eq!(u.read(IIR_FCR, 0), IIR_NONE, "bit 0 high, bits 7..1 low");
    assert_eq!(u.read(LCR, 0), 0);
    assert_eq!(u.read(MCR, 0), 0);
    assert_eq!(u.read(LSR, 0), LSR_THRE | LSR_TEMT);
    assert_eq!(u.read(MSR, 0), HOST_MODEM_INPUTS, "no deltas at power-on");
    assert_eq!(u.read(SCR, 0), 0);
    u.write(LCR, LCR_DLAB, 0);
    assert_eq!(u.read(RBR_THR, 0), 12);
    assert_eq!(u.read(IER, 0), 0);
    assert!(!u.irq(0));
    assert_eq!(u.next_event(0), None);
}

#[test]
fn undecoded_offsets_float_and_ignore_writes() {
    let (mut u, out) = uart();
    let before = u.state();
    for off in [8, 9, 0x3f8, 0xffff] {
        assert_eq!(u.read(off, 5), FLOATING_BUS);
        u.write(off, 0x41, 5);
    }
    assert_eq!(u.state(), before);
    assert!(out.contents().is_empty());
}

/// DLAB switches offsets 0 and 1 to DLL and DLM; the other registers stay
/// reachable, and clearing DLAB brings back RBR/THR and IER unchanged.
#[test]
fn divisor_latch_read_write() {
    let (mut u, out) = uart();
    u.write(IER, 0x05, 0);
    u.write(LCR, LCR_DLAB | 0x03, 0);
    u.write(RBR_THR, 0x01, 0); // 115200 bit/s
    u.write(IER, 0x00, 0);
    assert_eq!(u.read(RBR_THR, 0), 0x01);
    assert_eq!(u.read(IER, 0), 0x00);
    u.write(IER, 0xab, 0);
    u.write(RBR_THR, 0xcd, 0);
    assert_eq!(u.state().divisor, 0xabcd);
    assert_eq!(u.read(LCR, 0), 0x83);
    u.write(SCR, 0x5a, 0);
    assert_eq!(u.read(SCR, 0), 0x5a);
    // Nothing was transmitted through the latch.
    assert!(out.contents().is_empty());
    u.write(LCR, 0x03, 0);
    assert_eq!(u.read(IER, 0), 0x05);
    assert_eq!(u.state().divisor, 0xabcd);
}

/// Reserved bits: IER 7..4 and MCR 7..5 read as 0 (Linux's XScale UUE
/// probe relies on IER bit 6 not sticking); LCR holds all eight.
#[test]
fn reserved_bits_read_as_zero() {
    let (mut u, _) = uart();
    u.write(IER, 0xff, 0);
    assert_eq!(u.read(IER, 0), 0x0f);
    u.write(MCR, 0xff, 0);
    assert_eq!(u.read(MCR, 0), 0x1f);
    u.write(LCR, 0x7f, 0);
    assert_eq!(u.read(LCR, 0), 0x7f);
}

/// The sequence of Linux's `autoconfig()` (drivers/tty/serial/8250) on a
/// 16550A: the IER test, the loopback test of the modem lines, the scratch
/// register, FIFO detection through IIR bits 7..6, and the probes for
/// other chips that a 16550A must fail.
#[test]
fn linux_autoconfig_finds_a_16550a() {
    let (mut u, out) = uart();
    let t = 1000;
    // IER test.
    let saved_ier = u.read(IER, t);
    u.write(IER, 0, t);
    let scratch2 = u.read(IER, t) & 0x0f;
    u.write(IER, 0x0f, t);
    let scratch3 = u.read(IER, t) & 0x0f;
    u.write(IER, saved_ier, t);
    assert_eq!((scratch2, scratch3), (0, 0x0f));
    // Loopback test: LOOP | OUT2 | RTS must read back DCD | CTS.
    let saved_mcr = u.read(MCR, t);
    u.write(MCR, MCR_LOOP | 0x0a, t);
    let status1 = u.read(MSR, t) & 0xf0;
    u.write(MCR, saved_mcr, t);
    assert_eq!(status1, 0x90);
    // Scratch register (autoconfig_8250).
    for v in [0xa5, 0x5a] {
        u.write(SCR, v, t);
        assert_eq!(u.read(SCR, t), v);
    }
    // FIFO detection: ask for the FIFO, IIR >> 6 must be 3.
    u.write(LCR, 0xbf, t);
    u.write(IIR_FCR, 0, t); // EFR on a 16650, FCR here
    u.write(LCR, 0, t);
    u.write(IIR_FCR, FCR_ENABLE, t);
    assert_eq!(u.read(IIR_FCR, t) >> 6, 3);
    // No EFR: with LCR 0x80 and 0xBF, "EFR" (the IIR here) reads nonzero.
    u.write(LCR, 0x80, t);
    assert_ne!(u.read(IIR_FCR, t), 0);
    u.write(LCR, 0xbf, t);
    assert_ne!(u.read(IIR_FCR, t), 0);
    // Not a National SuperIO: toggling LOOP does not show in "EXCR1" bit 4.
    u.write(LCR, 0, t);
    let mcr = u.read(MCR, t);
    u.write(LCR, 0xe0, t);
    let excr1 = u.read(IIR_FCR, t);
    u.write(LCR, 0, t);
    u.write(MCR, mcr ^ MCR_LOOP, t);
    u.write(LCR, 0xe0, t);
    assert_eq!(u.read(IIR_FCR, t) & 0x10, excr1 & 0x10);
    u.write(LCR, 0, t);
    u.write(MCR, mcr, t);
    // Not a TI16750: IIR bit 5 never sets.
    u.write(IIR_FCR, FCR_ENABLE | 0x20, t);
    let status1 = u.read(IIR_FCR, t) >> 5;
    u.write(IIR_FCR, FCR_ENABLE, t);
    u.write(LCR, 0x80, t);
    u.write(IIR_FCR, FCR_ENABLE | 0x20, t);
    let status2 = u.read(IIR_FCR, t) >> 5;
    u.write(IIR_FCR, FCR_ENABLE, t);
    u.write(LCR, 0, t);
    assert_eq!((status1, status2), (6, 6));
    // Nothing reached the sink.
    assert!(out.contents().is_empty());
}

/// serial8250_do_startup's THRE tests with a working UART: enabling the
/// THRE interrupt with THR empty raises it at once (else UART_BUG_TXEN),
/// reading the IIR clears it, and disabling and enabling again raises it
/// again (else UART_BUG_THRE).
#[test]
fn linux_thre_probes_see_a_working_16550() {
    let (mut u, _) = uart();
    let t = 50;
    u.write(LCR, 0x03, t);
    u.write(MCR, MCR_DTR | MCR_RTS | MCR_OUT2, t);
    // UART_BUG_THRE test.
    assert_ne!(u.read(LSR, t) & LSR_THRE, 0);
    u.write(IER, IER_ETBEI, t);
    assert!(u.irq(t));
    let iir1 = u.read(IIR_FCR, t);
    assert_eq!(iir1 & 0x0f, IIR_THRE);
    assert!(!u.irq(t), "the IIR read that reported THRE cleared it");
    assert_eq!(iir_id(&mut u, t), IIR_NONE);
    u.write(IER, 0, t);
    u.write(IER, IER_ETBEI, t);
    let iir = u.read(IIR_FCR, t);
    u.write(IER, 0, t);
    assert_eq!(iir1 & IIR_NONE, 0);
    assert_eq!(iir & IIR_NONE, 0, "THRE re-asserted: no UART_BUG_THRE");
    // UART_BUG_TXEN test.
    u.write(IER, IER_ETBEI, t);
    let lsr = u.read(LSR, t);
    let iir = u.read(IIR_FCR, t);
    u.write(IER, 0, t);
    assert!(lsr & LSR_TEMT != 0 && iir & IIR_NONE == 0);
}

/// THRE interrupt rules: a THR write raises it again (the byte leaves at
/// once), rewriting IER with ETBEI already set does not, clearing ETBEI
/// drops it, and an IIR read reporting a higher source leaves it pending.
#[test]
fn thre_interrupt_rules() {
    let (mut u, out) = uart();
    u.write(LCR, 0x03, 0);
    u.write(MCR, MCR_OUT2, 0);
    u.write(IER, IER_ETBEI, 0);
    assert_eq!(iir_id(&mut u, 0), IIR_THRE);
    assert_eq!(iir_id(&mut u, 0), IIR_NONE);
    u.write(IER, IER_ETBEI, 0);
    assert_eq!(iir_id(&mut u, 0), IIR_NONE, "no 0 -> 1 change of ETBEI");
    u.write(RBR_THR, b'x', 0);
    assert!(u.irq(0));
    u.write(IER, 0, 0);
    assert!(!u.irq(0));
    u.write(IER, IER_ERBFI, 0);
    assert_eq!(iir_id(&mut u, 0), IIR_NONE, "dropped with ETBEI");
    // A higher source hides THRE; reading the IIR then keeps it.
    u.write(IER, IER_ETBEI | IER_ERBFI, 0);
    assert_eq!(u.receive(b"a", 0), 1);
    assert_eq!(iir_id(&mut u, 0), IIR_RX_DATA);
    assert_eq!(iir_id(&mut u, 0), IIR_RX_DATA);
    assert_eq!(u.read(RBR_THR, 0), b'a');
    assert_eq!(iir_id(&mut u, 0), IIR_THRE);
    assert_eq!(iir_id(&mut u, 0), IIR_NONE);
    u.flush().unwrap();
    assert_eq!(out.contents(), b"x");
}

/// A console driver's write loop (Linux's serial8250_console_write, a
/// BIOS INT 14h): poll LSR.THRE, write THR; every byte goes out at once,
/// and LSR never shows the transmitter busy.
#[test]
fn console_write_loop_polling_lsr() {
    let (mut u, out) = uart();
    u.write(LCR, LCR_DLAB | 0x03, 0);
    u.write(RBR_THR, 1, 0);
    u.write(IER, 0, 0);
    u.write(LCR, 0x03, 0);
    let text = b"Linux version 6.1\r\nlogin: ";
    let mut polls = 0;
    for (i, &b) in text.iter().enumerate() {
        let now = 10 * i as u64;
        loop {
            polls += 1;
            if u.read(LSR, now) & LSR_THRE != 0 {
                break;
            }
        }
        u.write(RBR_THR, b, now);
        assert_eq!(
            u.read(LSR, now) & (LSR_THRE | LSR_TEMT),
            LSR_THRE | LSR_TEMT
        );
    }
    assert_eq!(polls, text.len(), "never busy");
    u.flush().unwrap();
    assert_eq!(out.contents(), text);
    assert!(u.take_error().is_none());
}

/// The sink gets whole bytes whatever the word length (it is no line:
/// QEMU's choice); bytes written while set-break holds the line are lost.
#[test]
fn word_length_and_break_on_output() {
    let (mut u, out) = uart();
    u.write(LCR, 0x02, 0); // 7 data bits
    u.write(RBR_THR, 0xc1, 0);
    u.write(LCR, 0x00, 0); // 5 data bits
    u.write(RBR_THR, 0xff, 0);
    u.write(LCR, 0x03 | LCR_BREAK, 0);
    u.write(RBR_THR, b'!', 0);
    u.write(LCR, 0x03, 0);
    u.write(RBR_THR, b'\n', 0);
    assert_eq!(out.contents(), [0xc1, 0xff, b'\n']);
}

/// Loopback: the modem outputs drive the inputs (DTR to DSR, RTS to CTS,
/// OUT1 to RI, OUT2 to DCD) with delta bits and the modem status
/// interrupt; transmitted bytes come back through the receiver and none
/// reach the sink.
#[test]
fn loopback_wiring_and_deltas() {
    let (mut u, out) = uart();
    u.write(LCR, 0x03, 0);
    u.write(IER, IER_EDSSI | IER_ERBFI, 0);
    u.write(MCR, MCR_LOOP, 0);
    // Entering loopback with all outputs off drops DCD, DSR and CTS.
    assert_eq!(u.read(MSR, 0), MSR_DDCD | MSR_DDSR | MSR_DCTS);
    assert_eq!(u.read(MSR, 0), 0, "deltas cleared by the read");
    for (mcr, line) in [
        (MCR_DTR, MSR_DSR),
        (MCR_RTS, MSR_CTS),
        (MCR_OUT1, MSR_RI),
        (MCR_OUT2, MSR_DCD),
    ] {
        // Rising RI sets no delta (TERI is the trailing edge).
        let rising = if line == MSR_RI { 0 } else { line >> 4 };
        let falling = if line == MSR_RI { MSR_TERI } else { line >> 4 };
        u.write(MCR, MCR_LOOP | mcr, 0);
        let expected = if rising != 0 {
            IIR_MODEM_STATUS
        } else {
            IIR_NONE
        };
        assert_eq!(iir_id(&mut u, 0), expected, "MCR {mcr:#x}");
        assert_eq!(u.read(MSR, 0), line | rising, "MCR {mcr:#x}");
        assert_eq!(iir_id(&mut u, 0), IIR_NONE);
        u.write(MCR, MCR_LOOP, 0);
        assert_eq!(iir_id(&mut u, 0), IIR_MODEM_STATUS);
        assert_eq!(u.read(MSR, 0), falling);
    }
    u.write(RBR_THR, b'L', 0);
    assert_eq!(u.read(LSR, 0) & LSR_DR, LSR_DR);
    assert_eq!(iir_id(&mut u, 0), IIR_RX_DATA);
    assert_eq!(u.read(RBR_THR, 0), b'L');
    // Host input is refused while SIN is disconnected.
    assert_eq!(u.can_receive(), 0);
    assert_eq!(u.receive(b"h", 0), 0);
    // Leaving loopback brings the peer's lines back, with deltas.
    u.write(MCR, 0, 0);
    assert_eq!(
        u.read(MSR, 0),
        HOST_MODEM_INPUTS | MSR_DDCD | MSR_DDSR | MSR_DCTS
    );
    assert!(out.contents().is_empty());
}

/// The PC board passes INTRPT to the IRQ line only through the buffer
/// /OUT2 enables, which loopback closes; IIR still reports the source.
#[test]
fn irq_line_is_gated_by_out2_and_loopback() {
    let (mut u, _) = uart();
    u.write(IER, IER_ETBEI, 0);
    assert!(!u.irq(0), "OUT2 off");
    u.write(MCR, MCR_OUT2, 0);
    assert!(u.irq(0));
    u.write(MCR, MCR_OUT2 | MCR_LOOP, 0);
    assert!(!u.irq(0), "loopback forces /OUT2 inactive");
    assert_eq!(iir_id(&mut u, 0), IIR_THRE);
    u.write(MCR, MCR_OUT2, 0);
    assert!(!u.irq(0), "the IIR read cleared THRE");
    u.write(RBR_THR, 0, 0);
    assert!(u.irq(0));
    u.write(MCR, 0, 0);
    assert!(!u.irq(0));
}

/// Interrupt priorities: line status, then received data, then THRE, then
/// modem status; each source is cleared its own way and uncovers the next.
#[test]
fn interrupt_priorities() {
    let (mut u, _) = uart();
    u.write(MCR, MCR_OUT2 | MCR_LOOP, 0);
    u.write(IER, 0x0f, 0);
    u.write(LCR, 0x03 | LCR_BREAK, 0); // a looped break: BI, FE, a zero
                                       // Line status > received data > THRE > modem status.
    let fifos = 0; // 16450 mode
    assert_eq!(u.read(IIR_FCR, 0), fifos | IIR_LINE_STATUS);
    let lsr = u.read(LSR, 0);
    assert_eq!(lsr & (LSR_BI | LSR_FE | LSR_DR), LSR_BI | LSR_FE | LSR_DR);
    assert_eq!(iir_id(&mut u, 0), IIR_RX_DATA);
    assert_eq!(u.read(RBR_THR, 0), 0);
    assert_eq!(iir_id(&mut u, 0), IIR_THRE);
    assert_eq!(iir_id(&mut u, 0), IIR_MODEM_STATUS);
    u.read(MSR, 0);
    assert_eq!(iir_id(&mut u, 0), IIR_NONE);
    // Each source needs its enable bit.
    u.write(LCR, 0x03, 0);
    u.write(LCR, 0x03 | LCR_BREAK, 0);
    u.write(IER, IER_ERBFI, 0);
    assert_eq!(iir_id(&mut u, 0), IIR_RX_DATA);
    u.write(IER, 0, 0);
    assert_eq!(iir_id(&mut u, 0), IIR_NONE);
    assert_ne!(
        u.read(LSR, 0) & LSR_BI,
        0,
        "the status is there without ELSI"
    );
}

/// The master reset: registers to the reset table, the FIFOs emptied,
/// pending interrupts gone; the divisor latch and SCR are kept.
#[test]
fn reset_clears_all_but_divisor_and_scratch() {
    let (mut u, _) = uart();
    u.write(LCR, LCR_DLAB, 0);
    u.write(RBR_THR, 3, 0);
    u.write(LCR, 0x1b, 0);
    u.write(SCR, 0x77, 0);
    u.write(IIR_FCR, 0xc1, 0);
    u.write(IER, 0x0f, 0);
    u.write(MCR, 0x0f, 0);
    u.receive(b"abc", 0);
    assert!(u.irq(0));
    u.reset(100);
    assert!(!u.irq(100));
    assert_eq!(u.read(IER, 100), 0);
    assert_eq!(u.read(IIR_FCR, 100), IIR_NONE);
    assert_eq!(u.read(LCR, 100), 0);
    assert_eq!(u.read(MCR, 100), 0);
    assert_eq!(u.read(LSR, 100), LSR_THRE | LSR_TEMT);
    assert_eq!(u.read(MSR, 100), HOST_MODEM_INPUTS);
    assert_eq!(u.read(SCR, 100), 0x77);
    assert_eq!(u.state().divisor, 3);
    assert_eq!(u.next_event(100), None);
}

struct Broken;
impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk full"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::other("disk full"))
    }
}

/// A failing sink never disturbs the guest: THRE keeps working, the first
/// error is kept for the machine, and output after it is dropped.
#[test]
fn sink_errors_are_remembered_not_raised() {
    let mut u = Uart::new(Box::new(Broken));
    u.write(MCR, MCR_OUT2, 0);
    u.write(IER, IER_ETBEI, 0);
    for &b in b"a\nb\n" {
        u.write(RBR_THR, b, 0);
        assert_ne!(u.read(LSR, 0) & LSR_THRE, 0);
    }
    assert!(u.irq(0));
    let e = u.take_error().expect("the newline's flush failed");
    assert_eq!(e.to_string(), "disk full");
    assert!(u.take_error().is_none());
    assert!(u.flush().is_err());
}
