//! One Intel 8259A (datasheet 231468, "Programmable Interrupt Controller"):
//! the interrupt request, in-service and mask registers, the priority
//! resolver with rotation, the initialization sequence (ICW1–ICW4) and the
//! operation commands (OCW1–OCW3). The pair and its cascade wiring are in
//! `mod.rs`; this file knows one chip and whether the board wires it as the
//! master or the slave (the SP/EN pin).
//!
//! Every field is plain data so that the whole chip is its saved state.

/// The board wiring of a chip's SP/EN pin in non-buffered mode: high on the
/// master, low on the slave. It decides how ICW3 is read (a bitmap of the
/// inputs that have slaves, or the slave's own ID) and who drives the vector
/// in a cascaded acknowledge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Master,
    Slave,
}

/// Where the chip is in its initialization sequence ("Initialization Command
/// Words": ICW1 starts it; ICW2 always follows; ICW3 only in cascade mode
/// (SNGL = 0); ICW4 only if ICW1 asked for it (IC4 = 1)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InitStep {
    /// Initialized: odd-address writes go to the mask register (OCW1).
    #[default]
    Ready,
    Icw2,
    Icw3,
    Icw4,
}

// ICW1 (written at A0 = 0 with D4 = 1).
pub const ICW1: u8 = 0x10;
/// ICW4 will be written.
pub const ICW1_IC4: u8 = 0x01;
/// Single chip: no ICW3, no cascade.
pub const ICW1_SNGL: u8 = 0x02;
/// MCS-80/85 CALL address interval 4 (else 8).
pub const ICW1_ADI: u8 = 0x04;
/// Level-triggered mode for every input.
pub const ICW1_LTIM: u8 = 0x08;

// ICW4.
/// 8086/8088 mode (else MCS-80/85 mode).
pub const ICW4_UPM: u8 = 0x01;
/// Automatic end of interrupt.
pub const ICW4_AEOI: u8 = 0x02;
/// Special fully nested mode.
pub const ICW4_SFNM: u8 = 0x10;

// OCW2 (A0 = 0, D4 = D3 = 0): R, SL, EOI in bits 7..5, the level in 2..0.
pub const OCW2_LEVEL: u8 = 0x07;

// OCW3 (A0 = 0, D4 = 0, D3 = 1).
pub const OCW3: u8 = 0x08;
/// With RR: read the ISR (else the IRR).
pub const OCW3_RIS: u8 = 0x01;
/// Read register command: RIS is taken.
pub const OCW3_RR: u8 = 0x02;
/// Poll command.
pub const OCW3_P: u8 = 0x04;
/// With ESMM: set (1) or reset (0) the special mask mode.
pub const OCW3_SMM: u8 = 0x20;
/// Enable special mask mode: SMM is taken.
pub const OCW3_ESMM: u8 = 0x40;

/// One 8259A's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChipState {
    /// The levels on the IR0..IR7 input pins (high = 1).
    pub lines: u8,
    /// Edge-triggered requests latched by a rising edge, held until the
    /// level is acknowledged or the chip is initialized (see `irr`).
    pub edge_requests: u8,
    /// Interrupt mask register (OCW1).
    pub imr: u8,
    /// In-service register.
    pub isr: u8,
    /// The PIIX edge/level control register: a set bit makes that input
    /// level-triggered. Only the bits the board allows can be set.
    pub elcr: u8,
    /// The IR level with the highest priority (0 unless rotated); the
    /// others follow in increasing order, wrapping at 8.
    pub highest_priority: u8,
    /// The initialization words as last written (ICW2 whole: in MCS-80/85
    /// mode it is the CALL address's high byte; ICW3 is the slave bitmap on
    /// the master, the ID in bits 2..0 on a slave).
    pub icw1: u8,
    pub icw2: u8,
    pub icw3: u8,
    pub icw4: u8,
    pub init: InitStep,
    /// OCW3 status read select: the ISR (else the IRR) at the even address.
    pub read_isr: bool,
    /// OCW3 poll command issued: the next read is a poll.
    pub poll: bool,
    pub special_mask: bool,
    /// OCW2 "rotate in automatic EOI mode".
    pub rotate_in_aeoi: bool,
}

/// The ICW3 that the PC's wiring needs (slave on master IR2, slave ID 2).
fn pc_icw3(role: Role) -> u8 {
    match role {
        Role::Master => 1 << super::CASCADE_IR,
        Role::Slave => super::CASCADE_IR,
    }
}

fn bit(ir: u8) -> u8 {
    1 << (ir & 7)
}

impl ChipState {
    /// The state after a system reset. The 8259A has no RESET pin and the
    /// datasheet leaves its registers undefined until ICW1; the PIIX3 gives
    /// its ELCR a reset value of 0. For the rest we take QEMU's
    /// reset state (masks clear, nothing in service, vector base 0, 8086
    /// mode, normal EOI, IRR selected) with the PC's cascade wiring already
    /// in ICW3, so an unprogrammed pair behaves as QEMU's does. The input
    /// lines are wires driven by devices: a reset keeps them.
    pub fn reset(lines: u8, role: Role) -> ChipState {
        ChipState {
            lines,
            edge_requests: 0,
            imr: 0,
            isr: 0,
            elcr: 0,
            highest_priority: 0,
            icw1: ICW1 | ICW1_IC4,
            icw2: 0,
            icw3: pc_icw3(role),
            icw4: ICW4_UPM,
            init: InitStep::Ready,
            read_isr: false,
            poll: false,
            special_mask: false,
            rotate_in_aeoi: false,
        }
    }

    /// The inputs that are level-triggered: all with ICW1's LTIM, else
    /// those set in the ELCR.
    pub fn level_inputs(&self) -> u8 {
        if self.icw1 & ICW1_LTIM != 0 {
            0xff
        } else {
            self.elcr
        }
    }

    /// The interrupt request register: a level-triggered input requests
    /// while its line is high; an edge-triggered one from its rising edge
    /// until it is acknowledged.
    pub fn irr(&self) -> u8 {
        let level = self.level_inputs();
        (self.lines & level) | (self.edge_requests & !level)
    }

    /// Drive input `ir` (0..7). A rising edge latches an edge request; the
    /// line must fall before it can make another.
    pub fn set_line(&mut self, ir: u8, level: bool) {
        let b = bit(ir);
        if level && self.lines & b == 0 {
            self.edge_requests |= b;
        }
        if level {
            self.lines |= b;
        } else {
            self.lines &= !b;
        }
    }

    fn is_8086_mode(&self) -> bool {
        self.icw4 & ICW4_UPM != 0
    }

    fn single(&self) -> bool {
        self.icw1 & ICW1_SNGL != 0
    }

    /// The inputs a master has slaves on (ICW3), none in single mode or on a
    /// slave.
    pub fn slave_inputs(&self, role: Role) -> u8 {
        match role {
            Role::Master if !self.single() => self.icw3,
            _ => 0,
        }
    }

    /// The cascade address a slave answers to (ICW3 bits 2..0); a slave in
    /// single mode takes no ICW3 and watches no cascade address.
    pub fn cascade_id(&self, role: Role) -> Option<u8> {
        match role {
            Role::Slave if !self.single() => Some(self.icw3 & 7),
            _ => None,
        }
    }

    /// Priority rank of level `ir`: 0 is the highest.
    fn rank(&self, ir: u8) -> u8 {
        ir.wrapping_sub(self.highest_priority) & 7
    }

    /// The level of highest priority among the bits of `mask`.
    fn highest_of(&self, mask: u8) -> Option<u8> {
        (0..8)
            .map(|i| self.highest_priority.wrapping_add(i) & 7)
            .find(|&ir| mask & bit(ir) != 0)
    }

    /// The level the priority resolver would acknowledge now, if any: the
    /// highest-priority unmasked request, if it outranks every level in
    /// service ("fully nested mode"). In special mask mode a masked level in
    /// service inhibits nothing ("it inhibits further interrupts at that
    /// level and enables interrupts from all other levels (lower as well as
    /// higher) that are not masked"). In special fully nested mode a master
    /// lets a slave input that is in service request again ("this slave is
    /// not locked out from the master's priority logic"): its own in-service
    /// bit does not inhibit it, but it still inhibits lower levels.
    pub fn pending(&self, role: Role) -> Option<u8> {
        let request = self.highest_of(self.irr() & !self.imr)?;
        let mut inhibiting = self.isr;
        if self.special_mask {
            inhibiting &= !self.imr;
        }
        if self.icw4 & ICW4_SFNM != 0 && self.slave_inputs(role) & bit(request) != 0 {
            inhibiting &= !bit(request);
        }
        match self.highest_of(inhibiting) {
            Some(in_service) if self.rank(in_service) <= self.rank(request) => None,
            _ => Some(request),
        }
    }

    /// The INT output pin.
    pub fn int_output(&self, role: Role) -> bool {
        self.pending(role).is_some()
    }

    /// The acknowledge of level `ir` (the first INTA pulse, or a poll read):
    /// its edge request is cleared (a level request stays while the line is
    /// high) and it goes in service, unless in automatic EOI mode, where the
    /// EOI at the end of the sequence clears it again (and rotates if OCW2
    /// asked for it). We model each acknowledge as a whole sequence, also in
    /// MCS-80/85 mode, whose third pulse an x86 CPU never sends.
    pub fn acknowledge(&mut self, ir: u8) {
        self.edge_requests &= !bit(ir);
        if self.icw4 & ICW4_AEOI != 0 {
            if self.rotate_in_aeoi {
                self.highest_priority = (ir + 1) & 7;
            }
        } else {
            self.isr |= bit(ir);
        }
    }

    /// The byte this chip drives on the data bus in the INTA cycle that the
    /// CPU reads as the vector (the second pulse). In 8086 mode: ICW2's
    /// T7..T3 and the level. In MCS-80/85 mode the second pulse carries the
    /// CALL address's low byte: A7..A5 from ICW1 and the level in bits 4..2
    /// (interval 4), or A7..A6 and the level in bits 5..3 (interval 8).
    pub fn vector(&self, ir: u8) -> u8 {
        let ir = ir & 7;
        if self.is_8086_mode() {
            (self.icw2 & 0xf8) | ir
        } else if self.icw1 & ICW1_ADI != 0 {
            (self.icw1 & 0xe0) | (ir << 2)
        } else {
            (self.icw1 & 0xc0) | (ir << 3)
        }
    }

    /// A write at the even address (A0 = 0): ICW1, OCW2 or OCW3.
    pub fn write_command(&mut self, value: u8, role: Role) {
        if value & ICW1 != 0 {
            self.start_init(value, role);
        } else if value & OCW3 != 0 {
            self.ocw3(value);
        } else {
            self.ocw2(value);
        }
    }

    /// ICW1 starts the initialization sequence, whatever was going on (a
    /// sequence cut short by a new ICW1 just starts over). Its automatic
    /// effects (datasheet a–f): the edge sense circuit is reset (a line that
    /// is high must fall and rise again), the mask register is cleared, IR7
    /// gets the lowest priority, the slave address is set to 7, special mask
    /// mode is cleared and status read is set to the IRR, and without IC4
    /// every ICW4 function is zero (so MCS-80/85 mode, no AEOI). The slave
    /// address is a slave's ID; a master's ICW3 bitmap is left as it was
    /// (cascade mode writes a new one in ICW3 anyway; single mode ignores
    /// it). The datasheet does not list the ISR, the poll command or rotate
    /// in AEOI;
    /// we clear them as QEMU and Bochs both do, so a re-initialized chip
    /// starts with nothing in service. The ELCR is a PIIX register that ICW1
    /// does not touch.
    fn start_init(&mut self, value: u8, role: Role) {
        self.icw1 = value;
        self.edge_requests = 0;
        self.imr = 0;
        self.isr = 0;
        self.highest_priority = 0;
        if role == Role::Slave {
            self.icw3 = 7;
        }
        self.special_mask = false;
        self.read_isr = false;
        self.poll = false;
        self.rotate_in_aeoi = false;
        if value & ICW1_IC4 == 0 {
            self.icw4 = 0;
        }
        self.init = InitStep::Icw2;
    }

    /// OCW2: the EOI commands and rotation, from its R, SL, EOI bits.
    fn ocw2(&mut self, value: u8) {
        let level = value & OCW2_LEVEL;
        match value >> 5 {
            // Rotate in automatic EOI mode: clear (000) or set (100).
            0b000 => self.rotate_in_aeoi = false,
            0b100 => self.rotate_in_aeoi = true,
            // Non-specific EOI (001), and with rotation (101): the highest
            // priority level in service. "An IS bit that is masked by an IMR
            // bit will not be cleared by a non-specific EOI if the 8259A is
            // in the Special Mask Mode." With nothing in service there is
            // nothing to clear and no level to rotate to, so nothing happens.
            0b001 | 0b101 => {
                let mut candidates = self.isr;
                if self.special_mask {
                    candidates &= !self.imr;
                }
                if let Some(ir) = self.highest_of(candidates) {
                    self.isr &= !bit(ir);
                    if value & 0x80 != 0 {
                        self.highest_priority = (ir + 1) & 7;
                    }
                }
            }
            // Specific EOI (011), and with rotation (111): the given level
            // (then the lowest priority).
            0b011 => self.isr &= !bit(level),
            0b111 => {
                self.isr &= !bit(level);
                self.highest_priority = (level + 1) & 7;
            }
            // Set priority: the given level becomes the lowest.
            0b110 => self.highest_priority = (level + 1) & 7,
            // 010: "No operation".
            _ => {}
        }
    }

    /// OCW3: status read select, poll command, special mask mode. The three
    /// commands are independent; a poll takes precedence over the status
    /// read at the next read but the RR/RIS selection is still recorded.
    fn ocw3(&mut self, value: u8) {
        if value & OCW3_RR != 0 {
            self.read_isr = value & OCW3_RIS != 0;
        }
        if value & OCW3_P != 0 {
            self.poll = true;
        }
        if value & OCW3_ESMM != 0 {
            self.special_mask = value & OCW3_SMM != 0;
        }
    }

    /// A write at the odd address (A0 = 1): the next ICW of the
    /// initialization sequence, else the mask register (OCW1).
    pub fn write_data(&mut self, value: u8) {
        match self.init {
            InitStep::Ready => self.imr = value,
            InitStep::Icw2 => {
                self.icw2 = value;
                self.init = if !self.single() {
                    InitStep::Icw3
                } else {
                    self.after_icw3()
                };
            }
            InitStep::Icw3 => {
                self.icw3 = value;
                self.init = self.after_icw3();
            }
            InitStep::Icw4 => {
                // Buffered mode and its M/S bit (ICW4 bits 3..2) are kept
                // but change nothing: the PC wires SP/EN as inputs, and the
                // PIIX3 requires BUF = 0.
                self.icw4 = value;
                self.init = InitStep::Ready;
            }
        }
    }

    fn after_icw3(&self) -> InitStep {
        if self.icw1 & ICW1_IC4 != 0 {
            InitStep::Icw4
        } else {
            InitStep::Ready
        }
    }

    /// A read at address `a0`. After a poll command the read is the poll: it
    /// acknowledges the highest pending level like an INTA ("sets the
    /// appropriate IS bit if there is a request") and returns 0x80 | level,
    /// or 0 with no request. Otherwise the even address reads the IRR or the
    /// ISR (as OCW3 selected), the odd address the IMR.
    pub fn read(&mut self, a0: bool, role: Role) -> u8 {
        if self.poll {
            self.poll = false;
            return match self.pending(role) {
                Some(ir) => {
                    self.acknowledge(ir);
                    0x80 | ir
                }
                None => 0,
            };
        }
        if a0 {
            self.imr
        } else if self.read_isr {
            self.isr
        } else {
            self.irr()
        }
    }
}
