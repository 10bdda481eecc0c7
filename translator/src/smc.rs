//! The self-modifying-code fallback: which physical pages are interpreted
//! for a while rather than translated again after their code was written.
//!
//! A write to a page holding translations drops all of the page's blocks;
//! running its code again means translating it again. That pays only if
//! the new blocks run natively long enough before the next write. The
//! policy keeps the account per page, in interpreter steps:
//!
//! * **cost**: the page's blocks dropped by the write, [`BLOCK_COST`] steps
//!   each (translating a block takes about as long as interpreting that
//!   many instructions, whatever its length: the code heap's W^X switch
//!   dominates);
//! * **gain**: the instructions those blocks ran natively since they were
//!   translated (each block counts its runs, loop passes included, times
//!   its native instructions), each one an interpreter step saved.
//!
//! A write after which the gain covers the cost is *profitable*: the page
//! is quiet enough to translate, and its backoff starts over. An
//! *unprofitable* one puts the page in a **cooldown**: for that many guest
//! steps (all engines' steps, as counted by the dispatcher) its code is
//! interpreted and nothing on it is translated. The first cooldown lasts
//! the lost cost, at least [`MIN_COOLDOWN`] steps; each further
//! unprofitable write doubles it, up to [`MAX_COOLDOWN`]. A page that has
//! had no unprofitable write for [`QUIET`] steps starts over too. So a
//! page rewritten once per pass over a long loop keeps being translated
//! (each pass pays for its translation), and one rewritten faster than its
//! translations can pay back costs at most one translation of the page
//! per cooldown, whose length grows exponentially: the translation time
//! per executed instruction is bounded, and shrinks the longer the page
//! stays hot.

use std::collections::HashMap;

/// The cost of translating one block, in interpreter steps. Measured on
/// the 2-core development machine: about 25 µs per block of 1 to 32
/// register instructions (two `mprotect` calls dominate), against
/// 65–110 ns per interpreted instruction.
pub const BLOCK_COST: u64 = 256;
/// The shortest cooldown, in guest steps.
pub const MIN_COOLDOWN: u64 = 1 << 12;
/// The longest cooldown, in guest steps.
pub const MAX_COOLDOWN: u64 = 1 << 24;
/// Steps without an unprofitable write after which a page's backoff
/// starts over.
pub const QUIET: u64 = 2 * MAX_COOLDOWN;

const _: () = assert!(BLOCK_COST <= MIN_COOLDOWN && MIN_COOLDOWN < MAX_COOLDOWN);

/// The account of one page that had an unprofitable write.
#[derive(Clone, Copy, Debug, Default)]
struct Page {
    /// The next cooldown is the base times 2^level.
    level: u32,
    /// Guest step at which the current (or last) cooldown ends.
    until: u64,
    /// Guest step of the last unprofitable write.
    last_loss: u64,
}

/// What [`Policy::invalidated`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The blocks had paid for their translation.
    Profitable,
    /// They had not: the page is interpreted for this many steps.
    Cooldown(u64),
}

/// The per-page accounts.
#[derive(Debug, Default)]
pub struct Policy {
    pages: HashMap<u64, Page>,
    /// The page of the last [`Policy::cooling`] answer that was yes, and
    /// its cooldown's end: a page being interpreted asks at every step.
    last_cooling: Option<(u64, u64)>,
}

impl Policy {
    /// The blocks of physical page `page` were dropped at guest step `now`
    /// because its code was written: `blocks` of them, which had run
    /// `native` instructions natively.
    pub fn invalidated(&mut self, page: u64, now: u64, blocks: u64, native: u64) -> Verdict {
        let cost = blocks.saturating_mul(BLOCK_COST);
        if native >= cost {
            // Quiet enough: forget any backoff.
            self.pages.remove(&page);
            return Verdict::Profitable;
        }
        let p = self.pages.entry(page).or_default();
        if now.saturating_sub(p.last_loss) >= QUIET {
            p.level = 0;
        }
        let base = cost.max(MIN_COOLDOWN);
        let len = base.saturating_mul(1 << p.level.min(32)).min(MAX_COOLDOWN);
        p.level = p.level.saturating_add(1);
        p.until = now.saturating_add(len);
        p.last_loss = now;
        self.last_cooling = None;
        Verdict::Cooldown(len)
    }

    /// Is `page` in a cooldown at guest step `now`?
    pub fn cooling(&mut self, page: u64, now: u64) -> bool {
        if let Some((p, until)) = self.last_cooling {
            if p == page && now < until {
                return true;
            }
        }
        match self.pages.get(&page) {
            Some(p) if now < p.until => {
                self.last_cooling = Some((page, p.until));
                true
            }
            _ => false,
        }
    }

    /// Is `page` known to be cooling at `now`, from the last answer alone
    /// (no hash lookup)?
    pub fn cooling_cached(&self, page: u64, now: u64) -> bool {
        matches!(self.last_cooling, Some((p, until)) if p == page && now < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profitable_writes_never_cool() {
        let mut p = Policy::default();
        for i in 0..100 {
            assert_eq!(
                p.invalidated(7, i * 10, 4, 4 * BLOCK_COST),
                Verdict::Profitable
            );
            assert!(!p.cooling(7, i * 10 + 1));
        }
    }

    #[test]
    fn cooldowns_double_up_to_the_cap_and_start_over() {
        let mut p = Policy::default();
        let mut now = 1000;
        let mut lens = Vec::new();
        for _ in 0..16 {
            match p.invalidated(3, now, 1, 5) {
                Verdict::Cooldown(len) => lens.push(len),
                v => panic!("{v:?}"),
            }
            assert!(p.cooling(3, now));
            assert!(p.cooling(3, now + lens.last().unwrap() - 1));
            assert!(!p.cooling(4, now), "other pages are not affected");
            now += lens.last().unwrap();
            assert!(!p.cooling(3, now));
        }
        assert_eq!(lens[0], MIN_COOLDOWN);
        assert_eq!(lens[1], 2 * MIN_COOLDOWN);
        assert_eq!(lens[3], 8 * MIN_COOLDOWN);
        assert_eq!(*lens.last().unwrap(), MAX_COOLDOWN);
        // A profitable write resets the backoff.
        assert_eq!(p.invalidated(3, now, 1, BLOCK_COST), Verdict::Profitable);
        assert_eq!(
            p.invalidated(3, now + 1, 1, 0),
            Verdict::Cooldown(MIN_COOLDOWN)
        );
        // So does a long quiet time.
        now += 1 + MIN_COOLDOWN;
        assert_eq!(
            p.invalidated(3, now, 1, 0),
            Verdict::Cooldown(2 * MIN_COOLDOWN)
        );
        now += QUIET;
        assert_eq!(p.invalidated(3, now, 1, 0), Verdict::Cooldown(MIN_COOLDOWN));
        // The first cooldown of a costly page lasts its cost.
        assert_eq!(
            p.invalidated(9, now, 100, 0),
            Verdict::Cooldown(100 * BLOCK_COST)
        );
    }
}
