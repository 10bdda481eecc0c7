//! Removing translations: the code pages a guest wrote to (self-modifying
//! code, with the cooldown policy of `smc.rs`), a whole physical page, and
//! one block with its chains, jump-cache entries and bookkeeping.

use crate::{smc, Jit, JitBus};

impl Jit {
    /// Invalidate the code pages written since the last call.
    #[inline]
    pub(crate) fn apply_dirty(&mut self, jb: &mut JitBus<'_>) {
        if !jb.dirty.is_empty() {
            self.invalidate_dirty(jb);
        }
    }

    fn invalidate_dirty(&mut self, jb: &mut JitBus<'_>) {
        let dirty = std::mem::take(&mut jb.dirty);
        for p in dirty {
            // What the page's translations cost and what they ran
            // natively, before they go.
            let Some(ids) = self.page_blocks.get(&p) else {
                continue;
            };
            let blocks = ids.len() as u64;
            let native = ids
                .iter()
                .filter_map(|id| self.blocks.get(id))
                .map(|b| b.runs.saturating_mul(b.native))
                .fold(0u64, u64::saturating_add);
            self.invalidate_page(p, "smc");
            jb.code_pages.remove(&p);
            if !self.config.smc_cooldowns {
                continue;
            }
            let now = self.stats.guest_instructions;
            match self.smc.invalidated(p, now, blocks, native) {
                smc::Verdict::Profitable => self.stats.smc_profitable += 1,
                smc::Verdict::Cooldown(len) => {
                    self.stats.smc_interpreted_pages += 1;
                    self.stats.smc_longest_cooldown = self.stats.smc_longest_cooldown.max(len);
                }
            }
        }
        // Pages whose blocks are all gone no longer need watching.
        jb.code_pages.retain(|p| self.page_blocks.contains_key(p));
    }

    /// Remove every block translated from physical page `page`.
    pub(crate) fn invalidate_page(&mut self, page: u64, reason: &'static str) -> bool {
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

    pub(crate) fn remove_block(&mut self, id: u64) {
        let Some(b) = self.blocks.remove(&id) else {
            return;
        };
        self.ctx.fast.forget_block(b.key.rip, id);
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
        self.runs_removed += *b.runs;
        self.bytes -= b.code.len;
        guestmem::fault::unregister_block(b.code.addr);
        self.heap.free(b.code);
    }
}
