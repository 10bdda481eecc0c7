//! The run report of `xlat run --stats` (a table on stderr) and
//! `--stats-json FILE` (one JSON object).
//!
//! Fields present for both engines: `engine`, `guest_instructions` (steps
//! taken: instructions executed or faulted, events delivered, as counted by
//! `Machine::steps`), `instructions_retired`, `exceptions` (vector → count,
//! non-zero only), `unimplemented` (mnemonic → count), `cpu` (the CPU
//! model), `not_in_model` (instructions the model does not advertise, each
//! a #UD: mnemonic → count), `run_time_ns` (wall time of `Machine::run`).
//!
//! Translator fields (`blocks_translated`, `cache_lookups`, `cache_hits`,
//! `cache_hit_rate`, `chained_transitions`, `indirect_lookups`, `evictions`,
//! `invalidations`, `flushes`, `monitor_calls`, `translation_time_ns`,
//! `code_cache_bytes`, ...) are present only with `--engine jit`; with
//! `--engine interp` they are absent from the JSON (not zero) and the table
//! says "translator: not used".

use machine::{Engine, Machine};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Everything the report holds.
#[derive(Debug, Serialize)]
pub struct Report {
    pub engine: &'static str,
    pub guest_instructions: u64,
    pub instructions_retired: u64,
    /// Exceptions delivered, by vector (decimal string keys), non-zero only.
    pub exceptions: BTreeMap<String, u64>,
    /// Unimplemented instructions met (each raised #UD), by mnemonic.
    pub unimplemented: BTreeMap<String, u64>,
    /// The CPU model (`--cpu`).
    pub cpu: &'static str,
    /// Instructions the CPU model does not advertise (each raised #UD).
    pub not_in_model: BTreeMap<String, u64>,
    pub run_time_ns: u64,
    /// Present with the translator only.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub translator: Option<TranslatorReport>,
}

/// The translator's counters (`translator::JitStats`) plus the hit rate.
#[derive(Debug, Serialize)]
pub struct TranslatorReport {
    pub native_instructions: u64,
    pub interpreter_steps: u64,
    pub blocks_translated: u64,
    pub cache_lookups: u64,
    pub cache_hits: u64,
    /// Share of block entries (lookups plus chained transitions) served
    /// from the cache: `JitStats::cache_hit_rate`.
    pub cache_hit_rate: f64,
    pub jump_cache_hits: u64,
    pub indirect_lookups: u64,
    pub chains_made: u64,
    pub chained_transitions: u64,
    pub evictions: u64,
    /// Memory operands of native instructions that took the slow path.
    pub memory_helper_calls: u64,
    /// Self-modifying-code cooldowns begun: times a page was interpreted
    /// for a while because translating its rewritten code again would
    /// not have paid (`JitStats::smc_interpreted_pages`).
    pub smc_interpreted_pages: u64,
    /// Steps interpreted because their page was in such a cooldown.
    pub smc_interpreted_steps: u64,
    /// Self-modifying-code invalidations whose dropped blocks had paid for
    /// their translation.
    pub smc_profitable: u64,
    /// The longest cooldown begun, in steps.
    pub smc_longest_cooldown: u64,
    /// Blocks invalidated, by reason ("smc", "explicit").
    pub invalidations: BTreeMap<String, u64>,
    pub flushes: u64,
    /// Monitor calls (instructions run by the interpreter from generated
    /// code), by lower-case mnemonic.
    pub monitor_calls: BTreeMap<String, u64>,
    pub translation_time_ns: u64,
    pub code_cache_bytes: u64,
}

impl Report {
    /// The report of machine `m` after a run that took `run_time`.
    pub fn new(m: &Machine, run_time: Duration) -> Report {
        let st = &m.cpu.stats;
        let translator = m.jit_stats().map(|j| TranslatorReport {
            native_instructions: j.native_instructions,
            interpreter_steps: j.interpreter_steps,
            blocks_translated: j.blocks_translated,
            cache_lookups: j.cache_lookups,
            cache_hits: j.cache_hits,
            cache_hit_rate: j.cache_hit_rate(),
            jump_cache_hits: j.jump_cache_hits,
            indirect_lookups: j.indirect_lookups,
            chains_made: j.chains_made,
            chained_transitions: j.chained_transitions,
            evictions: j.evictions,
            memory_helper_calls: j.memory_helper_calls,
            smc_interpreted_pages: j.smc_interpreted_pages,
            smc_interpreted_steps: j.smc_interpreted_steps,
            smc_profitable: j.smc_profitable,
            smc_longest_cooldown: j.smc_longest_cooldown,
            invalidations: j
                .invalidations
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect(),
            flushes: j.flushes,
            monitor_calls: j.monitor_calls,
            translation_time_ns: j.translation_time_ns,
            code_cache_bytes: j.code_cache_bytes,
        });
        Report {
            engine: match m.engine() {
                Engine::Interp => "interp",
                Engine::Jit => "jit",
            },
            guest_instructions: m.steps(),
            instructions_retired: st.instructions,
            exceptions: st
                .exceptions
                .iter()
                .enumerate()
                .filter(|(_, n)| **n != 0)
                .map(|(v, n)| (v.to_string(), *n))
                .collect(),
            unimplemented: st.unimplemented.clone(),
            cpu: m.cpu.model.name,
            not_in_model: st.not_in_model.clone(),
            run_time_ns: u64::try_from(run_time.as_nanos()).unwrap_or(u64::MAX),
            translator,
        }
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and string-keyed maps always
        // serializes.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The report as a readable multi-line table, one `xlat: stats:` line
    /// per counter.
    pub fn table(&self) -> String {
        fn map(m: &BTreeMap<String, u64>, prefix: &str) -> String {
            if m.is_empty() {
                "none".to_string()
            } else {
                m.iter()
                    .map(|(k, n)| format!("{prefix}{k}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        }
        let mut rows: Vec<(&str, String)> = vec![
            ("engine", self.engine.to_string()),
            ("steps", self.guest_instructions.to_string()),
            (
                "instructions retired",
                self.instructions_retired.to_string(),
            ),
            ("exceptions by vector", map(&self.exceptions, "#")),
            (
                "run time",
                format!("{:.3} ms", self.run_time_ns as f64 / 1e6),
            ),
        ];
        match &self.translator {
            None => rows.push(("translator", "not used".to_string())),
            Some(t) => {
                rows.extend([
                    ("native instructions", t.native_instructions.to_string()),
                    ("interpreter steps", t.interpreter_steps.to_string()),
                    ("blocks translated", t.blocks_translated.to_string()),
                    ("cache lookups", t.cache_lookups.to_string()),
                    ("cache hits", t.cache_hits.to_string()),
                    (
                        "cache hit rate",
                        format!("{:.4}% of block entries", 100.0 * t.cache_hit_rate),
                    ),
                    ("jump cache hits", t.jump_cache_hits.to_string()),
                    ("indirect lookups", t.indirect_lookups.to_string()),
                    ("chains made", t.chains_made.to_string()),
                    ("chained transitions", t.chained_transitions.to_string()),
                    ("evictions", t.evictions.to_string()),
                    ("memory helper calls", t.memory_helper_calls.to_string()),
                    (
                        "self-modifying code cooldowns",
                        format!(
                            "{} ({} steps interpreted, longest {} steps; {} rewrites paid)",
                            t.smc_interpreted_pages,
                            t.smc_interpreted_steps,
                            t.smc_longest_cooldown,
                            t.smc_profitable
                        ),
                    ),
                    ("invalidations", map(&t.invalidations, "")),
                    ("flushes", t.flushes.to_string()),
                    ("monitor calls", map(&t.monitor_calls, "")),
                    (
                        "translation time",
                        format!("{:.3} ms", t.translation_time_ns as f64 / 1e6),
                    ),
                    ("code cache bytes", t.code_cache_bytes.to_string()),
                ]);
            }
        }
        rows.push((
            "unimplemented instructions met",
            map(&self.unimplemented, ""),
        ));
        rows.push((
            "instructions not in the CPU model",
            format!("{} ({})", map(&self.not_in_model, ""), self.cpu),
        ));
        rows.iter()
            .map(|(k, v)| format!("xlat: stats: {k}: {v}\n"))
            .collect()
    }
}
