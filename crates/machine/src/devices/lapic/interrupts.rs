//! Interrupt acceptance and delivery to the core (SDM 11.8: IRR, ISR and
//! TMR, the TPR/PPR test, acknowledge, EOI; 11.9 spurious interrupts),
//! the local interrupt sources of the LVT (11.5.1: LINT0/LINT1 pins,
//! timer, error), the error status register (11.5.3), and the signals
//! (SMI, INIT, SIPI, NMI) latched for the core.

use super::vectors::{self, processor_priority};
use super::{
    DeliveryMode, Lapic, Pending, Trigger, DM_EXTINT, DM_FIXED, DM_INIT, DM_NMI, DM_SMI,
    ESR_RECEIVE_ILLEGAL_VECTOR, LVT_DELIVERY_MODE, LVT_ERROR, LVT_LEVEL, LVT_LINT0, LVT_MASKED,
    LVT_POLARITY_LOW, LVT_VECTOR, SVR_VECTOR,
};

impl Lapic {
    /// An interrupt for this unit (from the IOAPIC, an MSI, a LINT pin or
    /// an IPI) into the IRR, its TMR bit set for level, cleared for edge.
    /// Vectors 0–15 are illegal: not accepted, and the ESR's "receive
    /// illegal vector" is set. A software-disabled or globally disabled
    /// unit accepts nothing. Returns whether it was accepted (a vector
    /// already requested is accepted again into the same IRR bit).
    pub fn accept(&mut self, vector: u8, trigger: Trigger) -> bool {
        if !self.enabled() || !self.software_enabled() {
            return false;
        }
        if vector < 16 {
            self.raise_error(ESR_RECEIVE_ILLEGAL_VECTOR);
            return false;
        }
        let s = &mut self.state;
        vectors::set(&mut s.irr, vector);
        match trigger {
            Trigger::Edge => vectors::clear(&mut s.tmr, vector),
            Trigger::Level => vectors::set(&mut s.tmr, vector),
        }
        true
    }

    /// A message on the system bus that chose this unit (its destination
    /// matched, see [`Lapic::matches`]): fixed and lowest-priority ones go
    /// to the IRR, the others are latched for the core. A globally
    /// disabled unit takes no message.
    pub fn deliver(&mut self, mode: DeliveryMode, vector: u8, trigger: Trigger) {
        if !self.enabled() {
            return;
        }
        let signals = &mut self.state.signals;
        match mode {
            DeliveryMode::Fixed | DeliveryMode::LowestPriority => {
                self.accept(vector, trigger);
            }
            DeliveryMode::Smi => signals.smi = true,
            DeliveryMode::Nmi => signals.nmi = true,
            DeliveryMode::Init => signals.init = true,
            DeliveryMode::Startup => signals.startup = Some(vector),
            DeliveryMode::ExtInt => signals.extint = true,
        }
    }

    /// Detected errors into the ESR's accumulator; a newly set bit raises
    /// the LVT error interrupt.
    pub(super) fn raise_error(&mut self, bits: u32) {
        let mut bits = bits;
        loop {
            let new = bits & !self.state.esr_pending;
            self.state.esr_pending |= bits;
            let lvt = self.state.lvt[LVT_ERROR];
            if new == 0 || lvt & LVT_MASKED != 0 || !self.software_enabled() {
                return;
            }
            let vector = (lvt & LVT_VECTOR) as u8;
            if vector >= 16 {
                self.accept(vector, Trigger::Edge);
                return;
            }
            // The error entry's own vector is illegal: flagged once.
            bits = ESR_RECEIVE_ILLEGAL_VECTOR;
        }
    }

    /// An LVT entry other than LINT fires (timer, error, thermal,
    /// performance): always edge-triggered.
    pub(super) fn deliver_local(&mut self, entry: usize) {
        let lvt = self.state.lvt[entry];
        if lvt & LVT_MASKED != 0 {
            return;
        }
        let vector = (lvt & LVT_VECTOR) as u8;
        match (lvt & LVT_DELIVERY_MODE) >> 8 {
            DM_FIXED => {
                self.accept(vector, Trigger::Edge);
            }
            DM_SMI => self.state.signals.smi = true,
            DM_NMI => self.state.signals.nmi = true,
            DM_INIT => self.state.signals.init = true,
            // ExtINT is a level on a pin (see `extint_requested`); the
            // other modes are reserved.
            _ => {}
        }
    }

    /// LINT `pin` (0 or 1; others are ignored) goes to `level` (high =
    /// true). With the unit globally disabled the pins are the core's
    /// INTR (LINT0: see [`Pending::ExtInt`]) and NMI (LINT1, rising
    /// edge).
    pub fn set_lint(&mut self, pin: usize, level: bool) {
        let Some(&old) = self.state.lint_levels.get(pin) else {
            return;
        };
        self.state.lint_levels[pin] = level;
        if !self.enabled() {
            if pin == 1 && level && !old {
                self.state.signals.nmi = true;
            }
            return;
        }
        let lvt = self.state.lvt[LVT_LINT0 + pin];
        if lvt & LVT_MASKED != 0 {
            return;
        }
        let low = lvt & LVT_POLARITY_LOW != 0;
        let rising = (level != low) && (old == low);
        match (lvt & LVT_DELIVERY_MODE) >> 8 {
            DM_FIXED if self.lint_is_fixed_level(pin) => self.sample_level_lint(pin),
            DM_FIXED | DM_SMI | DM_NMI | DM_INIT if rising => self.deliver_local(LVT_LINT0 + pin),
            _ => {}
        }
    }

    /// Is LINT `pin` programmed for fixed level-triggered delivery (which
    /// only LINT0 supports)?
    pub(super) fn lint_is_fixed_level(&self, pin: usize) -> bool {
        let lvt = self.state.lvt[LVT_LINT0 + pin];
        pin == 0 && lvt & LVT_DELIVERY_MODE == DM_FIXED << 8 && lvt & LVT_LEVEL != 0
    }

    /// A fixed level-triggered LINT that is asserted, unmasked and not
    /// waiting for its EOI (remote IRR clear) requests its vector.
    pub(super) fn sample_level_lint(&mut self, pin: usize) {
        let lvt = self.state.lvt[LVT_LINT0 + pin];
        let asserted = self.state.lint_levels[pin] != (lvt & LVT_POLARITY_LOW != 0);
        if !self.lint_is_fixed_level(pin)
            || !asserted
            || lvt & LVT_MASKED != 0
            || self.state.lint_remote_irr[pin]
        {
            return;
        }
        if self.accept((lvt & LVT_VECTOR) as u8, Trigger::Level) {
            self.state.lint_remote_irr[pin] = true;
        }
    }

    /// Does the core have an ExtINT request (a level: the 8259A's INTR
    /// through a LINT pin, or an ExtINT message until acknowledged)?
    fn extint_requested(&self) -> bool {
        let s = &self.state;
        if !self.enabled() {
            return s.lint_levels[0];
        }
        s.signals.extint
            || (0..2).any(|pin| {
                let lvt = s.lvt[LVT_LINT0 + pin];
                lvt & LVT_MASKED == 0
                    && lvt & LVT_DELIVERY_MODE == DM_EXTINT << 8
                    && s.lint_levels[pin] != (lvt & LVT_POLARITY_LOW != 0)
            })
    }

    /// The highest requested vector whose class is above the processor
    /// priority's (11.8.3), if any.
    fn deliverable_vector(&self) -> Option<u8> {
        if !self.enabled() {
            return None;
        }
        let s = &self.state;
        let v = vectors::highest(&s.irr)?;
        (v >> 4 > self.ppr() >> 4).then_some(v)
    }

    /// The processor priority register.
    pub fn ppr(&self) -> u8 {
        processor_priority(self.state.tpr, &self.state.isr)
    }

    /// What the unit asks of the core now (as of the last update), most
    /// urgent first; None if nothing.
    pub fn pending(&self) -> Option<Pending> {
        let g = &self.state.signals;
        if g.smi {
            Some(Pending::Smi)
        } else if g.init {
            Some(Pending::Init)
        } else if let Some(v) = g.startup {
            Some(Pending::Startup(v))
        } else if g.nmi {
            Some(Pending::Nmi)
        } else if self.extint_requested() {
            Some(Pending::ExtInt)
        } else {
            self.deliverable_vector().map(Pending::Fixed)
        }
    }

    /// The unit's interrupt output to the core: is anything pending?
    pub fn irq(&self) -> bool {
        self.pending().is_some()
    }

    /// The core takes the most urgent signal (SMI, INIT, start-up, NMI)
    /// into its own latches; None if there is none (maskable interrupts
    /// stay here).
    pub fn take_signal(&mut self) -> Option<Pending> {
        let g = &mut self.state.signals;
        if std::mem::take(&mut g.smi) {
            Some(Pending::Smi)
        } else if std::mem::take(&mut g.init) {
            Some(Pending::Init)
        } else if let Some(v) = g.startup.take() {
            Some(Pending::Startup(v))
        } else if std::mem::take(&mut g.nmi) {
            Some(Pending::Nmi)
        } else {
            None
        }
    }

    /// The CPU has run the 8259A's INTA cycle for an ExtINT message.
    pub fn acknowledge_extint(&mut self) {
        self.state.signals.extint = false;
    }

    /// The CPU's acknowledge of a fixed interrupt: the highest deliverable
    /// vector moves from the IRR to the ISR and is returned. If none is
    /// deliverable any more (the TPR was raised or the request withdrawn
    /// since [`Lapic::pending`]), the spurious vector, with no ISR bit set
    /// (11.9): its handler must not send an EOI.
    pub fn acknowledge(&mut self) -> u8 {
        match self.deliverable_vector() {
            Some(v) => {
                vectors::clear(&mut self.state.irr, v);
                vectors::set(&mut self.state.isr, v);
                v
            }
            None => (self.state.svr & SVR_VECTOR) as u8,
        }
    }

    /// An EOI (a write to the EOI register): the highest vector in
    /// service is done. If its TMR bit is set the EOI is broadcast: the
    /// vector is returned for the IOAPICs; a fixed level-triggered LINT0
    /// with that vector clears its remote IRR and is sampled again.
    pub fn eoi(&mut self) -> Option<u8> {
        let v = vectors::highest(&self.state.isr)?;
        vectors::clear(&mut self.state.isr, v);
        if !vectors::test(&self.state.tmr, v) {
            return None;
        }
        for pin in 0..2 {
            let lvt = self.state.lvt[LVT_LINT0 + pin];
            if self.state.lint_remote_irr[pin] && (lvt & LVT_VECTOR) as u8 == v {
                self.state.lint_remote_irr[pin] = false;
                self.sample_level_lint(pin);
            }
        }
        Some(v)
    }
}
