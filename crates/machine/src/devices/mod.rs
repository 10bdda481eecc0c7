//! Platform devices. Each is a small state machine with a plain state struct
//! (what a snapshot would save) and the [`crate::pio::PortDevice`] interface,
//! except the interrupt controller pair [`pic::Pic`] and the timer
//! [`pit::Pit`], which take absolute port numbers (the PIT also the time)
//! and have interrupt lines besides; the PIT reaches the port bus through
//! [`pit::PitPorts`], the PIC is not wired into the machine yet.

pub mod debug_exit;
pub mod debugcon;
pub mod lapic;
pub mod pic;
pub mod pit;
pub mod post;
pub mod rtc;
pub mod uart;

pub use debug_exit::{DebugExit, ExitSignal};
pub use debugcon::DebugCon;
pub use lapic::{Lapic, LapicConfig, LapicState};
pub use pic::{Pic, PicState};
pub use pit::{Pit, PitPorts, PitState, PIT_HZ};
pub use post::{PostCodes, PostLog};
pub use rtc::{cmos_image, BootDevice, CmosConfig, Rtc, RtcState};
pub use uart::{Uart, UartState};
