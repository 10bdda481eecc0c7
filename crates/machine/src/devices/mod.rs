//! Platform devices. Each is a small state machine with a plain state struct
//! (what a snapshot would save) and the [`crate::pio::PortDevice`] interface,
//! except the interrupt controller pair [`pic::Pic`], which takes absolute
//! port numbers and has interrupt lines and an acknowledge cycle besides (it
//! is not wired into the machine yet).

pub mod debug_exit;
pub mod debugcon;
pub mod pic;
pub mod post;

pub use debug_exit::{DebugExit, ExitSignal};
pub use debugcon::DebugCon;
pub use pic::{Pic, PicState};
pub use post::{PostCodes, PostLog};
