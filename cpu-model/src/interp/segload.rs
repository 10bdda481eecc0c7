//! Segment-register loads and the descriptor-table instructions.
//! SDM Vol. 3 §3.4.3, §5.4–5.6; Vol. 2 "MOV" (Sreg forms), "LDS/LES/LFS/LGS/LSS".

use super::Table;
use crate::exception::{Fault, StopReason};
use crate::memory::Bus;
use crate::state::SegReg;
use crate::Cpu;

pub(super) fn register(_t: &mut Table) {}

impl Cpu {
    /// Load a data or stack segment register (DS, ES, FS, GS, SS) with the
    /// checks of the current mode. Nothing changes if it faults.
    /// (Used by MOV Sreg, POP Sreg, LDS/LES/LFS/LGS/LSS.)
    pub fn load_segment(
        &mut self,
        _bus: &mut dyn Bus,
        seg: SegReg,
        selector: u16,
    ) -> Result<(), Fault> {
        if !self.state.protected() || self.state.v86() {
            self.state.load_segment_real(seg, selector);
            return Ok(());
        }
        Err(StopReason::Unsupported("protected-mode segment load").into())
    }
}
