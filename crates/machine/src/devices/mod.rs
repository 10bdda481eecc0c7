//! Platform devices. Each is a small state machine with a plain state struct
//! (what a snapshot would save) and the [`crate::pio::PortDevice`] interface.

pub mod debug_exit;
pub mod debugcon;
pub mod pit;
pub mod post;

pub use debug_exit::{DebugExit, ExitSignal};
pub use debugcon::DebugCon;
pub use pit::{Pit, PitPorts, PitState, PIT_HZ};
pub use post::{PostCodes, PostLog};
