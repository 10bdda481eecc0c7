//! The receiver side of the PC16550D: the RBR or the 16-byte receiver FIFO,
//! overruns, the per-character error bits, the trigger levels and the
//! character timeout (datasheet "FIFO Control Register", "Line Status
//! Register", "FIFO Interrupt Mode Operation"), and the FCR that controls
//! them.

use super::regs::*;
use super::{RxChar, UartState, FIFO_SIZE};

impl UartState {
    /// How many received characters the receiver holds: the FIFO, or the
    /// RBR alone in 16450 mode.
    pub(super) fn rx_capacity(&self) -> usize {
        if self.fifo_enabled {
            FIFO_SIZE
        } else {
            1
        }
    }

    /// The receiver timeout has fired by `now` (and not been cleared by a
    /// read since). The timer only runs in FIFO mode with data in the FIFO.
    pub(super) fn rx_timeout_fired(&self, now: u64) -> bool {
        self.rx_timeout_at.is_some_and(|t| now >= t)
    }

    /// The received data interrupt's condition: in FIFO mode the FIFO has
    /// reached the trigger level ("it is cleared as soon as the FIFO drops
    /// below its trigger level"); in 16450 mode the RBR is full.
    pub(super) fn rx_data_ready_for_interrupt(&self) -> bool {
        if self.fifo_enabled {
            let level = RX_TRIGGER_LEVELS[usize::from(self.rx_trigger & 3)];
            self.rx.len() >= level
        } else {
            !self.rx.is_empty()
        }
    }

    /// Restart the timeout timer at `now`: it fires four character times
    /// later at the current framing and rate, if data is then still waiting.
    fn restart_rx_timer(&mut self, now: u64) {
        self.rx_timeout_at = if self.fifo_enabled && !self.rx.is_empty() {
            Some(now.saturating_add(rx_timeout_ns(self.lcr, self.divisor)))
        } else {
            None
        };
    }

    /// A character completely received at `now`. In FIFO mode it joins
    /// the FIFO, or, with the FIFO full, overwrites the shift register and
    /// is lost with an overrun ("the character in the shift register is
    /// overwritten, but it is not transferred to the FIFO"); its errors
    /// show in the LSR when it reaches the top of the FIFO. In 16450 mode
    /// it replaces the RBR, with an overrun if the RBR had not been read,
    /// and its errors show at once.
    pub(super) fn receive_char(&mut self, c: RxChar, now: u64) {
        if !self.fifo_enabled {
            if !self.rx.is_empty() {
                self.lsr_errors |= LSR_OE;
                self.rx.clear();
            }
            self.lsr_errors |= c.errors & LSR_CHAR_ERRORS;
            self.rx.push(c);
            return;
        }
        let fired = self.rx_timeout_fired(now);
        if self.rx.len() >= FIFO_SIZE {
            self.lsr_errors |= LSR_OE;
        } else {
            if self.rx.is_empty() {
                self.lsr_errors |= c.errors & LSR_CHAR_ERRORS;
            }
            if c.errors != 0 {
                self.fifo_error = true;
            }
            self.rx.push(c);
        }
        // "When a timeout interrupt has not occurred the timeout timer is
        // reset after a new character is received"; once it has, only a
        // read clears it.
        if !fired {
            self.restart_rx_timer(now);
        }
    }

    /// A read of RBR: the oldest character received, which leaves the
    /// receiver; the next one's errors then show in the LSR. The timeout
    /// timer restarts (and a fired timeout is cleared). With nothing
    /// received the holding register still has the last character read.
    pub(super) fn read_rbr(&mut self, now: u64) -> u8 {
        if self.rx.is_empty() {
            return self.rbr;
        }
        let c = self.rx.remove(0);
        self.rbr = c.data;
        if let Some(top) = self.rx.first() {
            self.lsr_errors |= top.errors & LSR_CHAR_ERRORS;
        }
        self.restart_rx_timer(now);
        self.rbr
    }

    /// Empty the receiver (the shift register and the LSR are left alone).
    fn clear_rx(&mut self) {
        self.rx.clear();
        self.rx_timeout_at = None;
    }

    /// An FCR write. A change of bit 0 switches between FIFO and 16450
    /// mode and empties both FIFOs; with bit 0 clear nothing else is
    /// programmed. Bit 1 empties the receiver FIFO; bit 2 the transmitter
    /// FIFO, which is always empty here; bit 3 (DMA mode) and bits 7..6
    /// (the receiver trigger level) are kept.
    pub(super) fn write_fcr(&mut self, value: u8) {
        let enable = value & FCR_ENABLE != 0;
        if enable != self.fifo_enabled {
            self.fifo_enabled = enable;
            self.clear_rx();
            self.fifo_error = false;
        }
        if !enable {
            return;
        }
        if value & FCR_RX_RESET != 0 {
            self.clear_rx();
        }
        self.dma_mode = value & FCR_DMA_MODE != 0;
        self.rx_trigger = value >> FCR_TRIGGER_SHIFT;
    }
}
