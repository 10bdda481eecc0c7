//! The PC's two 8259A interrupt controllers (Intel 8259A datasheet 231468)
//! as the PIIX3 integrates them (PIIX3 datasheet 290550, "Interrupt
//! Controller Registers" and ELCR): the master at 0x20/0x21 drives the CPU's
//! INTR, the slave at 0xA0/0xA1 drives the master's IR2, and the edge/level
//! control registers at 0x4D0/0x4D1 choose the trigger mode per IRQ.
//!
//! Choices where the datasheet leaves a gap or the reference emulators
//! differ (QEMU `hw/intc/i8259.c`, Bochs `iodev/pic.cc`):
//!
//! * Edge-triggered requests stay latched in the IRR from the rising edge
//!   until acknowledged, also if the line falls first (QEMU). The datasheet
//!   wants the line held until the first INTA, else the acknowledge finds
//!   nothing and returns a "default IR7"; Bochs models that by clearing the
//!   IRR bit when the line falls. Here the CPU samples INTR and acknowledges
//!   in one step, so the race the datasheet warns about cannot happen, and a
//!   device that pulses its line still interrupts.
//! * Spurious interrupts: an acknowledge with no request that outranks what
//!   is in service returns the chip's IR7 vector and sets no in-service bit.
//!   For the master that happens only if [`Pic::acknowledge`] is called while
//!   [`Pic::intr`] is low. A request withdrawn on the slave after the master
//!   latched its IR2 edge (the slave masks it, or a level line falls) gives
//!   the slave's IR7 vector: the master has acknowledged IR2 and sets its
//!   in-service bit, the slave sets none (QEMU and Bochs, though Bochs
//!   rarely gets there: its master IR2 request falls with the slave's INT).
//!   So the handler of a spurious IRQ 15 must still send the master an EOI,
//!   as Linux does.
//! * Special mask mode: a masked level in service inhibits nothing, an
//!   unmasked one still inhibits lower levels (QEMU; in Bochs no level in
//!   service inhibits another); a non-specific EOI skips masked in-service
//!   levels (datasheet; neither emulator).
//! * ICW3 and single mode are honoured as the wiring makes them act: the
//!   master hands an acknowledge to the cascade only for inputs ICW3 marks,
//!   and the slave answers only its own cascade address; an acknowledge that
//!   no chip answers reads the floating data bus (0xFF). QEMU ignores ICW3
//!   and single mode; Bochs refuses anything but the PC's values.
//! * Without ICW4 the chip is in MCS-80/85 mode and the vector byte is the
//!   CALL address's low byte, as the chip drives it (QEMU and Bochs always
//!   use ICW2 + level).
//! * ICW1's LTIM makes all of a chip's inputs level-triggered (8259A and
//!   QEMU; Intel's south bridges document LTIM as replaced by the ELCR, and
//!   Bochs rejects it).
//! * The slave's INT output drives the master's IR2 like any device line, so
//!   a slave whose INT stays high through an acknowledge (two requests in
//!   automatic EOI mode) makes no new edge for the master (as in QEMU).

mod chip;

pub use chip::{ChipState, InitStep, Role};

/// The master input the slave's INT is wired to.
pub const CASCADE_IR: u8 = 2;
/// Master command (A0 = 0) and data (A0 = 1) ports.
pub const MASTER_PORTS: [u16; 2] = [0x20, 0x21];
/// Slave command and data ports.
pub const SLAVE_PORTS: [u16; 2] = [0xa0, 0xa1];
/// The edge/level control registers for IRQ 0–7 and IRQ 8–15.
pub const ELCR_PORTS: [u16; 2] = [0x4d0, 0x4d1];
/// The ELCR bits that can be set: IRQ 0, 1, 2 (timer, keyboard, cascade),
/// 8 (RTC) and 13 (FPU error) are always edge-triggered and read as 0.
pub const ELCR_MASKS: [u8; 2] = [0xf8, 0xde];
/// What the CPU reads in an acknowledge no chip answers, and what a read of
/// a port the PIC does not decode returns: the ISA data bus floats high.
pub const FLOATING_BUS: u8 = 0xff;

/// Everything needed to resume the pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PicState {
    pub master: ChipState,
    pub slave: ChipState,
}

/// The PC's master/slave 8259A pair (slave cascaded on master IRQ 2), plus
/// the ELCR (ports 0x4D0/0x4D1).
#[derive(Debug)]
pub struct Pic {
    state: PicState,
}

impl Default for Pic {
    fn default() -> Pic {
        Pic::new()
    }
}

impl Pic {
    /// The power-on state: the reset state with every input line low.
    pub fn new() -> Pic {
        Pic {
            state: PicState {
                master: ChipState::reset(0, Role::Master),
                slave: ChipState::reset(0, Role::Slave),
            },
        }
    }

    /// The system reset (the 8259A has no RESET pin; see
    /// [`ChipState::reset`]): both chips and the ELCRs return to the reset
    /// state; the input lines keep the levels the devices drive, but a line
    /// that is high must fall and rise again to request.
    pub fn reset(&mut self) {
        let s = &mut self.state;
        s.master = ChipState::reset(s.master.lines, Role::Master);
        s.slave = ChipState::reset(s.slave.lines, Role::Slave);
        self.sync_cascade();
    }

    /// A byte read from one of the six ports. Reading the command or data
    /// port after a poll command is the poll (an acknowledge on that chip).
    /// Any other port is not decoded here and reads as the floating bus.
    pub fn read(&mut self, port: u16) -> u8 {
        let s = &mut self.state;
        let value = match port {
            0x20 | 0x21 => s.master.read(port & 1 != 0, Role::Master),
            0xa0 | 0xa1 => s.slave.read(port & 1 != 0, Role::Slave),
            0x4d0 => s.master.elcr,
            0x4d1 => s.slave.elcr,
            _ => FLOATING_BUS,
        };
        self.sync_cascade();
        value
    }

    /// A byte written to one of the six ports; writes to other ports are
    /// not decoded here and are ignored. ELCR bits of the always-edge IRQs
    /// are read-only zeros.
    pub fn write(&mut self, port: u16, value: u8) {
        let s = &mut self.state;
        match port {
            0x20 => s.master.write_command(value, Role::Master),
            0x21 => s.master.write_data(value),
            0xa0 => s.slave.write_command(value, Role::Slave),
            0xa1 => s.slave.write_data(value),
            0x4d0 => s.master.elcr = value & ELCR_MASKS[0],
            0x4d1 => s.slave.elcr = value & ELCR_MASKS[1],
            _ => {}
        }
        self.sync_cascade();
    }

    /// Drive interrupt line `irq` (0–15; high = asserted). IRQ 2 is the
    /// cascade input, driven only by the slave's INT (the AT board wires the
    /// ISA bus's IRQ 2 pin to IRQ 9, which is the machine's routing to do),
    /// so it and numbers above 15 are ignored.
    pub fn set_irq(&mut self, irq: u8, level: bool) {
        let s = &mut self.state;
        match irq {
            0..=7 if irq != CASCADE_IR => s.master.set_line(irq, level),
            8..=15 => s.slave.set_line(irq - 8, level),
            _ => return,
        }
        self.sync_cascade();
    }

    /// The master's INT output, to the CPU's INTR pin.
    pub fn intr(&self) -> bool {
        self.state.master.int_output(Role::Master)
    }

    /// The CPU's interrupt acknowledge cycle: returns the vector and does
    /// what the two INTA pulses do. The master's priority resolver picks a
    /// level (with none, the "default IR7", which sets no in-service bit)
    /// and acknowledges it. If ICW3 marks that input as having a slave, the
    /// master puts the level on the cascade lines and the slave with that ID
    /// acknowledges its own highest request and drives the vector, or its
    /// IR7 vector if it has none (a spurious IRQ 15, with the master's IR2
    /// in service); otherwise the master drives its own vector.
    pub fn acknowledge(&mut self) -> u8 {
        let s = &mut self.state;
        let pending = s.master.pending(Role::Master);
        let ir = pending.unwrap_or(7);
        if pending.is_some() {
            s.master.acknowledge(ir);
        }
        let vector = if s.master.slave_inputs(Role::Master) & (1 << ir) == 0 {
            s.master.vector(ir)
        } else if s.slave.cascade_id(Role::Slave) == Some(ir) {
            match s.slave.pending(Role::Slave) {
                Some(slave_ir) => {
                    s.slave.acknowledge(slave_ir);
                    s.slave.vector(slave_ir)
                }
                None => s.slave.vector(7),
            }
        } else {
            FLOATING_BUS
        };
        self.sync_cascade();
        vector
    }

    pub fn state(&self) -> PicState {
        self.state.clone()
    }

    /// Resume from `s`. Values no chip can hold are brought into range (the
    /// rotation to 0..7, the ELCRs to their writable bits, the master's IR2
    /// line to the slave's INT) so a damaged snapshot cannot break the
    /// invariants.
    pub fn restore(&mut self, s: &PicState) {
        self.state = s.clone();
        let st = &mut self.state;
        st.master.highest_priority &= 7;
        st.slave.highest_priority &= 7;
        st.master.elcr &= ELCR_MASKS[0];
        st.slave.elcr &= ELCR_MASKS[1];
        let cascade = 1 << CASCADE_IR;
        if st.slave.int_output(Role::Slave) {
            st.master.lines |= cascade;
        } else {
            st.master.lines &= !cascade;
        }
    }

    /// The slave's INT output is the master's IR2 input.
    fn sync_cascade(&mut self) {
        let int = self.state.slave.int_output(Role::Slave);
        self.state.master.set_line(CASCADE_IR, int);
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_modes;
#[cfg(test)]
mod tests_random;
