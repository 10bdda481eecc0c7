//! Page-boundary differential cases (issue #16): the case space, a test
//! bus with RAM, ROM and unbacked physical pages, the program each case
//! runs, and the comparison of the interpreter with two translators.
//!
//! A case is one memory instruction whose access starts within 16 bytes
//! of the boundary between two linearly neighbouring pages A (below) and
//! B (above), after the same instruction (same RIP, so the same micro-TLB
//! slot) ran a few times wholly inside A or B to warm its fast path:
//!
//! ```text
//!         mov ebp, WARM
//! top:    mov rSI/rSP, <address wholly inside the warm page>
//!         test ebp, ebp
//!         jnz go
//!         mov rSI/rSP, <boundary + offset>
//! go:     <the instruction on [rSI] or on the stack>
//!         dec ebp
//!         jns top
//!         ud2                      ; the end: #UD
//! f:      ret                      ; for CALL/RET
//! ```
//!
//! Exceptions are not delivered (`deliver_exceptions: false`): every run
//! ends with the exception of the boundary access, or #UD at the end, and
//! the engines must agree on it (vector, error code, #PF address), on the
//! whole `CpuState` and on every byte of the bus's host memory (RAM, ROM
//! and the guard bytes around each of them).
//!
//! Written to be included by a fuzz target too (issue #12):
//! `#[path = ".../translator/tests/boundary/mod.rs"] mod boundary;` next
//! to `common`, then `boundary::check(&boundary::Case::from_bytes(data))`.
//!
//! The parts: `bus` (the physical layout and `TestBus`), `case` (the
//! case space and `Case`), `form` (the instruction forms), `program`
//! (setting a case up), `run` (running, comparing, the report) and
//! `sweep` (the deterministic sweep).

mod bus;
mod case;
mod form;
mod program;
mod run;
mod sweep;

pub(crate) use case::{Case, Kind, Mode, Place, Warm, CASE_BYTES, MODES};
pub(crate) use form::{forms, Acc, FORMS};
pub(crate) use run::{check, report, run_all};
pub(crate) use sweep::sweep;
