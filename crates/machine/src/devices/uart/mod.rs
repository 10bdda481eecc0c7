//! A 16550A UART as a PC's COM port (National Semiconductor, "PC16550D
//! Universal Asynchronous Receiver/Transmitter with FIFOs", June 1995,
//! reissued by TI as literature number SNLS378): the eight registers at
//! offsets 0..=7 from the port base (COM1 0x3F8 on IRQ 4, COM2 0x2F8 on
//! IRQ 3), 16-byte FIFOs, the four interrupt sources with their priorities,
//! loopback, and the receiver's character timeout on the machine's
//! virtual time (`now`, ns). Ports are offsets here: the machine adds the
//! base. Offsets 8 and up are not decoded and read as the floating bus.
//!
//! Why not rust-vmm's vm-superio (`src/serial.rs`, the project's preferred
//! crate): its `Serial` signals interrupts by calling a `Trigger` (an
//! eventfd) when one is added, so it has no interrupt *level* to gate with
//! OUT2 or to hand the PIC; its IIR ORs the sources together (RX data and
//! THRE at once read as 0x06, the line status code), and reading the IIR
//! resets it whole, so a THRE read also drops a pending RX interrupt;
//! reading RBR drops the RX interrupt with data still waiting; it always
//! reports FIFOs in IIR bits 7..6 whatever FCR says, ignores the trigger
//! levels and FCR's enable, has a 64-byte buffer, no character timeout, no
//! overrun, no LSR errors and no MSR delta bits (so no modem status
//! interrupt, in loopback or out). Its state saves the IIR as a register
//! value rather than the sources. Wrapping it would have meant replacing
//! every one of those paths, so the device is written here.
//!
//! Choices where the datasheet leaves a gap or the reference emulators
//! differ (QEMU `hw/char/serial.c`, Bochs `iodev/serial.cc`):
//!
//! * Transmit is immediate (QEMU): a byte written to THR goes to the sink
//!   (or, in loopback, to the receiver) at once, so THRE and TEMT always
//!   read 1 and there is never anything for the transmitter FIFO reset to
//!   clear. A console polling LSR at 9600 bit/s in virtual time would
//!   otherwise spend about a million instructions per character. The sink
//!   gets all 8 bits whatever the word length (QEMU; Bochs cuts them): it is
//!   the host's terminal or a file, not a line, and guests written for QEMU
//!   print without ever programming LCR, whose power-on value selects 5
//!   bits; in loopback the receiver gets the word length's bits. While
//!   LCR's set-break holds SOUT spacing, bytes written are lost on the line,
//!   as the datasheet says of SOUT (QEMU still sends them).
//! * The THRE interrupt is raised when THR empties (at once, after every
//!   THR write) and when IER.ETBEI goes from 0 to 1 while THR is empty
//!   (not in the datasheet; Bochs and current QEMU, whose comment says
//!   Windows relies on it, and what Linux's `UART_BUG_THRE` probe expects
//!   of a real 16550; QEMU before that raised it on every IER write while
//!   THR was empty). It is cleared by an IIR read that reports it, by a
//!   THR write (and raised again as the byte leaves), and by clearing
//!   ETBEI. A transmitter FIFO reset finds THR already empty, so it makes
//!   no THRE edge and raises nothing (QEMU raises THRE on every one).
//! * The interrupt output is the INTRPT pin through the PC board's buffer
//!   that /OUT2 enables: asserted while an enabled source is pending, MCR
//!   OUT2 is set and loopback is off. In loopback the datasheet forces the
//!   modem control output pins, /OUT2 among them, to their inactive state,
//!   which closes the buffer. QEMU never gates the line; Bochs gates on the
//!   OUT2 bit, also in loopback. The line is a level; the PIC latches its
//!   rising edges (IRQ 3 and 4 are edge-triggered on the ISA bus).
//! * The modem inputs outside loopback are those of a connected null-modem
//!   peer, DCD, DSR and CTS on and RI off (QEMU; Bochs leaves DCD off). In
//!   loopback they follow MCR (DTR to DSR, RTS to CTS, OUT1 to RI, OUT2 to
//!   DCD), and every change of an input, also entering or leaving loopback,
//!   sets its delta bit (TERI only for RI going off), so the modem status
//!   interrupt works in loopback as the datasheet says. QEMU sets no delta
//!   bits in loopback; Bochs sets them on MCR writes in loopback only.
//! * The receiver timeout and the RX data interrupt share priority 2; with
//!   both, IIR reports the timeout (QEMU). Both need IER.ERBFI.
//! * The timeout fires four character times (start, data, parity and stop
//!   bits at the divisor's rate) after the last character received or the
//!   last RBR read, whichever is later, while data is in the FIFO. The
//!   deadline is fixed when that happens, with the framing and divisor then
//!   in force: reprogramming LCR or the divisor later does not move a
//!   running timer. A character lost to an overrun still restarts it (it
//!   was received). A divisor of 0 counts as 65536 (the datasheet's
//!   divisors stop at 2^16 - 1; QEMU keeps the old rate).
//! * Power-on leaves the divisor latch at 12 (9600 bit/s, QEMU's reset
//!   value) and SCR at 0, which the datasheet leaves undefined. The system
//!   reset is the datasheet's master reset, which changes neither (it is
//!   not in the reset table); QEMU's reset also sets the divisor to 12,
//!   SCR to 0 and MCR to OUT2, where the datasheet clears MCR.
//! * Reading RBR with nothing received returns the last character read
//!   again, as the holding register keeps it (QEMU returns 0 in FIFO mode).
//! * Host input ([`Uart::receive`]) is refused in loopback, where SIN is
//!   disconnected, and never overruns: the machine keeps what does not fit
//!   and offers it again ([`Uart::can_receive`]). It arrives at once, not at
//!   the line's rate, and is cut to the word length like the receiver's
//!   shift register would. Overruns happen only in loopback.
//! * Parity, framing and break errors can only come from a break in
//!   loopback: when LOOP and set-break are both on (whichever comes
//!   second), the receiver gets one zero character with BI and FE, and PE
//!   when the parity expects a 1 in the all-zero frame (Bochs queues the
//!   zero with BI and FE on each such LCR write; QEMU has no loopback
//!   break).
//! * LSR bit 7 (FIFO mode) is set when a character with an error enters
//!   the FIFO and cleared by an LSR read if none is left in it; in 16450
//!   mode it reads 0. Writes to LSR and MSR are ignored (the datasheet
//!   keeps them for factory testing; QEMU and Bochs ignore them).
//! * An FCR write with bit 0 clear programs nothing else ("FCR0 must be 1
//!   when other FCR bits are written to or they will not be programmed");
//!   any change of bit 0 empties both FIFOs.

mod regs;
mod rx;

pub use regs::*;

use std::fmt;
use std::io::{self, Write};

/// What a read of an offset the UART does not decode returns: the ISA
/// data bus floats high.
pub const FLOATING_BUS: u8 = 0xff;
/// The modem inputs (MSR bits 7..4) outside loopback: a connected peer
/// with carrier, ready and clear to send, not ringing.
pub const HOST_MODEM_INPUTS: u8 = MSR_DCD | MSR_DSR | MSR_CTS;
/// The receiver FIFO's size.
pub const FIFO_SIZE: usize = 16;

/// One character in the receiver FIFO (or the RBR in 16450 mode) with the
/// errors (LSR_PE, LSR_FE, LSR_BI) it was received with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxChar {
    pub data: u8,
    pub errors: u8,
}

/// Everything the UART holds; enough to resume it (the output sink is the
/// machine's, not state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UartState {
    /// Interrupt enable register (bits 3..0).
    pub ier: u8,
    pub lcr: u8,
    /// Modem control register (bits 4..0).
    pub mcr: u8,
    pub scr: u8,
    /// The divisor latch, DLM:DLL.
    pub divisor: u16,
    /// FCR bit 0: FIFO (16550) mode rather than 16450 mode.
    pub fifo_enabled: bool,
    /// FCR bits 7..6 as last programmed: index into [`RX_TRIGGER_LEVELS`].
    pub rx_trigger: u8,
    /// FCR bit 3 as last programmed (no effect on a PC).
    pub dma_mode: bool,
    /// Characters received and not yet read, oldest first: at most
    /// [`FIFO_SIZE`] in FIFO mode, one (the RBR) in 16450 mode.
    pub rx: Vec<RxChar>,
    /// The receiver buffer's output: the character last read.
    pub rbr: u8,
    /// LSR bits 4..1 (OE, PE, FE, BI) latched since the last LSR read.
    pub lsr_errors: u8,
    /// LSR bit 7 as latched (FIFO mode only).
    pub fifo_error: bool,
    /// The THRE interrupt is pending (only while IER.ETBEI is set).
    pub thre_pending: bool,
    /// MSR bits 3..0: the modem inputs' changes since the last MSR read.
    pub msr_deltas: u8,
    /// When the receiver timeout fires (FIFO mode, while data is in the
    /// FIFO; None otherwise); at or before `now` it has fired.
    pub rx_timeout_at: Option<u64>,
}

impl UartState {
    /// The state after the master reset (the datasheet's table "UART
    /// Reset Configuration"), keeping the registers the reset does not
    /// touch.
    fn master_reset(divisor: u16, scr: u8, rbr: u8) -> UartState {
        UartState {
            ier: 0,
            lcr: 0,
            mcr: 0,
            scr,
            divisor,
            fifo_enabled: false,
            rx_trigger: 0,
            dma_mode: false,
            rx: Vec::new(),
            rbr,
            lsr_errors: 0,
            fifo_error: false,
            thre_pending: false,
            msr_deltas: 0,
            rx_timeout_at: None,
        }
    }

    fn loopback(&self) -> bool {
        self.mcr & MCR_LOOP != 0
    }

    /// The modem input lines as MSR bits 7..4.
    fn modem_inputs(&self) -> u8 {
        if !self.loopback() {
            return HOST_MODEM_INPUTS;
        }
        let m = self.mcr;
        let line = |bit: u8, msr: u8| if m & bit != 0 { msr } else { 0 };
        line(MCR_DTR, MSR_DSR)
            | line(MCR_RTS, MSR_CTS)
            | line(MCR_OUT1, MSR_RI)
            | line(MCR_OUT2, MSR_DCD)
    }

    /// Note the change of the modem inputs from `before` in the delta
    /// bits: DCTS, DDSR, DDCD for any change, TERI for RI going off.
    fn note_modem_inputs(&mut self, before: u8) {
        let now = self.modem_inputs();
        let changed = before ^ now;
        self.msr_deltas |= (changed >> 4) & (MSR_DCTS | MSR_DDSR | MSR_DDCD);
        if before & MSR_RI != 0 && now & MSR_RI == 0 {
            self.msr_deltas |= MSR_TERI;
        }
    }

    /// A break reaches the receiver: loopback feeds it the transmitter's
    /// output, which set-break holds spacing.
    fn break_looped(&self) -> bool {
        self.loopback() && self.lcr & LCR_BREAK != 0
    }

    /// The interrupt identification (IIR bits 3..0) at `now`, by the
    /// datasheet's priorities: line status, then received data or
    /// timeout, then THRE, then modem status.
    fn interrupt_id(&self, now: u64) -> u8 {
        let enabled = |bit: u8| self.ier & bit != 0;
        if enabled(IER_ELSI) && self.lsr_errors & LSR_ERRORS != 0 {
            IIR_LINE_STATUS
        } else if enabled(IER_ERBFI) && self.rx_timeout_fired(now) {
            IIR_RX_TIMEOUT
        } else if enabled(IER_ERBFI) && self.rx_data_ready_for_interrupt() {
            IIR_RX_DATA
        } else if enabled(IER_ETBEI) && self.thre_pending {
            IIR_THRE
        } else if enabled(IER_EDSSI) && self.msr_deltas != 0 {
            IIR_MODEM_STATUS
        } else {
            IIR_NONE
        }
    }

    fn iir(&self, now: u64) -> u8 {
        let fifos = if self.fifo_enabled {
            IIR_FIFOS_ENABLED
        } else {
            0
        };
        fifos | self.interrupt_id(now)
    }

    /// The LSR as read (before the read's side effects).
    fn lsr(&self) -> u8 {
        let dr = if self.rx.is_empty() { 0 } else { LSR_DR };
        let fifo_error = if self.fifo_error { LSR_FIFO_ERROR } else { 0 };
        dr | self.lsr_errors | LSR_THRE | LSR_TEMT | fifo_error
    }
}

/// The UART with its output sink.
pub struct Uart {
    state: UartState,
    sink: io::BufWriter<Box<dyn Write + Send>>,
    /// The first error writing to the sink; output after it is dropped.
    error: Option<io::Error>,
}

impl fmt::Debug for Uart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Uart")
            .field("state", &self.state)
            .field("error", &self.error)
            .finish()
    }
}

impl Uart {
    /// The power-on state, transmitting to `sink`.
    pub fn new(sink: Box<dyn Write + Send>) -> Uart {
        Uart {
            state: UartState::master_reset(DIVISOR_9600, 0, 0),
            sink: io::BufWriter::new(sink),
            error: None,
        }
    }

    /// The system reset (RESET# drives the UART's MR pin): every register
    /// but the divisor latch and SCR to its reset value, both FIFOs empty,
    /// nothing pending. (`now` does not matter: the only timer stops.)
    pub fn reset(&mut self, _now: u64) {
        let s = &self.state;
        self.state = UartState::master_reset(s.divisor, s.scr, s.rbr);
    }

    fn dlab(&self) -> bool {
        self.state.lcr & LCR_DLAB != 0
    }

    /// A byte read at `offset` from the port base.
    pub fn read(&mut self, offset: u16, now: u64) -> u8 {
        let dlab = self.dlab();
        let s = &mut self.state;
        match offset {
            RBR_THR if dlab => s.divisor as u8,
            RBR_THR => s.read_rbr(now),
            IER if dlab => (s.divisor >> 8) as u8,
            IER => s.ier,
            IIR_FCR => {
                let iir = s.iir(now);
                // "Reading the IIR register (if source of interrupt)"
                // resets the THRE interrupt.
                if iir & 0x0f == IIR_THRE {
                    s.thre_pending = false;
                }
                iir
            }
            LCR => s.lcr,
            MCR => s.mcr,
            LSR => {
                let lsr = s.lsr();
                s.lsr_errors = 0;
                s.fifo_error = s.fifo_enabled && s.rx.iter().any(|c| c.errors != 0);
                lsr
            }
            MSR => {
                let msr = s.modem_inputs() | s.msr_deltas;
                s.msr_deltas = 0;
                msr
            }
            SCR => s.scr,
            _ => FLOATING_BUS,
        }
    }

    /// A byte written at `offset` from the port base.
    pub fn write(&mut self, offset: u16, value: u8, now: u64) {
        match offset {
            RBR_THR if self.dlab() => {
                self.state.divisor = self.state.divisor & 0xff00 | u16::from(value);
            }
            RBR_THR => self.transmit(value, now),
            IER if self.dlab() => {
                self.state.divisor = self.state.divisor & 0x00ff | u16::from(value) << 8;
            }
            IER => self.write_ier(value),
            IIR_FCR => self.state.write_fcr(value),
            LCR => {
                let looped = self.state.break_looped();
                self.state.lcr = value;
                self.receive_break_if_new(looped, now);
            }
            MCR => {
                let (inputs, looped) = (self.state.modem_inputs(), self.state.break_looped());
                self.state.mcr = value & MCR_MASK;
                self.state.note_modem_inputs(inputs);
                self.receive_break_if_new(looped, now);
            }
            SCR => self.state.scr = value,
            // LSR and MSR writes (factory test) and undecoded offsets.
            _ => {}
        }
    }

    /// IER: ETBEI going from 0 to 1 with THR empty (always, here) raises
    /// the THRE interrupt; going to 0 drops it.
    fn write_ier(&mut self, value: u8) {
        let s = &mut self.state;
        let was = s.ier & IER_ETBEI != 0;
        s.ier = value & IER_MASK;
        let now_enabled = s.ier & IER_ETBEI != 0;
        s.thre_pending = now_enabled && (s.thre_pending || !was);
    }

    /// A THR write: the byte leaves at once, to the receiver in loopback
    /// (cut to the word length) and whole to the sink otherwise, unless a
    /// break holds the line; then THR is empty again.
    fn transmit(&mut self, value: u8, now: u64) {
        let s = &mut self.state;
        s.thre_pending = s.ier & IER_ETBEI != 0;
        if s.lcr & LCR_BREAK != 0 {
            // SOUT (or, in loopback, the receiver's input) is spacing.
        } else if s.loopback() {
            let data = value & word_mask(s.lcr);
            s.receive_char(RxChar { data, errors: 0 }, now);
        } else {
            self.output(value);
        }
    }

    fn output(&mut self, byte: u8) {
        if self.error.is_some() {
            return;
        }
        let mut r = self.sink.write_all(&[byte]);
        if r.is_ok() && byte == b'\n' {
            r = self.sink.flush();
        }
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    /// A break starts to reach the receiver (it did not before the
    /// write): one all-zero character with BI and FE, and PE if the
    /// parity expects a 1.
    fn receive_break_if_new(&mut self, was_looped: bool, now: u64) {
        let s = &mut self.state;
        if was_looped || !s.break_looped() {
            return;
        }
        let parity = if break_parity_error(s.lcr) { LSR_PE } else { 0 };
        let errors = LSR_BI | LSR_FE | parity;
        s.receive_char(RxChar { data: 0, errors }, now);
    }

    /// Host input: as many of `bytes` as the receiver can take without an
    /// overrun (none in loopback); returns how many it took.
    pub fn receive(&mut self, bytes: &[u8], now: u64) -> usize {
        let n = bytes.len().min(self.can_receive());
        let mask = word_mask(self.state.lcr);
        for &b in &bytes[..n] {
            self.state.receive_char(
                RxChar {
                    data: b & mask,
                    errors: 0,
                },
                now,
            );
        }
        n
    }

    /// How many bytes [`Uart::receive`] would take now.
    pub fn can_receive(&self) -> usize {
        let s = &self.state;
        if s.loopback() {
            0
        } else {
            s.rx_capacity().saturating_sub(s.rx.len())
        }
    }

    /// The interrupt line to the PIC at `now` (high = asserted; a level,
    /// which the PIC latches on its rising edge): an enabled interrupt is
    /// pending and the board's /OUT2 buffer passes it.
    pub fn irq(&self, now: u64) -> bool {
        let s = &self.state;
        s.mcr & MCR_OUT2 != 0 && !s.loopback() && s.interrupt_id(now) != IIR_NONE
    }

    /// The first time after `now` at which the interrupt identification
    /// (and so possibly the line) changes on its own: the receiver timeout,
    /// if it is running and enabled. None if nothing will happen without
    /// an access or input.
    pub fn next_event(&self, now: u64) -> Option<u64> {
        let s = &self.state;
        if s.ier & IER_ERBFI == 0 {
            return None;
        }
        s.rx_timeout_at.filter(|&t| t > now)
    }

    pub fn state(&self) -> UartState {
        self.state.clone()
    }

    /// Resume from `s`. Values no UART can hold are brought into range so
    /// a damaged snapshot cannot break the invariants: reserved IER and
    /// MCR bits cleared, the FIFO cut to its size (one character in 16450
    /// mode), error bits to the ones that exist, THRE pending only while
    /// enabled, LSR bit 7 only in FIFO mode, and the timeout running
    /// exactly while the FIFO has data (one that should be running but is
    /// not counts as fired).
    pub fn restore(&mut self, s: &UartState) {
        let mut st = s.clone();
        st.ier &= IER_MASK;
        st.mcr &= MCR_MASK;
        st.rx_trigger &= 3;
        let capacity = st.rx_capacity();
        st.rx.truncate(capacity);
        for c in &mut st.rx {
            c.errors &= LSR_CHAR_ERRORS;
        }
        st.lsr_errors &= LSR_ERRORS;
        st.msr_deltas &= MSR_DELTAS;
        st.thre_pending &= st.ier & IER_ETBEI != 0;
        st.fifo_error &= st.fifo_enabled;
        st.rx_timeout_at = if st.fifo_enabled && !st.rx.is_empty() {
            Some(st.rx_timeout_at.unwrap_or(0))
        } else {
            None
        };
        self.state = st;
    }

    /// Push buffered output to the sink. The first write error (now or
    /// earlier, not yet taken) is returned.
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.sink.flush()
    }

    /// The first error writing to the sink, if any (output since then has
    /// been dropped); taking it lets output resume.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_random;
#[cfg(test)]
mod tests_rx;
