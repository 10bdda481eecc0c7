//! The x87 register stack, tags, status flags and the last-instruction
//! pointers (SDM Vol. 1 §8.1, §8.5).
//!
//! `fx.st[i]` is ST(i) (stack order); the tag bit of ST(i) is bit
//! (TOP + i) mod 8 of the abridged tag word. A pop leaves the value in its
//! physical register (now ST(7)), tagged empty; a push overwrites that
//! register.

use crate::fxstate::{fsw, X87Reg};
use crate::memory::Bus;
use crate::mmu::Access;
use crate::Cpu;
use hostfp::{sw, F80};
use iced_x86::{Instruction, OpKind};

/// The QNaN floating-point indefinite: the masked response to an invalid
/// operation (SDM Vol. 1 §4.8.3.7).
pub(super) const INDEFINITE: F80 = F80 {
    signif: 0xc000_0000_0000_0000,
    sign_exp: 0xffff,
};

pub(super) fn to_f80(r: X87Reg) -> F80 {
    F80 {
        signif: r.signif,
        sign_exp: r.sign_exp,
    }
}

fn to_reg(v: F80) -> X87Reg {
    X87Reg {
        signif: v.signif,
        sign_exp: v.sign_exp,
        reserved: [0; 6],
    }
}

/// The result of handling an operation's flags: write the result or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Write,
    /// An unmasked invalid-operation, zero-divide or denormal exception:
    /// the destination (and the stack) stay as they are.
    Suppress,
}

impl Cpu {
    fn tag_bit(&self, i: usize) -> u8 {
        1 << ((usize::from(self.state.fx.top()) + i) & 7)
    }

    /// Is ST(i) empty?
    pub(super) fn st_empty(&self, i: usize) -> bool {
        self.state.fx.ftw & self.tag_bit(i) == 0
    }

    pub(super) fn st(&self, i: usize) -> F80 {
        to_f80(self.state.fx.st[i & 7])
    }

    /// ST(i) := v, tagged not empty.
    pub(super) fn set_st(&mut self, i: usize, v: F80) {
        let bit = self.tag_bit(i);
        self.state.fx.st[i & 7] = to_reg(v);
        self.state.fx.ftw |= bit;
    }

    fn set_top(&mut self, top: u8) {
        let f = &mut self.state.fx.fsw;
        *f = (*f & !fsw::TOP) | (u16::from(top & 7) << fsw::TOP_SHIFT);
    }

    /// Push `v` (the caller has checked ST(7) for overflow).
    pub(super) fn push_st(&mut self, v: F80) {
        let top = self.state.fx.top().wrapping_sub(1) & 7;
        self.set_top(top);
        self.state.fx.st.rotate_right(1);
        self.set_st(0, v);
    }

    /// Pop ST(0): its register is tagged empty, TOP moves up.
    pub(super) fn pop_st(&mut self) {
        let bit = self.tag_bit(0);
        self.state.fx.ftw &= !bit;
        let top = self.state.fx.top().wrapping_add(1) & 7;
        self.set_top(top);
        self.state.fx.st.rotate_left(1);
    }

    /// FINCSTP/FDECSTP: TOP moves, no tag changes.
    pub(super) fn rotate_top(&mut self, up: bool) {
        let top = self.state.fx.top();
        if up {
            self.set_top(top.wrapping_add(1));
            self.state.fx.st.rotate_left(1);
        } else {
            self.set_top(top.wrapping_sub(1));
            self.state.fx.st.rotate_right(1);
        }
    }

    /// FFREE ST(i).
    pub(super) fn free_st(&mut self, i: usize) {
        let bit = self.tag_bit(i);
        self.state.fx.ftw &= !bit;
    }

    /// Raise x87 exception flags `flags` (FSW bits 0-5): the summary bits
    /// ES and B follow the unmasked ones.
    pub(super) fn raise_x87(&mut self, flags: u16) {
        let fx = &mut self.state.fx;
        fx.fsw |= flags & fsw::EXCEPTIONS;
        if fx.fsw & fsw::EXCEPTIONS & !fx.fcw != 0 {
            fx.fsw |= fsw::ES | fsw::B;
        }
    }

    fn masked(&self, flag: u16) -> bool {
        self.state.fx.fcw & flag != 0
    }

    /// Set C1 (or clear it).
    pub(super) fn set_c1(&mut self, on: bool) {
        if on {
            self.state.fx.fsw |= fsw::C1;
        } else {
            self.state.fx.fsw &= !fsw::C1;
        }
    }

    /// Stack underflow (an empty register read) or overflow (a push onto
    /// a full one): IE and SF, C1 = `overflow` (SDM Vol. 1 §8.5.1.1).
    /// Returns whether the masked response (the indefinite) applies.
    pub(super) fn stack_fault(&mut self, overflow: bool) -> bool {
        self.state.fx.fsw |= fsw::SF;
        self.set_c1(overflow);
        self.raise_x87(sw::IE);
        self.masked(sw::IE)
    }

    /// Apply the flags an arithmetic operation computed on the host (see
    /// `hostfp`): an invalid operation, a zero divide, or an unmasked
    /// denormal operand stop the operation before it produces anything;
    /// otherwise every flag is raised and C1 is the host's (rounded up).
    pub(super) fn arith_flags(&mut self, status: u16) -> Outcome {
        let exc = status & fsw::EXCEPTIONS;
        let stop = if exc & sw::IE != 0 {
            Some(sw::IE)
        } else if exc & sw::ZE != 0 {
            Some(sw::ZE | (exc & sw::DE))
        } else if exc & sw::DE != 0 && !self.masked(sw::DE) {
            Some(sw::DE)
        } else {
            None
        };
        match stop {
            Some(f) => {
                self.set_c1(false);
                self.raise_x87(f);
                if f & !self.state.fx.fcw & fsw::EXCEPTIONS != 0 {
                    Outcome::Suppress
                } else {
                    Outcome::Write
                }
            }
            None => {
                self.set_c1(status & sw::C1 != 0);
                self.raise_x87(exc);
                Outcome::Write
            }
        }
    }

    /// The last-instruction pointers of a non-control x87 instruction
    /// (SDM Vol. 1 §8.1.8-8.1.9): FIP/FCS its address, FOP the low 3 bits
    /// of its D8-DF opcode byte and its ModR/M byte, FDP/FDS its memory
    /// operand's (kept for register forms). (xlat keeps FOP up to date as
    /// in the "FOP compatibility" mode, as QEMU does.)
    pub(super) fn x87_pointers(&mut self, bus: &mut dyn Bus, ins: &Instruction) {
        let start = self.instruction_start();
        let fop = self.fetch_fop(bus, start, ins.len());
        let st = &mut self.state;
        st.fx.fip = start;
        st.fcs = st.cs().selector;
        st.fx.fop = fop;
        if (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory) {
            let seg = Cpu::mem_segment(ins);
            self.state.fx.fdp = self.effective_address(ins);
            self.state.fds = self.state.segment(seg).selector;
        }
    }

    /// The instruction's bytes again (it was just fetched, so this cannot
    /// fault short of a page-table change; then FOP is 0): after the
    /// prefixes, the D8-DF opcode byte and the ModR/M byte.
    fn fetch_fop(&mut self, bus: &mut dyn Bus, start: u64, len: usize) -> u16 {
        let mut b = [0u8; 15];
        let len = len.min(15);
        let lin = self.wrap_linear(self.state.cs().base.wrapping_add(start));
        let user = self.user_access();
        if self
            .read_linear(bus, lin, &mut b[..len], Access::exec(user))
            .is_err()
        {
            return 0;
        }
        b[..len]
            .iter()
            .position(|x| (0xd8..=0xdf).contains(x))
            .and_then(|i| Some((u16::from(b[i] & 7) << 8) | u16::from(*b.get(i + 1)?)))
            .unwrap_or(0)
    }
}
