//! cpu-model: the architectural state, MMU and reference interpreter of an
//! x86-64 processor. It knows nothing of devices or code generation; the
//! platform is reached only through [`memory::Bus`].

pub mod cpuid_bits;
pub mod exception;
pub mod flags;
pub mod fxstate;
pub mod interp;
pub mod memory;
pub mod mmu;
pub mod model;
pub mod state;
pub mod xstate;

pub use exception::{Exception, Fault, StopReason};
pub use memory::{Bus, LinearAddr, PhysAddr};
pub use model::CpuModel;
pub use state::{CpuMode, CpuState, SegReg};

use std::collections::BTreeMap;

/// Counters the interpreter keeps as it runs.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Instructions retired.
    pub instructions: u64,
    /// Exceptions delivered, by vector.
    pub exceptions: [u64; 32],
    /// Instructions that decoded but that xlat does not implement; each
    /// raised #UD in the guest. Keyed by iced-x86 mnemonic name.
    pub unimplemented: BTreeMap<String, u64>,
    /// Instructions xlat implements but the CPU model does not advertise
    /// (e.g. POPCNT under `qemu64`); each raised #UD in the guest, as on a
    /// processor without the feature. Keyed by iced-x86 mnemonic name.
    pub not_in_model: BTreeMap<String, u64>,
}

/// One logical processor: architectural state plus the caches and
/// bookkeeping that belong to it.
#[derive(Debug)]
pub struct Cpu {
    pub state: CpuState,
    pub tlb: mmu::tlb::Tlb,
    pub stats: Stats,
    /// What CPUID says and which instructions exist (fixed for the
    /// processor's life).
    pub model: &'static CpuModel,
    /// Register values as of the start of the current instruction (or of the
    /// last committed iteration of a REP string instruction): restored when
    /// the instruction faults, so faults are precise.
    checkpoint: interp::Checkpoint,
    /// Set by a REP string instruction that stopped before its count ran
    /// out (to let events in); it runs on at the next step and has not
    /// retired yet.
    rep_unfinished: bool,
}

impl Default for Cpu {
    fn default() -> Self {
        Self::new()
    }
}

impl Cpu {
    /// A processor of the default model ([`model::XLAT`]) in its RESET
    /// state.
    pub fn new() -> Cpu {
        Cpu::with_model(&model::XLAT)
    }

    /// A processor of `model` in its RESET state (EDX holds the model's
    /// signature).
    pub fn with_model(model: &'static CpuModel) -> Cpu {
        let mut state = CpuState::reset();
        state.gpr[state::reg::RDX] = u64::from(model.signature);
        Cpu {
            state,
            tlb: mmu::tlb::Tlb::new(),
            stats: Stats::default(),
            model,
            checkpoint: interp::Checkpoint::default(),
            rep_unfinished: false,
        }
    }
}
