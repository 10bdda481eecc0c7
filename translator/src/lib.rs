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

mod blocks;
mod bus;
mod codeheap;
mod config;
pub mod emit;
mod exec;
mod fastmem;
mod invalidate;
mod monitor;
pub mod smc;

pub use blocks::{plan_block, PlanOptions};
pub use bus::JitBus;
pub use config::{JitConfig, JitExit, JitStats};

use codeheap::{CodeHeap, CodeRef};
use cpu_model::exception::{Exception, Fault, StopReason};
use cpu_model::interp::StepOutcome;
use cpu_model::mmu::{paging, Access};
use cpu_model::state::CpuMode;
use cpu_model::{Bus, Cpu, CpuModel};
use emit::{Addrs, Planned};
use exec::{Ctx, Runtime, EXIT_BRANCH, EXIT_FAULT, EXIT_STOP};
use iced_x86::{Instruction, Mnemonic};
use lru::LruCache;
use monitor::{MonitorEnv, Snapshot};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

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
    /// What native SSE/CRC32 instructions assumed (`emit::SimdEnv`).
    simd: emit::SimdEnv,
}

impl Key {
    fn same_mode(&self, o: &Key) -> bool {
        self.mode == o.mode
            && self.cpl == o.cpl
            && self.paging == o.paging
            && self.cs_base == o.cs_base
            && self.cs_limit == o.cs_limit
            && self.simd == o.simd
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
    /// Runs of the block (entries and loop passes), counted by its code
    /// (chained entries never reach the LRU map); `seen` is the count at
    /// the last eviction scan: a block run since gets a second chance.
    runs: Box<u64>,
    seen: u64,
    /// Instructions of the block run as host code (not monitor calls).
    native: u64,
    /// Exit targets and whether the exit may be chained.
    exits: Vec<(u64, bool)>,
    /// Chained exits of other blocks into this one: (block id, exit).
    incoming: Vec<(u64, usize)>,
    /// The block each exit is chained to.
    chained: [Option<u64>; 2],
    page: u64,
}

const JUMP_CACHE: usize = 4096;

/// What the dispatcher's lookup found at CS:RIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    Block(u64),
    /// The code's physical page is in its self-modifying-code cooldown.
    Cooling(u64),
    /// Nothing to run (a fetch that would fault, nothing translatable).
    Nothing,
}

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
    /// Which pages are interpreted for a while because translating their
    /// code again would not pay (`smc.rs`).
    smc: smc::Policy,
    /// Runs of removed blocks, and dispatcher entries that ran a block:
    /// the chained transitions are all runs but the first of each entry.
    runs_removed: u64,
    entered: u64,
    next_id: u64,
    bytes: usize,
    stats: JitStats,
    env: MonitorEnv,
    ctx: Box<Ctx>,
    /// The CPU model the cached blocks were planned for.
    model: &'static CpuModel,
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
        simd: emit::SimdEnv::of(cpu),
    };
    Some((key, lin, in_page.min(avail)))
}

/// The linear page of CS:RIP (as `block_start` forms the address).
fn code_page(cpu: &Cpu) -> u64 {
    let s = &cpu.state;
    if s.mode() == CpuMode::Long64 {
        s.rip >> 12
    } else {
        (s.cs().base.wrapping_add(s.rip) & 0xffff_ffff) >> 12
    }
}

impl Jit {
    pub fn new(config: JitConfig) -> std::io::Result<Jit> {
        guestmem::fault::install();
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
            smc: smc::Policy::default(),
            runs_removed: 0,
            entered: 0,
            next_id: 1,
            bytes: 0,
            stats: JitStats::default(),
            env: MonitorEnv::default(),
            ctx: Box::default(),
            model: &cpu_model::model::XLAT,
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
        let runs: u64 = self.blocks.values().map(|b| *b.runs).sum();
        s.chained_transitions = (runs + self.runs_removed).saturating_sub(self.entered);
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
        self.ctx.fast.flush();
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
        // Blocks were planned for one CPU model (which instructions may
        // run natively): a processor of another model starts afresh.
        if self.model != cpu.model {
            if !self.blocks.is_empty() {
                self.flush();
            }
            self.model = cpu.model;
        }
        // Host addresses are only valid while the bus is borrowed.
        self.ctx.fast.flush_host_addresses();
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
            let found = if monitor::can_run(cpu, jb) {
                self.lookup(cpu, jb, after_branch)
            } else {
                Found::Nothing
            };
            let block = match found {
                Found::Block(id) => Some(id),
                Found::Cooling(_) | Found::Nothing => None,
            };
            let Some(id) =
                block.filter(|id| self.blocks.get(id).is_some_and(|b| b.len <= budget - done))
            else {
                pending_chain = None;
                after_branch = false;
                let cooling = u64::from(matches!(found, Found::Cooling(_)));
                if !self.config.deliver_exceptions {
                    // Nothing is delivered in this mode, so nothing can
                    // wake a halted processor.
                    if cpu.state.events.halted {
                        return Ok(JitExit::Halted);
                    }
                    let tf = cpu.state.rflags & cpu_model::flags::TF != 0;
                    let r = cpu.execute(jb);
                    self.apply_dirty(jb);
                    match r {
                        Ok(_) if tf => return Ok(JitExit::Exception(Exception::DB)),
                        Ok(_) => {}
                        Err(Fault::Exception(e)) => return Ok(JitExit::Exception(e)),
                        Err(Fault::Trap(t)) => return Ok(JitExit::SoftwareInterrupt(t)),
                        Err(Fault::FpuErrorWait) => {
                            cpu.freeze_on_fpu_error(jb);
                            return Ok(JitExit::Halted);
                        }
                        Err(Fault::Stop(s)) => return Err(s),
                    }
                    done += 1;
                    self.stats.guest_instructions += 1;
                    self.stats.interpreter_steps += 1;
                    self.stats.smc_interpreted_steps += cooling;
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
                self.stats.smc_interpreted_steps += cooling;
                if let Found::Cooling(phys) = found {
                    // The rest of a page in its cooldown: the interpreter
                    // goes on without a lookup per step while RIP stays on
                    // the page and nothing a lookup depends on (mode, CS,
                    // paging, the TLB, the cooldown) changes; the loop
                    // above would find the page cooling and step anyway.
                    let snap = Snapshot::of(cpu);
                    let page = code_page(cpu);
                    while done < budget
                        && self.config.stop_at != Some(cpu.state.rip)
                        && !jb.stop_requested()
                        && code_page(cpu) == page
                        && Snapshot::of(cpu) == snap
                        && self.smc.cooling_cached(phys, self.stats.guest_instructions)
                    {
                        let out = cpu.step(jb);
                        self.apply_dirty(jb);
                        if out? == StepOutcome::Halted {
                            return Ok(JitExit::Halted);
                        }
                        done += 1;
                        self.stats.guest_instructions += 1;
                        self.stats.interpreter_steps += 1;
                        self.stats.smc_interpreted_steps += 1;
                    }
                }
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
            let (entry, runs_before) = (b.entry, *b.runs);
            if !after_branch {
                // An indirect transfer (RET, a monitor call) arrived here:
                // let native RETs to this RIP jump straight in next time.
                self.ctx
                    .fast
                    .remember_return_target(cpu, cpu.state.rip, entry, id);
            }
            // The countdown is signed: a budget beyond i64::MAX is as good
            // as unlimited.
            let left = (budget - done).min(i64::MAX as u64);
            self.ctx.countdown = left as i64;
            self.ctx.icount_origin = cpu.state.icount.wrapping_add(left);
            self.env.steps = 0;
            self.env.snapshot = Snapshot::of(cpu);
            self.env.deliver = self.config.deliver_exceptions;
            let code = self.rt.enter(entry, &mut self.ctx, cpu, jb, &mut self.env);
            // Generated code counts no instructions: the count is what the
            // countdown consumed, less the steps that did not retire.
            cpu.state.icount = self
                .ctx
                .icount_origin
                .wrapping_sub(self.ctx.countdown as u64);
            let mut used = left - self.ctx.countdown as u64;
            if code == EXIT_STOP && self.env.stop.is_some() {
                // The step that stopped the machine (a triple fault, an
                // unsupported operation) is not a step, as for `Cpu::step`.
                used = used.saturating_sub(1);
                self.env.steps = self.env.steps.saturating_sub(1);
            }
            done += used;
            let native = used - self.env.steps;
            cpu.stats.instructions += native;
            self.stats.guest_instructions += used;
            self.stats.native_instructions += native;
            // The entry block is still there (invalidations come next).
            if self.blocks.get(&id).is_some_and(|b| *b.runs != runs_before) {
                self.entered += 1;
            }
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

    fn jump_index(key: &Key) -> usize {
        let h = key.phys ^ key.rip.rotate_left(17) ^ key.cs_base.rotate_left(31);
        (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize % JUMP_CACHE
    }

    /// Find or translate the block at CS:RIP; the dispatcher steps the
    /// interpreter when there is none.
    fn lookup(&mut self, cpu: &mut Cpu, jb: &mut JitBus<'_>, after_branch: bool) -> Found {
        let Some((key, _lin, avail)) = block_start(cpu, jb) else {
            return Found::Nothing;
        };
        let page = key.phys >> 12;
        let now = self.stats.guest_instructions;
        // A page in its cooldown has no blocks: while it is being
        // interpreted, every step comes here and is answered at once.
        if self.smc.cooling_cached(page, now) {
            return Found::Cooling(page);
        }
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
                // block's own run count gives it its second chance at
                // eviction instead.
                return Found::Block(id);
            }
        }
        if let Some(&id) = self.by_key.get(&key) {
            self.stats.cache_hits += 1;
            self.jump_cache[ji] = Some((key, id));
            return Found::Block(id);
        }
        if self.config.smc_cooldowns && self.smc.cooling(page, now) {
            // Translating it again would not pay: the interpreter runs it
            // for a while.
            return Found::Cooling(page);
        }
        let Some(id) = self.translate(jb, key, avail) else {
            return Found::Nothing;
        };
        self.jump_cache[ji] = Some((key, id));
        Found::Block(id)
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
                simd: key.simd,
                model: self.model,
            },
        )
        .into_boxed_slice();
        if plan.is_empty() {
            return None;
        }
        let slots = [Box::new(self.rt.exit_branch), Box::new(self.rt.exit_branch)];
        let runs = Box::new(0u64);
        let counter = &*runs as *const u64 as u64;
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
            simd_slow: exec::simd_slow_shim_addr(),
            fill: exec::fill_shim_addr(),
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
                if *b.runs != b.seen && passes < blocks {
                    b.seen = *b.runs;
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
            Err(codeheap::HeapLost) => {
                // No executable memory could be mapped: drop everything
                // and start over.
                self.flush();
                self.heap.clear();
                return None;
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        guestmem::fault::register_block(code.addr, code.len, key.rip, id);
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
        let native = plan
            .iter()
            .filter(|p| !matches!(p.kind, emit::Kind::Monitor))
            .count() as u64;
        self.blocks.insert(
            id,
            Block {
                key,
                code,
                entry,
                len: plan.len() as u64,
                _plan: plan,
                slots,
                runs,
                seen: 0,
                native,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
