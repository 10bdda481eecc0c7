//! translator: xlat's dynamic binary translator (stage 1).
//!
//! [`Jit::run`] runs guest code block by block: a block is decoded from the
//! guest's code bytes at CS:RIP (fetched through the MMU), translated to
//! host code (see [`emit`] for the code shape and calling convention) and
//! cached by the physical address of its first byte plus the mode bits the
//! translation assumed. Instructions stage 1 does not translate natively
//! are monitor calls into the reference interpreter (`Cpu::execute`), so
//! every result is exactly the interpreter's.
//!
//! Whenever `Cpu::step` would do something other than execute the next
//! instruction (deliver an interrupt, NMI or debug trap, stay halted, honour
//! an interrupt shadow, TF or RF), the JIT leaves generated code and calls
//! `Cpu::step` itself.
//!
//! Writes made to guest memory outside [`Jit::run`] (devices, DMA, image
//! loading) are not seen by the JIT: call [`Jit::invalidate_phys`] or
//! [`Jit::flush`] after them.

mod bus;
pub mod emit;
mod exec;
mod fastmem;
mod monitor;

pub use bus::JitBus;

use cpu_model::exception::{Exception, Fault, SoftwareInterrupt, StopReason};
use cpu_model::interp::StepOutcome;
use cpu_model::mmu::{paging, Access};
use cpu_model::state::CpuMode;
use cpu_model::{Bus, Cpu};
use emit::{Addrs, Kind, Planned};
use exec::{CodeHeap, CodeRef, Ctx, Runtime, EXIT_BRANCH, EXIT_FAULT, EXIT_STOP};
use iced_x86::{Decoder, DecoderError, DecoderOptions, FlowControl, Instruction, Mnemonic};
use lru::LruCache;
use monitor::{MonitorEnv, Snapshot};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

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

/// The cache key: physical address of the first byte plus everything the
/// translation assumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    phys: u64,
    rip: u64,
    mode: CpuMode,
    cpl: u8,
    paging: bool,
    cs_base: u64,
    cs_limit: u32,
}

impl Key {
    fn same_mode(&self, o: &Key) -> bool {
        self.mode == o.mode
            && self.cpl == o.cpl
            && self.paging == o.paging
            && self.cs_base == o.cs_base
            && self.cs_limit == o.cs_limit
    }
}

#[derive(Debug)]
struct Block {
    key: Key,
    code: CodeRef,
    entry: u64,
    len: u64,
    /// The decoded instructions; memory helpers called from the code get
    /// pointers into it, so it lives exactly as long as the code.
    _plan: Box<[Planned]>,
    /// Exit slots (read by `jmp [slot]` in the block's exit stubs).
    slots: [Box<u64>; 2],
    /// Entries into the block, counted by its code (chained entries never
    /// reach the LRU map); `seen` is the count at the last eviction scan:
    /// a block entered since gets a second chance.
    entries: Box<u64>,
    seen: u64,
    /// Exit targets and whether the exit may be chained.
    exits: Vec<(u64, bool)>,
    /// Chained exits of other blocks into this one: (block id, exit).
    incoming: Vec<(u64, usize)>,
    /// The block each exit is chained to.
    chained: [Option<u64>; 2],
    page: u64,
}

const JUMP_CACHE: usize = 4096;

/// The dynamic binary translator: code cache, statistics, run loop.
pub struct Jit {
    config: JitConfig,
    rt: Runtime,
    heap: CodeHeap,
    blocks: HashMap<u64, Block>,
    by_key: LruCache<Key, u64>,
    /// Physical page -> blocks translated from it.
    page_blocks: HashMap<u64, Vec<u64>>,
    /// Pages holding translated code (moved into the `JitBus` during run).
    code_pages: HashSet<u64>,
    /// Exit slot address -> (block id, exit index).
    slot_owner: HashMap<u64, (u64, usize)>,
    jump_cache: Vec<Option<(Key, u64)>>,
    next_id: u64,
    bytes: usize,
    stats: JitStats,
    env: MonitorEnv,
    ctx: Box<Ctx>,
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("config", &self.config)
            .field("blocks", &self.blocks.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

/// Where the block at CS:RIP starts and how many bytes of it can be
/// fetched; None if the fetch would fault (left to `Cpu::step`).
fn block_start(cpu: &mut Cpu, bus: &mut dyn Bus) -> Option<(Key, u64, usize)> {
    let s = &cpu.state;
    let mode = s.mode();
    let rip = s.rip;
    let cs = *s.cs();
    let (lin, avail) = if mode == CpuMode::Long64 {
        if !paging::is_canonical(rip) {
            return None;
        }
        (rip, usize::MAX)
    } else {
        if rip > u64::from(cs.limit) {
            return None;
        }
        let code_max: u64 = if mode.bitness() == 16 {
            0xffff
        } else {
            0xffff_ffff
        };
        let room = u64::from(cs.limit).min(code_max).checked_sub(rip)? + 1;
        (
            cs.base.wrapping_add(rip) & 0xffff_ffff,
            room.min(1 << 16) as usize,
        )
    };
    let user = s.cpl() == 3;
    let cpl = s.cpl();
    let paging_on = s.paging();
    let phys = cpu.translate(bus, lin, Access::exec(user)).ok()?;
    let in_page = (0x1000 - (lin & 0xfff)) as usize;
    let key = Key {
        phys: phys.0,
        rip,
        mode,
        cpl,
        paging: paging_on,
        cs_base: cs.base,
        cs_limit: cs.limit,
    };
    Some((key, lin, in_page.min(avail)))
}

impl Jit {
    pub fn new(config: JitConfig) -> std::io::Result<Jit> {
        Ok(Jit {
            config,
            rt: Runtime::new()?,
            heap: CodeHeap::new(config.cache_bytes),
            blocks: HashMap::new(),
            by_key: LruCache::unbounded(),
            page_blocks: HashMap::new(),
            code_pages: HashSet::new(),
            slot_owner: HashMap::new(),
            jump_cache: vec![None; JUMP_CACHE],
            next_id: 1,
            bytes: 0,
            stats: JitStats::default(),
            env: MonitorEnv::default(),
            ctx: Box::default(),
        })
    }

    /// Guest steps taken so far (cheap; [`Jit::stats`] builds a snapshot).
    pub fn guest_instructions(&self) -> u64 {
        self.stats.guest_instructions
    }

    /// A snapshot of the statistics.
    pub fn stats(&self) -> JitStats {
        let mut s = self.stats.clone();
        s.memory_helper_calls = self.ctx.slow_accesses;
        s.code_cache_bytes = self.bytes as u64;
        for (m, &c) in Mnemonic::values().zip(self.env.by_mnemonic.iter()) {
            if c != 0 {
                s.monitor_calls.insert(format!("{m:?}").to_lowercase(), c);
            }
        }
        s
    }

    /// Number of blocks in the cache.
    pub fn cached_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Drop every translation.
    pub fn flush(&mut self) {
        let ids: Vec<u64> = self.blocks.keys().copied().collect();
        for id in ids {
            self.remove_block(id);
        }
        self.stats.flushes += 1;
    }

    /// Invalidate the translations of the pages in `[start, start + len)`
    /// (for guest memory written outside [`Jit::run`]).
    pub fn invalidate_phys(&mut self, start: u64, len: u64) {
        if len == 0 {
            return;
        }
        let first = start >> 12;
        let last = start.saturating_add(len - 1) >> 12;
        let pages: Vec<u64> = if last - first < self.page_blocks.len() as u64 {
            (first..=last)
                .filter(|p| self.page_blocks.contains_key(p))
                .collect()
        } else {
            self.page_blocks
                .keys()
                .copied()
                .filter(|p| (first..=last).contains(p))
                .collect()
        };
        for p in pages {
            self.invalidate_page(p, "explicit");
        }
    }

    /// Run guest code until `budget` steps have been taken (instructions
    /// retired or events delivered, counted as `Cpu::step` calls) or the
    /// processor halts.
    pub fn run(
        &mut self,
        cpu: &mut Cpu,
        bus: &mut dyn Bus,
        budget: u64,
    ) -> Result<JitExit, StopReason> {
        // Host addresses are only valid while the bus is borrowed.
        self.ctx.fast.flush();
        let mut jb = JitBus::new(bus, std::mem::take(&mut self.code_pages));
        let r = self.run_inner(cpu, &mut jb, budget);
        self.code_pages = jb.into_pages();
        r
    }

    fn run_inner(
        &mut self,
        cpu: &mut Cpu,
        jb: &mut JitBus<'_>,
        budget: u64,
    ) -> Result<JitExit, StopReason> {
        let mut done = 0u64;
        // Exit of the previous block that may be chained to the next one.
        let mut pending_chain: Option<(u64, usize)> = None;
        let mut after_branch = true;
        while done < budget {
            // A halted processor is reported as halted (by `Cpu::step`
            // below), even when RIP, past the HLT, is the stop address.
            if self.config.stop_at == Some(cpu.state.rip) && !cpu.state.events.halted {
                return Ok(JitExit::StopAddress);
            }
            if jb.stop_requested() {
                return Ok(JitExit::StopRequested);
            }
            let block = if monitor::can_run(cpu, jb) {
                self.lookup(cpu, jb, after_branch)
            } else {
                None
            };
            let Some(id) =
                block.filter(|id| self.blocks.get(id).is_some_and(|b| b.len <= budget - done))
            else {
                pending_chain = None;
                after_branch = false;
                if !self.config.deliver_exceptions {
                    let tf = cpu.state.rflags & cpu_model::flags::TF != 0;
                    let r = cpu.execute(jb);
                    self.apply_dirty(jb);
                    match r {
                        Ok(_) if tf => return Ok(JitExit::Exception(Exception::DB)),
                        Ok(_) => {}
                        Err(Fault::Exception(e)) => return Ok(JitExit::Exception(e)),
                        Err(Fault::Trap(t)) => return Ok(JitExit::SoftwareInterrupt(t)),
                        Err(Fault::Stop(s)) => return Err(s),
                    }
                    done += 1;
                    self.stats.guest_instructions += 1;
                    self.stats.interpreter_steps += 1;
                    continue;
                }
                let out = cpu.step(jb);
                self.apply_dirty(jb);
                let out = out?;
                if out == StepOutcome::Halted {
                    return Ok(JitExit::Halted);
                }
                done += 1;
                self.stats.guest_instructions += 1;
                self.stats.interpreter_steps += 1;
                continue;
            };
            // The lookup's page walk may have written (A bits) to a code
            // page: invalidate before running anything.
            self.apply_dirty(jb);
            if let Some((src, k)) = pending_chain.take() {
                self.chain(src, k, id);
            }
            let Some(b) = self.blocks.get(&id) else {
                continue;
            };
            let entry = b.entry;
            // The countdown is signed: a budget beyond i64::MAX is as good
            // as unlimited.
            let left = (budget - done).min(i64::MAX as u64);
            self.ctx.countdown = left as i64;
            self.ctx.block_entries = 0;
            self.env.steps = 0;
            self.env.snapshot = Snapshot::of(cpu);
            self.env.deliver = self.config.deliver_exceptions;
            let code = self.rt.enter(entry, &mut self.ctx, cpu, jb, &mut self.env);
            let used = left - self.ctx.countdown as u64;
            done += used;
            let native = used - self.env.steps;
            cpu.stats.instructions += native;
            self.stats.guest_instructions += used;
            self.stats.native_instructions += native;
            self.stats.chained_transitions += self.ctx.block_entries.saturating_sub(1);
            self.apply_dirty(jb);
            after_branch = code == EXIT_BRANCH;
            if code == EXIT_BRANCH && self.config.chaining {
                pending_chain = self.slot_owner.get(&self.ctx.last_slot).copied();
            }
            if code == EXIT_STOP {
                if let Some(s) = self.env.stop.take() {
                    return Err(s);
                }
            }
            if code == EXIT_FAULT {
                if let Some(e) = self.env.fault.take() {
                    return Ok(JitExit::Exception(e));
                }
            }
        }
        Ok(JitExit::BudgetExhausted)
    }

    /// Patch exit `k` of block `src` to jump into block `dst` if that is
    /// safe: same mode bits, and the target on the same physical page as
    /// the source reached through the same linear page (or paging off).
    fn chain(&mut self, src: u64, k: usize, dst: u64) {
        let Some(d) = self.blocks.get(&dst) else {
            return;
        };
        let (dkey, dentry) = (d.key, d.entry);
        let Some(s) = self.blocks.get_mut(&src) else {
            return;
        };
        let Some(&(target, chainable)) = s.exits.get(k) else {
            return;
        };
        if !chainable || target != dkey.rip || !s.key.same_mode(&dkey) {
            return;
        }
        if s.key.paging && s.key.phys >> 12 != dkey.phys >> 12 {
            return;
        }
        *s.slots[k] = dentry;
        s.chained[k] = Some(dst);
        self.stats.chains_made += 1;
        if let Some(d) = self.blocks.get_mut(&dst) {
            d.incoming.push((src, k));
        }
    }

    fn apply_dirty(&mut self, jb: &mut JitBus<'_>) {
        if jb.dirty.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut jb.dirty);
        for p in dirty {
            if self.invalidate_page(p, "smc") {
                jb.code_pages.remove(&p);
            }
        }
        // Pages whose blocks are all gone no longer need watching.
        jb.code_pages.retain(|p| self.page_blocks.contains_key(p));
    }

    /// Remove every block translated from physical page `page`.
    fn invalidate_page(&mut self, page: u64, reason: &'static str) -> bool {
        let Some(ids) = self.page_blocks.get(&page).cloned() else {
            return false;
        };
        let n = ids.len() as u64;
        for id in ids {
            self.remove_block(id);
        }
        *self.stats.invalidations.entry(reason).or_insert(0) += n;
        true
    }

    fn remove_block(&mut self, id: u64) {
        let Some(b) = self.blocks.remove(&id) else {
            return;
        };
        // Unchain the exits into this block...
        for &(src, k) in &b.incoming {
            if let Some(s) = self.blocks.get_mut(&src) {
                if s.chained[k] == Some(id) {
                    *s.slots[k] = self.rt.exit_branch;
                    s.chained[k] = None;
                }
            }
        }
        // ...and forget this block's own chains in their targets.
        for (k, t) in b.chained.iter().enumerate() {
            if let Some(t) = t.and_then(|t| self.blocks.get_mut(&t)) {
                t.incoming.retain(|&(s, kk)| (s, kk) != (id, k));
            }
        }
        for slot in &b.slots {
            self.slot_owner.remove(&(&**slot as *const u64 as u64));
        }
        if let Some(v) = self.page_blocks.get_mut(&b.page) {
            v.retain(|&x| x != id);
            if v.is_empty() {
                self.page_blocks.remove(&b.page);
                self.code_pages.remove(&b.page);
            }
        }
        self.by_key.pop(&b.key);
        self.bytes -= b.code.len;
        self.heap.free(b.code);
    }

    fn jump_index(key: &Key) -> usize {
        let h = key.phys ^ key.rip.rotate_left(17) ^ key.cs_base.rotate_left(31);
        (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize % JUMP_CACHE
    }

    /// Find or translate the block at CS:RIP; None if it cannot be
    /// translated (the dispatcher then steps the interpreter).
    fn lookup(&mut self, cpu: &mut Cpu, jb: &mut JitBus<'_>, after_branch: bool) -> Option<u64> {
        let (key, _lin, avail) = block_start(cpu, jb)?;
        self.stats.cache_lookups += 1;
        if !after_branch {
            self.stats.indirect_lookups += 1;
        }
        let ji = Self::jump_index(&key);
        if let Some((k, id)) = self.jump_cache[ji] {
            if k == key && self.blocks.contains_key(&id) {
                self.stats.cache_hits += 1;
                self.stats.jump_cache_hits += 1;
                // The LRU order is not refreshed here (a hash operation
                // on every dispatch halved call/return-heavy code): the
                // block's own entry count gives it its second chance at
                // eviction instead.
                return Some(id);
            }
        }
        if let Some(&id) = self.by_key.get(&key) {
            self.stats.cache_hits += 1;
            self.jump_cache[ji] = Some((key, id));
            return Some(id);
        }
        let id = self.translate(jb, key, avail)?;
        self.jump_cache[ji] = Some((key, id));
        Some(id)
    }

    fn translate(&mut self, jb: &mut JitBus<'_>, key: Key, avail: usize) -> Option<u64> {
        let t0 = Instant::now();
        // At most `max` instructions of at most 15 bytes.
        let mut bytes = vec![0u8; avail.min(self.config.max_block_instructions.saturating_mul(15))];
        jb.read_phys(cpu_model::PhysAddr(key.phys), &mut bytes);
        let plan = plan_block(
            &bytes,
            key.rip,
            key.mode.bitness(),
            key.cs_limit,
            &PlanOptions {
                max: self.config.max_block_instructions,
                stop: self.config.stop_at,
                memory: self.config.native_memory,
            },
        )
        .into_boxed_slice();
        if plan.is_empty() {
            return None;
        }
        let slots = [Box::new(self.rt.exit_branch), Box::new(self.rt.exit_branch)];
        let entries = Box::new(0u64);
        let counter = &*entries as *const u64 as u64;
        let slot_addrs = [
            &*slots[0] as *const u64 as u64,
            &*slots[1] as *const u64 as u64,
        ];
        let (mem_read, mem_write, stack) = exec::mem_shim_addrs();
        let addrs = Addrs {
            exit_common: self.rt.exit_common,
            monitor: exec::monitor_shim_addr(),
            mem_read,
            mem_write,
            stack,
        };
        let ins_addr = |i: usize| {
            plan.get(i)
                .map_or(0, |p| &p.ins as *const Instruction as u64)
        };
        let emitted = emit::emit_block(
            &plan,
            key.mode.bitness(),
            &addrs,
            slot_addrs,
            counter,
            &ins_addr,
        )
        .ok()?;
        // Evict least recently used blocks beyond the capacity (before
        // allocating, so the space is reused).
        // A block entered since the last scan (through a chained jump,
        // which the LRU order does not see) goes back to the young end
        // once: LRU with a second chance. Bounded: a block passed over is
        // marked seen, so a second pass finds a victim.
        let mut passes = 0usize;
        let blocks = self.blocks.len();
        while self.bytes + emitted.code.len() > self.config.cache_bytes {
            let Some((k, victim)) = self.by_key.pop_lru() else {
                break;
            };
            if let Some(b) = self.blocks.get_mut(&victim) {
                if *b.entries != b.seen && passes < blocks {
                    b.seen = *b.entries;
                    passes += 1;
                    self.by_key.put(k, victim);
                    continue;
                }
            }
            self.remove_block(victim);
            self.stats.evictions += 1;
        }
        // Fragmentation: never map more than twice the capacity.
        if self.heap.mapped > 2 * self.config.cache_bytes.max(1 << 20) {
            self.flush();
        }
        let code = match self.heap.alloc(&emitted.code) {
            Ok(c) => c,
            Err(exec::HeapLost) => {
                // A mapping could not be (re)protected: drop everything
                // (no block may point into lost memory) and start over.
                self.flush();
                self.heap.clear();
                return None;
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        // Linear page of a RIP (the segment base is part of the key).
        let lin_page = |rip: u64| {
            let lin = key.cs_base.wrapping_add(rip);
            if key.mode == CpuMode::Long64 {
                lin >> 12
            } else {
                (lin & 0xffff_ffff) >> 12
            }
        };
        let exits = emitted
            .exits
            .iter()
            .map(|e| {
                let same_page = lin_page(e.target) == lin_page(key.rip);
                (e.target, same_page || !key.paging)
            })
            .collect();
        for (k, a) in slot_addrs.iter().enumerate() {
            self.slot_owner.insert(*a, (id, k));
        }
        let page = key.phys >> 12;
        self.bytes += code.len;
        let entry = code.addr;
        self.blocks.insert(
            id,
            Block {
                key,
                code,
                entry,
                len: plan.len() as u64,
                _plan: plan,
                slots,
                entries,
                seen: 0,
                exits,
                incoming: Vec::new(),
                chained: [None; 2],
                page,
            },
        );
        self.by_key.put(key, id);
        self.page_blocks.entry(page).or_default().push(id);
        jb.code_pages.insert(page);
        self.ctx.fast.forget_code_page(page);
        self.stats.blocks_translated += 1;
        self.stats.translation_time_ns += t0.elapsed().as_nanos() as u64;
        Some(id)
    }
}

/// Options of [`plan_block`].
#[derive(Clone, Copy, Debug)]
pub struct PlanOptions {
    /// Longest block.
    pub max: usize,
    /// The block ends before this RIP.
    pub stop: Option<u64>,
    /// Native instructions may have a memory operand (helper calls).
    pub memory: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            max: 32,
            stop: None,
            memory: true,
        }
    }
}

/// Decode and classify the instructions of one block from `bytes` (the
/// fetchable code from RIP to the end of its page or the CS limit).
pub fn plan_block(
    bytes: &[u8],
    rip: u64,
    bitness: u32,
    cs_limit: u32,
    opts: &PlanOptions,
) -> Vec<Planned> {
    let (max, stop) = (opts.max, opts.stop);
    let mut dec = Decoder::with_ip(bitness, bytes, rip, DecoderOptions::NONE);
    let mut plan = Vec::new();
    let mut ins = Instruction::default();
    let wrap = |v: u64| match bitness {
        16 => v & 0xffff,
        32 => v & 0xffff_ffff,
        _ => v,
    };
    while plan.len() < max && dec.can_decode() {
        dec.decode_out(&mut ins);
        if dec.last_error() == DecoderError::NoMoreBytes {
            // Crosses the page (or the CS limit): left to a later block,
            // where the interpreter fetches it.
            break;
        }
        // Software interrupts are left to `Cpu::step` (its delivery of
        // them uses interpreter internals): the block ends before one.
        if matches!(
            ins.mnemonic(),
            Mnemonic::Int | Mnemonic::Int3 | Mnemonic::Into | Mnemonic::Int1
        ) {
            break;
        }
        let kind = emit::classify(&ins, bitness, cs_limit, opts.memory);
        let next_rip = wrap(ins.next_ip());
        let ends = match kind {
            Kind::Branch(_) => true,
            Kind::Monitor => {
                ins.flow_control() != FlowControl::Next || ins.mnemonic() == Mnemonic::Hlt
            }
            Kind::Native(_) => false,
        };
        plan.push(Planned {
            ins,
            kind,
            next_rip,
        });
        if ends || next_rip != ins.next_ip() || stop == Some(next_rip) {
            break;
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use emit::{AluOp, Branch, Native, ShOp};

    fn kinds(bits: u32, code: &[u8]) -> Vec<Kind> {
        plan_block(code, 0x1000, bits, 0xffff, &PlanOptions::default())
            .into_iter()
            .map(|p| p.kind)
            .collect()
    }

    #[test]
    fn classification() {
        // add eax, [rbx]: native with a memory-read helper, or a monitor
        // call without native memory.
        assert!(matches!(
            kinds(64, &[0x03, 0x03])[0],
            Kind::Native(Native::Alu {
                op: AluOp::Add,
                src: emit::Src::Mem,
                ..
            })
        ));
        let no_mem = PlanOptions {
            memory: false,
            ..PlanOptions::default()
        };
        assert_eq!(
            plan_block(&[0x03, 0x03], 0, 64, 0, &no_mem)[0].kind,
            Kind::Monitor
        );
        // add [rbx], eax (read-modify-write): native, memory destination;
        // with LOCK: a monitor call.
        assert!(matches!(
            kinds(64, &[0x01, 0x03])[0],
            Kind::Native(Native::MemDst { size: 4, .. })
        ));
        assert_eq!(kinds(64, &[0xf0, 0x01, 0x03]), vec![Kind::Monitor]);
        // xchg [rbx], eax: monitor call.
        assert_eq!(kinds(64, &[0x87, 0x03]), vec![Kind::Monitor]);
        // lock add [rbx], eax: monitor.
        assert_eq!(kinds(64, &[0xf0, 0x01, 0x03]), vec![Kind::Monitor]);
        // shl eax, 0 / shl eax, 32 (masked count 0): monitor; shl eax, 31 native.
        assert_eq!(kinds(64, &[0xc1, 0xe0, 0x00])[0], Kind::Monitor);
        assert_eq!(kinds(64, &[0xc1, 0xe0, 0x20])[0], Kind::Monitor);
        assert!(matches!(
            kinds(64, &[0xc1, 0xe0, 0x1f])[0],
            Kind::Native(Native::Shift {
                op: ShOp::Shl,
                count: 31,
                ..
            })
        ));
        // shl al, 8 (count = width, CF undefined): monitor.
        assert_eq!(kinds(64, &[0xc0, 0xe0, 0x08])[0], Kind::Monitor);
        // xor ah, bh: native with high-byte locations.
        assert!(matches!(
            kinds(64, &[0x30, 0xfc])[0],
            Kind::Native(Native::Alu {
                op: AluOp::Xor,
                size: 1,
                ..
            })
        ));
        // mov ds, ax: monitor (segment load).
        assert_eq!(kinds(16, &[0x8e, 0xd8])[0], Kind::Monitor);
    }

    #[test]
    fn blocks_end_at_branches_and_limits() {
        // inc eax; jmp +0; inc eax: the block ends at the JMP.
        let k = kinds(32, &[0x40, 0xeb, 0x00, 0x40]);
        assert_eq!(k.len(), 2);
        assert_eq!(k[1], Kind::Branch(Branch::Jmp { target: 0x1003 }));
        // A JMP beyond the CS limit (0xffff) is left to the interpreter
        // (#GP): jmp rel32 to 0x11005.
        let k = kinds(32, &[0xe9, 0x00, 0x00, 0x01, 0x00]);
        assert_eq!(k, vec![Kind::Monitor]);
        // An instruction cut by the end of the fetchable bytes is not in
        // the block.
        assert_eq!(kinds(32, &[0x40, 0x90, 0xb8, 0x01]).len(), 2);
        // At most `max` instructions.
        let opts = PlanOptions::default();
        assert_eq!(plan_block(&[0x90; 100], 0x1000, 64, 0, &opts).len(), 32);
        // The block stops before `stop`.
        let opts = PlanOptions {
            stop: Some(0x1005),
            ..opts
        };
        assert_eq!(plan_block(&[0x90; 100], 0x1000, 64, 0, &opts).len(), 5);
    }

    /// Chain bookkeeping stays exact under eviction churn: every incoming
    /// record names a live block whose exit is chained here.
    #[test]
    fn chain_records_stay_consistent() {
        use cpu_model::memory::FlatBus;
        use cpu_model::state::{SegReg, Segment};
        // Real mode: four blocks in a loop (inc ax; jmp next) x4, dec cx; jnz.
        let code: [u8; 16] = [
            0x40, 0xeb, 0x02, 0x90, 0x90, // 1000: inc ax; jmp 1005
            0x43, 0xeb, 0x00, // 1005: inc bx; jmp 1008
            0x46, 0xeb, 0x00, // 1008: inc si; jmp 100b
            0x49, 0x75, 0xf2, // 100b: dec cx; jnz 1000 (0x100e - 14)
            0xf4, 0x90, // 100e: hlt
        ];
        for cache in [1usize, 150, 300, 1 << 20] {
            let mut bus = FlatBus::new(1 << 20);
            bus.ram[0x1000..0x1010].copy_from_slice(&code);
            let mut cpu = Cpu::new();
            cpu.state.seg[SegReg::Cs as usize] = Segment::real_mode(0);
            cpu.state.rip = 0x1000;
            cpu.state.gpr[1] = 300;
            let mut jit = Jit::new(JitConfig {
                cache_bytes: cache,
                ..JitConfig::default()
            })
            .unwrap();
            assert_eq!(
                jit.run(&mut cpu, &mut bus, 100_000).unwrap(),
                JitExit::Halted
            );
            assert_eq!(cpu.state.gpr[0], 300);
            for (&id, b) in &jit.blocks {
                for &(src, k) in &b.incoming {
                    let s = &jit.blocks[&src];
                    assert_eq!(s.chained[k], Some(id));
                    assert_eq!(*s.slots[k], b.entry);
                }
                for (k, t) in b.chained.iter().enumerate() {
                    if let Some(t) = t {
                        assert!(jit.blocks[t].incoming.contains(&(id, k)));
                    }
                }
            }
            if cache > 1000 {
                assert!(jit.stats().chains_made >= 4);
            } else {
                assert!(jit.stats().evictions > 10);
            }
        }
    }

    #[test]
    fn block_sizes() {
        // mov ecx, 50; add eax, ecx; jmp
        let code = [0xb9, 50, 0, 0, 0, 0x01, 0xc8, 0xeb, 0x00];
        let plan = plan_block(&code, 0x1000, 64, 0, &PlanOptions::default());
        assert_eq!(plan.len(), 3);
        let addrs = Addrs {
            exit_common: 0x1111,
            monitor: 0x2222,
            mem_read: 0x5555,
            mem_write: 0x6666,
            stack: 0x7777,
        };
        let e = emit::emit_block(&plan, 64, &addrs, [0x3333, 0x4444], 0x5555, &|_| 0).unwrap();
        assert!(e.code.len() < 300, "{}", e.code.len());
    }
}
