//! Platform devices. Each is a small state machine with a plain state struct
//! (what a snapshot would save) and the [`crate::pio::PortDevice`] interface,
//! or, for the devices with interrupt lines and time (the PIC, PIT, RTC
//! and UART), plain `read`/`write` on ports or offsets with the time passed
//! in; `crate::chipset` puts those on the port bus and samples their lines.
//! The local APIC, I/O APIC and 8042 are not wired into the machine yet.

pub mod acpi_pm;
pub mod debug_exit;
pub mod debugcon;
pub mod i8042;
pub mod ioapic;
pub mod lapic;
pub mod pci;
pub mod pic;
pub mod pit;
pub mod post;
pub mod rtc;
pub mod uart;

pub use acpi_pm::{AcpiPm, AcpiPmConfig, AcpiPmState};
pub use debug_exit::{DebugExit, ExitSignal};
pub use debugcon::DebugCon;
pub use i8042::{I8042State, ResetControl, SystemControlA, I8042};
pub use ioapic::{Delivery, IoApic, IoApicState};
pub use lapic::{Lapic, LapicConfig, LapicState};
pub use pci::{DevFn, PciDevice, PciHost, PciHostState};
pub use pic::{Pic, PicState};
pub use pit::{Pit, PitPorts, PitState, PIT_HZ};
pub use post::{PostCodes, PostLog};
pub use rtc::{cmos_image, BootDevice, CmosConfig, Rtc, RtcState};
pub use uart::{Uart, UartState};
