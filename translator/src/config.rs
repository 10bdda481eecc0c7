//! The translator's configuration, exit reasons and statistics.

use cpu_model::exception::{Exception, SoftwareInterrupt};
use std::collections::BTreeMap;

/// Configuration of a [`Jit`].
#[derive(Clone, Copy, Debug)]
pub struct JitConfig {
    /// Capacity of the code cache in bytes of emitted host code; least
    /// recently used blocks are evicted beyond it.
    pub cache_bytes: usize,
    /// Longest block, in guest instructions.
    pub max_block_instructions: usize,
    /// Patch direct-branch exits to jump straight into their target block.
    pub chaining: bool,
    /// Deliver exceptions through the IDT/IVT as `Cpu::step` does (the
    /// default). When false, nothing is delivered: a fault is returned as
    /// [`JitExit::Exception`] with the precise state of the faulting
    /// instruction (as `Cpu::execute` leaves it), a single-step trap (TF
    /// set at the start of an instruction) as `Exception(DB)` once the
    /// instruction retired. For the differential oracle and debuggers.
    pub deliver_exceptions: bool,
    /// Run register/memory forms of native instructions (MOV, ALU, MOVZX,
    /// CMOVcc with a memory source; MOV to memory) as host code with a
    /// call to the interpreter's operand access for the memory operand,
    /// instead of a monitor call for the whole instruction.
    pub native_memory: bool,
    /// Return [`JitExit::StopAddress`] when RIP reaches this address at an
    /// instruction boundary (blocks end before it).
    pub stop_at: Option<u64>,
    /// Interpret for a while a page whose translations are dropped by
    /// writes to its code before they have paid for themselves (the
    /// self-modifying-code policy of `smc.rs`; the default). When false,
    /// code is translated again after every write, however often (for
    /// tests of the invalidation machinery itself).
    pub smc_cooldowns: bool,
}

impl Default for JitConfig {
    fn default() -> Self {
        JitConfig {
            cache_bytes: 32 << 20,
            max_block_instructions: 32,
            chaining: true,
            deliver_exceptions: true,
            native_memory: true,
            stop_at: None,
            smc_cooldowns: true,
        }
    }
}

/// Why [`Jit::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JitExit {
    /// `budget` steps have been taken.
    BudgetExhausted,
    /// The processor is halted and no event woke it (as
    /// `StepOutcome::Halted`).
    Halted,
    /// RIP reached [`JitConfig::stop_at`].
    StopAddress,
    /// A device asked the machine to stop ([`Bus::stop_requested`]); the
    /// instruction that asked has retired.
    StopRequested,
    /// An exception was raised and not delivered
    /// ([`JitConfig::deliver_exceptions`] is false).
    Exception(Exception),
    /// INT n / INT3 / INTO / INT1 retired and was not delivered
    /// ([`JitConfig::deliver_exceptions`] is false); RIP is after it.
    SoftwareInterrupt(SoftwareInterrupt),
}

/// Counters kept as the JIT runs.
#[derive(Clone, Debug, Default)]
pub struct JitStats {
    /// Guest steps taken (instructions retired plus events delivered).
    pub guest_instructions: u64,
    /// Guest instructions run as native host code.
    pub native_instructions: u64,
    /// Steps taken by `Cpu::step` outside generated code.
    pub interpreter_steps: u64,
    pub blocks_translated: u64,
    pub cache_lookups: u64,
    pub cache_hits: u64,
    /// Lookups answered by the jump cache (keyed by physical address, RIP
    /// and mode) without touching the LRU map.
    pub jump_cache_hits: u64,
    /// Lookups after an exit that was not a direct branch (monitor calls:
    /// indirect branches, returns, interrupts, ...).
    pub indirect_lookups: u64,
    /// Exits patched into direct jumps.
    pub chains_made: u64,
    /// Block entries through a patched jump (no return to the dispatcher).
    pub chained_transitions: u64,
    /// Memory operands of native instructions accessed through a helper
    /// call into the interpreter (the inline fast path missed or was not
    /// emitted: PUSH/POP, MMIO, first touch of a page, page-crossing...).
    pub memory_helper_calls: u64,
    pub evictions: u64,
    /// Self-modifying-code cooldowns begun: times a page was put to be
    /// interpreted for a while because translating its code again would
    /// not have paid (see `smc.rs`; a page may count several times).
    pub smc_interpreted_pages: u64,
    /// Steps the interpreter took because the code's page was in its
    /// cooldown.
    pub smc_interpreted_steps: u64,
    /// Self-modifying-code invalidations after which the page's dropped
    /// blocks had run enough natively to pay for their translation (the
    /// page's backoff starts over).
    pub smc_profitable: u64,
    /// The longest cooldown begun, in steps (it doubles each time a page
    /// turns out hot again).
    pub smc_longest_cooldown: u64,
    /// Blocks invalidated, by reason ("smc", "explicit").
    pub invalidations: BTreeMap<&'static str, u64>,
    pub flushes: u64,
    /// Monitor calls by mnemonic.
    pub monitor_calls: BTreeMap<String, u64>,
    pub translation_time_ns: u64,
    /// Host code bytes currently in the cache.
    pub code_cache_bytes: u64,
}

impl JitStats {
    /// Block entries: every transfer into a translated block is either a
    /// dispatcher lookup or a chained jump.
    pub fn block_entries(&self) -> u64 {
        self.cache_lookups + self.chained_transitions
    }

    /// The code cache hit rate: the share of block entries served by code
    /// already in the cache, `(cache_hits + chained_transitions) /
    /// (cache_lookups + chained_transitions)`. A chained jump is a hit
    /// that never needs a lookup; every miss is a translation. 1.0 when
    /// nothing was entered.
    pub fn cache_hit_rate(&self) -> f64 {
        let entries = self.block_entries();
        if entries == 0 {
            return 1.0;
        }
        (self.cache_hits + self.chained_transitions) as f64 / entries as f64
    }
}
