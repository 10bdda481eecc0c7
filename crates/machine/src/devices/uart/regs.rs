//! The PC16550D's register map and bit assignments (datasheet "Registers",
//! Table II "Summary of Registers"), and the character time that the
//! receiver's timeout counts in ("FIFO Interrupt Mode Operation",
//! "Programmable Baud Generator").

// Register offsets from the base port (A2..A0). With LCR.DLAB set, offsets
// 0 and 1 are the divisor latch instead of RBR/THR and IER.
/// RBR (read), THR (write); DLL with DLAB.
pub const RBR_THR: u16 = 0;
/// IER; DLM with DLAB.
pub const IER: u16 = 1;
/// IIR (read), FCR (write).
pub const IIR_FCR: u16 = 2;
pub const LCR: u16 = 3;
pub const MCR: u16 = 4;
pub const LSR: u16 = 5;
pub const MSR: u16 = 6;
pub const SCR: u16 = 7;
/// The number of ports the UART decodes.
pub const PORT_COUNT: u16 = 8;

// IER. Bits 7..4 are always 0.
/// Received data available (and, in FIFO mode, the character timeout).
pub const IER_ERBFI: u8 = 0x01;
/// Transmitter holding register empty.
pub const IER_ETBEI: u8 = 0x02;
/// Receiver line status.
pub const IER_ELSI: u8 = 0x04;
/// Modem status.
pub const IER_EDSSI: u8 = 0x08;
pub const IER_MASK: u8 = 0x0f;

// IIR: bit 0 low = an interrupt is pending, bits 3..1 its identification,
// bits 7..6 set in FIFO mode.
pub const IIR_NONE: u8 = 0x01;
pub const IIR_MODEM_STATUS: u8 = 0x00;
pub const IIR_THRE: u8 = 0x02;
pub const IIR_RX_DATA: u8 = 0x04;
pub const IIR_LINE_STATUS: u8 = 0x06;
pub const IIR_RX_TIMEOUT: u8 = 0x0c;
pub const IIR_FIFOS_ENABLED: u8 = 0xc0;

// FCR (write-only).
pub const FCR_ENABLE: u8 = 0x01;
pub const FCR_RX_RESET: u8 = 0x02;
pub const FCR_TX_RESET: u8 = 0x04;
/// DMA mode select: changes only the RXRDY/TXRDY pins, which a PC leaves
/// unconnected.
pub const FCR_DMA_MODE: u8 = 0x08;
/// The receiver trigger level, bits 7..6.
pub const FCR_TRIGGER_SHIFT: u8 = 6;
/// Receiver FIFO trigger levels for FCR bits 7..6 = 0..=3.
pub const RX_TRIGGER_LEVELS: [usize; 4] = [1, 4, 8, 14];

// LCR.
/// Word length select: 5 + (bits 1..0) data bits.
pub const LCR_WORD_LENGTH: u8 = 0x03;
/// Stop bits: 1, or 2 (1.5 with 5-bit words).
pub const LCR_STB: u8 = 0x04;
pub const LCR_PEN: u8 = 0x08;
/// Even parity select.
pub const LCR_EPS: u8 = 0x10;
/// Stick parity: the parity bit is sent and checked as the inverse of EPS.
pub const LCR_STICK: u8 = 0x20;
/// Set break: SOUT is held in the spacing state.
pub const LCR_BREAK: u8 = 0x40;
/// Divisor latch access.
pub const LCR_DLAB: u8 = 0x80;

// MCR. Bits 7..5 are always 0.
pub const MCR_DTR: u8 = 0x01;
pub const MCR_RTS: u8 = 0x02;
pub const MCR_OUT1: u8 = 0x04;
/// On a PC board the /OUT2 pin enables the buffer that drives INTRPT onto
/// the IRQ line.
pub const MCR_OUT2: u8 = 0x08;
pub const MCR_LOOP: u8 = 0x10;
pub const MCR_MASK: u8 = 0x1f;

// LSR.
pub const LSR_DR: u8 = 0x01;
pub const LSR_OE: u8 = 0x02;
pub const LSR_PE: u8 = 0x04;
pub const LSR_FE: u8 = 0x08;
pub const LSR_BI: u8 = 0x10;
pub const LSR_THRE: u8 = 0x20;
pub const LSR_TEMT: u8 = 0x40;
/// FIFO mode: a parity, framing or break error is in the receiver FIFO.
pub const LSR_FIFO_ERROR: u8 = 0x80;
/// The bits that raise the receiver line status interrupt and that a read
/// of the LSR clears.
pub const LSR_ERRORS: u8 = LSR_OE | LSR_PE | LSR_FE | LSR_BI;
/// The per-character error bits a receiver FIFO entry carries.
pub const LSR_CHAR_ERRORS: u8 = LSR_PE | LSR_FE | LSR_BI;

// MSR: the input lines in bits 7..4, their changes since the last MSR read
// in bits 3..0.
pub const MSR_DCTS: u8 = 0x01;
pub const MSR_DDSR: u8 = 0x02;
/// Trailing edge ring indicator: RI went from on to off.
pub const MSR_TERI: u8 = 0x04;
pub const MSR_DDCD: u8 = 0x08;
pub const MSR_DELTAS: u8 = 0x0f;
pub const MSR_CTS: u8 = 0x10;
pub const MSR_DSR: u8 = 0x20;
pub const MSR_RI: u8 = 0x40;
pub const MSR_DCD: u8 = 0x80;

/// The PC's UART clock (XIN): 1.8432 MHz, divided by 16 and by the divisor
/// latch to give the bit rate.
pub const XIN_HZ: u64 = 1_843_200;
/// The divisor a PC BIOS leaves for 9600 bit/s (QEMU's reset value).
pub const DIVISOR_9600: u16 = 12;

const NS_PER_S: u128 = 1_000_000_000;

/// The data bits of a frame (LCR bits 1..0): 5 to 8.
pub fn word_bits(lcr: u8) -> u32 {
    5 + u32::from(lcr & LCR_WORD_LENGTH)
}

/// The bits of a received character that exist: the receiver assembles
/// only the programmed word length, and unused high bits read as 0.
pub fn word_mask(lcr: u8) -> u8 {
    0xff >> (8 - word_bits(lcr))
}

/// The length of one frame in half bit times: a start bit, the data bits,
/// the parity bit if enabled, and 1 stop bit, or 2 (1.5 with 5-bit words)
/// with STB.
pub fn frame_half_bits(lcr: u8) -> u64 {
    let bits = 1 + word_bits(lcr) + u32::from(lcr & LCR_PEN != 0);
    let stop_half_bits = match (lcr & LCR_STB != 0, word_bits(lcr)) {
        (false, _) => 2,
        (true, 5) => 3,
        (true, _) => 4,
    };
    u64::from(2 * bits + stop_half_bits)
}

/// The divisor the baud generator divides by: the latch's value, where 0
/// counts as 65536 (the 16-bit down-counter wraps before it reloads; the
/// datasheet's divisors stop at 2^16 - 1).
pub fn effective_divisor(divisor: u16) -> u64 {
    match divisor {
        0 => 0x1_0000,
        d => u64::from(d),
    }
}

/// The receiver timeout in ns: four character times at the bit rate of
/// `divisor` with the framing of `lcr` ("the most recent serial character
/// received was longer than 4 continuous character times ago (if 2 stop
/// bits are programmed the second one is included in this time delay)"),
/// rounded up to whole ns so the timeout never fires early.
/// One bit time is 16 * divisor / XIN seconds.
pub fn rx_timeout_ns(lcr: u8, divisor: u16) -> u64 {
    // 4 characters of `half_bits / 2` bits each: 2 * half_bits bit times.
    let bit_clocks = 2 * u128::from(frame_half_bits(lcr)) * 16;
    let ns = (bit_clocks * u128::from(effective_divisor(divisor)) * NS_PER_S)
        .div_ceil(u128::from(XIN_HZ));
    // (At most 2 * 24 * 16 * 65536 * 1e9 / 1.8432e6: far below u64::MAX.)
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// Whether a received break shows a parity error: the break frame is all
/// zeros, its parity bit included. For zero data even parity expects a 0
/// parity bit and odd parity a 1; stick parity sends and checks the
/// inverse of EPS ("when bits 3, 4 and 5 are logic 1 the Parity bit is
/// transmitted and checked as a logic 0"). Either way a 1 is expected, and
/// missed, exactly when EPS is 0.
pub fn break_parity_error(lcr: u8) -> bool {
    lcr & LCR_PEN != 0 && lcr & LCR_EPS == 0
}
