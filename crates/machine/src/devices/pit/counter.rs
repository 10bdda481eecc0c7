//! One counter of the 8254 (Intel 8254 datasheet, "Modes" and "Operation"):
//! the counting element (CE), the count register (CR), the OUT pin and the
//! GATE input, as a state machine over the counter's CLK edges.
//!
//! The state holds what is true after CLK edge `at`; [`ChannelState::advance`]
//! jumps it over any number of further edges in a few steps (a formula per
//! phase, never a loop per edge), so reads at any time cost the same. A write,
//! a command or a GATE change first advances to the edge before it and then
//! acts, which is how the chip orders them: the count written between two
//! edges is transferred to the CE on the next edge.
//!
//! Counting domain: the CE is kept as the number of decrements to reach zero
//! (0..=0xffff in binary, the decimal value of the BCD digits in BCD); a value
//! of 0 means a full turn (65536, or 10000 in BCD) before the next zero.

/// The phase of a counter: what the next CLK edges do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The CE holds its value and does not count: after a control word until
    /// the count is written, after the first byte of a two-byte count in mode
    /// 0, and in modes 1 and 5 until the first trigger.
    Idle,
    /// The CR is transferred to the CE on the next edge (the "load" clock of
    /// the datasheet's figures: the count written, or a trigger).
    Load,
    /// Modes 0, 1, 4 and 5: the CE decrements on each edge (in modes 0 and 4
    /// only while GATE is high), wrapping after zero. `armed` is set until
    /// the terminal count event of this load (OUT rising in modes 0 and 1,
    /// the strobe in modes 4 and 5) has happened.
    Count { armed: bool },
    /// Modes 4 and 5: OUT is low for this one clock after the terminal count.
    Strobe,
    /// Mode 2: `j` edges since the CE was loaded with `n`; OUT is low while
    /// the CE is 1 (`j == n - 1`) and the CR is reloaded at `j == n`.
    Rate { n: u32, j: u32 },
    /// Mode 3: `j` edges into the half-cycle (high or low) that began with
    /// the CE loaded with `n`; the CR is reloaded at each half's end.
    Square { n: u32, j: u32, high: bool },
}

/// A latched count waiting to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatchedCount {
    pub value: u16,
    /// The next read returns the high byte.
    pub msb_next: bool,
    /// Bytes still to be read (1 or 2).
    pub remaining: u8,
}

/// Everything about one counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelState {
    /// Bits 5:0 of the last control word: RW (5:4), mode (3:1), BCD (0),
    /// as written (the status byte returns them so).
    pub control: u8,
    /// The count register: the last complete count written.
    pub count_register: u16,
    /// A complete count has been written since the last control word.
    pub count_written: bool,
    /// The CR holds a count not yet transferred to the CE (status bit 6).
    pub null_count: bool,
    /// The low byte of a two-byte count, waiting for the high byte (the
    /// write flip-flop).
    pub write_low: Option<u8>,
    /// The next unlatched read of a two-byte count returns the high byte
    /// (the read flip-flop).
    pub read_msb_next: bool,
    pub latched_count: Option<LatchedCount>,
    pub latched_status: Option<u8>,
    pub gate: bool,
    pub out: bool,
    /// The CE in the counting domain (see the module comment).
    pub ce: u32,
    /// The last CLK edge the state accounts for.
    pub at: u64,
    pub phase: Phase,
}

impl ChannelState {
    /// The state after a reset at edge `at`: mode 3, two-byte access, binary,
    /// a count of 0 (65536) loaded on the next edge, as QEMU's reset leaves
    /// every channel (real chips are undefined until programmed).
    pub fn reset(at: u64, gate: bool) -> ChannelState {
        ChannelState {
            control: 0x36,
            count_register: 0,
            count_written: true,
            null_count: true,
            write_low: None,
            read_msb_next: false,
            latched_count: None,
            latched_status: None,
            gate,
            out: true,
            ce: 0,
            at,
            phase: Phase::Load,
        }
    }

    /// The RW field: 1 low byte, 2 high byte, 3 low then high.
    pub fn rw(&self) -> u8 {
        (self.control >> 4) & 3
    }

    /// The mode, with 6 and 7 read as their aliases 2 and 3.
    pub fn mode(&self) -> u8 {
        let m = (self.control >> 1) & 7;
        if m >= 6 {
            m - 4
        } else {
            m
        }
    }

    pub fn bcd(&self) -> bool {
        self.control & 1 != 0
    }

    /// Decrements in a full turn of the CE.
    fn modulus(&self) -> u32 {
        if self.bcd() {
            10_000
        } else {
            0x1_0000
        }
    }

    /// A raw count in the counting domain. BCD digits above 9 count with
    /// their weight, as MAME measured on the chip (0xFFFF lasts 16665 clocks).
    fn value_of(&self, raw: u16) -> u32 {
        if self.bcd() {
            (0..4)
                .map(|d| u32::from((raw >> (4 * d)) & 0xf) * 10u32.pow(d))
                .sum()
        } else {
            u32::from(raw)
        }
    }

    /// The CE as the chip shows it: binary, or four BCD digits. (A CE loaded
    /// with non-decimal BCD digits reads as the decimal value it has left.)
    pub fn ce_raw(&self) -> u16 {
        if self.bcd() {
            let v = self.ce % 10_000;
            ((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10)) as u16
        } else {
            (self.ce & 0xffff) as u16
        }
    }

    /// Decrements from `ce` to the next zero.
    fn to_zero(&self, ce: u32) -> u64 {
        u64::from(if ce == 0 { self.modulus() } else { ce })
    }

    /// `ce` after `k` decrements, wrapping after zero.
    fn sub(&self, ce: u32, k: u64) -> u32 {
        let m = u64::from(self.modulus());
        let ce64 = u64::from(ce);
        if k <= ce64 {
            (ce64 - k) as u32
        } else {
            ((m - (k - ce64) % m) % m) as u32
        }
    }

    /// The reload value of modes 2 and 3: 0 is a full turn; 1 is illegal in
    /// both, and the chip behaves as for 2 in mode 2 and as for 0 in mode 3
    /// (MAME's measurements).
    fn periodic_count(&self) -> u32 {
        match self.value_of(self.count_register) {
            0 => self.modulus(),
            1 if self.mode() == 2 => 2,
            1 => self.modulus(),
            n => n,
        }
    }

    /// Whether edges decrement the CE in the one-shot modes.
    fn counting_enabled(&self) -> bool {
        self.gate || matches!(self.mode(), 1 | 5)
    }

    /// Mode 3's CE `j` edges into a half that began with `n`: it counts by
    /// two; an odd count loses 1 on the first edge of a high half and 3 on
    /// the first edge of a low half (datasheet, mode 3).
    fn square_ce(n: u32, j: u32, high: bool) -> u32 {
        if j == 0 {
            n
        } else if n % 2 == 0 {
            n - 2 * j
        } else if high {
            n + 1 - 2 * j
        } else {
            n - 1 - 2 * j
        }
    }

    fn half_len(n: u32, high: bool) -> u32 {
        if high {
            n.div_ceil(2)
        } else {
            n / 2
        }
    }

    /// Bring the state to just after edge `to` (no effect if `to` is not
    /// after `at`: time never runs backwards for the chip).
    pub fn advance(&mut self, to: u64) {
        while self.at < to {
            let k = to - self.at;
            match self.phase {
                Phase::Idle => self.at = to,
                Phase::Load => self.load(),
                Phase::Count { armed } => {
                    if !self.counting_enabled() {
                        self.at = to;
                        continue;
                    }
                    let t = self.to_zero(self.ce);
                    if armed && k >= t {
                        self.ce = 0;
                        self.at += t;
                        if matches!(self.mode(), 4 | 5) {
                            self.out = false;
                            self.phase = Phase::Strobe;
                        } else {
                            self.out = true;
                            self.phase = Phase::Count { armed: false };
                        }
                    } else {
                        self.ce = self.sub(self.ce, k);
                        self.at = to;
                    }
                }
                Phase::Strobe => {
                    self.out = true;
                    self.ce = self.sub(self.ce, 1);
                    self.phase = Phase::Count { armed: false };
                    self.at += 1;
                }
                Phase::Rate { n, j } => {
                    if !self.gate {
                        self.at = to;
                        continue;
                    }
                    let left = u64::from(n - j);
                    let (n, j) = if k < left {
                        (n, j + k as u32)
                    } else {
                        // Reloads from here on all take the CR.
                        self.null_count = false;
                        let n = self.periodic_count();
                        (n, ((k - left) % u64::from(n)) as u32)
                    };
                    self.phase = Phase::Rate { n, j };
                    self.ce = n - j;
                    self.out = j != n - 1;
                    self.at = to;
                }
                Phase::Square { n, j, high } => {
                    if !self.gate {
                        self.at = to;
                        continue;
                    }
                    let left = u64::from(Self::half_len(n, high) - j);
                    let (n, j, high) = if k < left {
                        (n, j + k as u32, high)
                    } else {
                        self.null_count = false;
                        let n = self.periodic_count();
                        let first = !high;
                        let first_len = Self::half_len(n, first);
                        let pos = ((k - left) % u64::from(n)) as u32;
                        if pos < first_len {
                            (n, pos, first)
                        } else {
                            (n, pos - first_len, !first)
                        }
                    };
                    self.phase = Phase::Square { n, j, high };
                    self.ce = Self::square_ce(n, j, high);
                    self.out = high;
                    self.at = to;
                }
            }
        }
    }

    /// The load edge: the CR goes to the CE and the mode starts its cycle.
    fn load(&mut self) {
        self.at += 1;
        self.null_count = false;
        match self.mode() {
            0 => self.phase = Phase::Count { armed: true },
            1 => {
                self.out = false;
                self.phase = Phase::Count { armed: true };
            }
            4 | 5 => {
                self.out = true;
                self.phase = Phase::Count { armed: true };
            }
            2 => {
                let n = self.periodic_count();
                self.out = true;
                self.ce = n;
                self.phase = Phase::Rate { n, j: 0 };
                return;
            }
            _ => {
                let n = self.periodic_count();
                self.out = true;
                self.ce = n;
                self.phase = Phase::Square {
                    n,
                    j: 0,
                    high: true,
                };
                return;
            }
        }
        self.ce = self.value_of(self.count_register);
    }

    /// Edges after `at` until OUT next changes if nothing is written, or
    /// None if it never will.
    pub fn edges_to_out_change(&self) -> Option<u64> {
        match self.phase {
            Phase::Idle => None,
            Phase::Load => {
                let mut next = self.clone();
                next.advance(self.at + 1);
                if next.out != self.out {
                    Some(1)
                } else {
                    next.edges_to_out_change().map(|d| d + 1)
                }
            }
            Phase::Count { armed } => {
                (armed && self.counting_enabled()).then(|| self.to_zero(self.ce))
            }
            Phase::Strobe => Some(1),
            Phase::Rate { n, j } => {
                self.gate
                    .then_some(if j == n - 1 { 1 } else { u64::from(n - 1 - j) })
            }
            Phase::Square { n, j, high } => {
                self.gate.then_some(u64::from(Self::half_len(n, high) - j))
            }
        }
    }

    /// A control word with RW != 0 for this counter, after edge `at`.
    pub fn program(&mut self, control: u8) {
        // The CE keeps its bits; a switch between binary and BCD reads them
        // the new way.
        let ce = self.ce_raw();
        self.control = control & 0x3f;
        self.ce = self.value_of(ce);
        self.null_count = true;
        self.count_written = false;
        self.write_low = None;
        self.read_msb_next = false;
        // A control word resets the counter's control logic (datasheet,
        // "Write Operations"): latches not yet read are dropped with it.
        self.latched_count = None;
        self.latched_status = None;
        self.out = self.mode() != 0;
        self.phase = Phase::Idle;
    }

    /// A byte written to the counter's port.
    pub fn write_count_byte(&mut self, value: u8) {
        let count = match self.rw() {
            1 => u16::from(value),
            2 => u16::from(value) << 8,
            _ => match self.write_low.take() {
                Some(low) => u16::from(low) | u16::from(value) << 8,
                None => {
                    self.write_low = Some(value);
                    // Mode 0: the first byte stops the count and sets OUT
                    // low at once (datasheet, mode 0).
                    if self.mode() == 0 {
                        self.out = false;
                        self.phase = Phase::Idle;
                    }
                    return;
                }
            },
        };
        self.count_register = count;
        self.count_written = true;
        self.null_count = true;
        match self.mode() {
            0 => {
                self.out = false;
                self.phase = Phase::Load;
            }
            4 => self.phase = Phase::Load,
            // Modes 2 and 3 take a new count at the next reload; the first
            // count after a control word starts them (GATE permitting).
            2 | 3 if self.phase == Phase::Idle && self.gate => self.phase = Phase::Load,
            // Modes 2 and 3 already counting take the count at their next
            // reload; modes 1 and 5 wait for a trigger.
            _ => {}
        }
    }

    /// GATE goes to `level` after edge `at`.
    pub fn set_gate(&mut self, level: bool) {
        if level == self.gate {
            return;
        }
        self.gate = level;
        match self.mode() {
            // Level-sensitive only: counting resumes or stops.
            0 | 4 => {}
            // A rising edge triggers a load on the next edge; in modes 2 and
            // 3 a low GATE stops counting and sets OUT high at once.
            m => {
                if level {
                    if self.count_written {
                        self.phase = Phase::Load;
                    }
                } else if m == 2 || m == 3 {
                    self.out = true;
                }
            }
        }
    }

    /// The counter latch command (or a read-back's count latch). A second
    /// latch before the first is read is ignored (datasheet); so is one in
    /// the middle of an unlatched two-byte read (MAME's measurement).
    pub fn latch_count(&mut self) {
        if self.latched_count.is_some() || (self.rw() == 3 && self.read_msb_next) {
            return;
        }
        let (msb_next, remaining) = match self.rw() {
            1 => (false, 1),
            2 => (true, 1),
            _ => (false, 2),
        };
        self.latched_count = Some(LatchedCount {
            value: self.ce_raw(),
            msb_next,
            remaining,
        });
    }

    /// The read-back's status latch: OUT, null count, then the control bits.
    pub fn latch_status(&mut self) {
        if self.latched_status.is_none() {
            let status = u8::from(self.out) << 7 | u8::from(self.null_count) << 6 | self.control;
            self.latched_status = Some(status);
        }
    }

    /// A read of the counter's port: a latched status first, then a latched
    /// count, else the CE as it counts.
    pub fn read_byte(&mut self) -> u8 {
        if let Some(status) = self.latched_status.take() {
            return status;
        }
        if let Some(mut l) = self.latched_count {
            let byte = if l.msb_next { l.value >> 8 } else { l.value } as u8;
            l.msb_next = !l.msb_next;
            l.remaining -= 1;
            self.latched_count = (l.remaining > 0).then_some(l);
            return byte;
        }
        let ce = self.ce_raw();
        match self.rw() {
            1 => ce as u8,
            2 => (ce >> 8) as u8,
            _ => {
                let msb = self.read_msb_next;
                self.read_msb_next = !msb;
                match self.write_low {
                    // Between the two bytes of a count write the chip reads
                    // back the written low byte inverted (MAME, from a
                    // diagnostic that tests it).
                    Some(low) => !low,
                    None if msb => (ce >> 8) as u8,
                    None => ce as u8,
                }
            }
        }
    }
}

impl ChannelState {
    /// Make a restored state one the chip can be in: a periodic phase whose
    /// count or position is out of range, a CE beyond any count, or a
    /// latched count with no bytes left stops the counter as a control word
    /// would (keeping its programming).
    pub fn sanitize(&mut self) {
        self.control &= 0x3f;
        if self.rw() == 0 {
            // RW 0 is the latch command, never a programmed mode.
            self.control |= 0x30;
        }
        // The largest count: a full turn, or 0xFFFF's weight in BCD.
        let max = if self.bcd() { 16_665 } else { 0x1_0000 };
        let periodic_ok = |n: u32, j: u32, len: u32| (2..=max).contains(&n) && j < len;
        let ok = match self.phase {
            Phase::Rate { n, j } => self.mode() == 2 && periodic_ok(n, j, n),
            Phase::Square { n, j, high } => {
                self.mode() == 3 && periodic_ok(n, j, Self::half_len(n, high))
            }
            Phase::Count { .. } => !matches!(self.mode(), 2 | 3),
            Phase::Strobe => matches!(self.mode(), 4 | 5),
            Phase::Idle | Phase::Load => true,
        };
        if !ok || self.ce > max {
            self.ce = 0;
            self.phase = Phase::Idle;
        }
        // OUT and the CE as the phase implies them, so that OUT changes when
        // `edges_to_out_change` says it does.
        match self.phase {
            Phase::Count { armed: true } => self.out = matches!(self.mode(), 4 | 5),
            Phase::Strobe => self.out = false,
            Phase::Rate { n, j } => {
                self.ce = n - j;
                self.out = !self.gate || j != n - 1;
            }
            Phase::Square { n, j, high } => {
                self.ce = Self::square_ce(n, j, high);
                self.out = !self.gate || high;
            }
            Phase::Load if self.mode() == 0 => self.out = false,
            Phase::Idle | Phase::Load | Phase::Count { armed: false } => {}
        }
        if let Some(l) = self.latched_count {
            if !(1..=2).contains(&l.remaining) {
                self.latched_count = None;
            }
        }
    }
}
