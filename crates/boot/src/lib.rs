//! boot: kernel loaders for xlat's `-kernel` (issue #11).
//!
//! Each loader reads a kernel image (and initrd or modules) as untrusted
//! bytes and returns a [`BootPlan`]: the blobs to copy into guest RAM and
//! the [`EntryState`] to start the processor in. Nothing here touches a
//! machine: the plan is data, checked against the [`MemoryLayout`] (every
//! blob inside usable RAM, none overlapping another), so the caller only
//! copies bytes and applies registers. Bad images give an error of the
//! loader's enum, never a panic, and no allocation bigger than the inputs
//! (image bytes are borrowed; BSS is a count, not zeros).
//!
//! * [`linux::bzimage`]: Linux bzImage, x86 boot protocol 2.06 or later,
//!   entered through the 64-bit entry when the kernel has one;
//! * [`linux::vmlinux`]: Linux ELF vmlinux;
//! * [`multiboot`]: Multiboot v1 kernels, ELF32 or a.out kludge, with
//!   modules.
//!
//! A crate of its own rather than a module of `machine`: it needs neither
//! the translator nor the devices (only `cpu-model`'s register types), so
//! it builds and its tests (including the randomized ones over hostile
//! images) run in seconds, and its parsers of untrusted files are kept
//! apart from the emulator.
//!
//! [`load`] recognizes the format as QEMU does: a bzImage setup header
//! first, then a Multiboot header, then ELF (a vmlinux).

pub mod elf;
pub mod entry;
pub mod layout;
pub mod linux;
pub mod multiboot;
pub mod plan;

pub use layout::{E820Entry, E820Kind, LayoutError, MemoryLayout};
pub use linux::bzimage::BzImageError;
pub use linux::vmlinux::VmlinuxError;
pub use linux::{LinuxError, LinuxParams};
pub use multiboot::{MultibootError, MultibootModule, MultibootParams};
pub use plan::{Blob, BootPlan, EntryMode, EntryState, KernelFormat};

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum BootError {
    #[error("the kernel image is empty")]
    Empty,
    #[error("the kernel image is neither a Linux bzImage, a Multiboot kernel nor an ELF vmlinux")]
    UnknownFormat,
    #[error("Multiboot modules were given for a Linux kernel (a Linux kernel takes one initrd)")]
    ModulesForLinux,
    #[error("bzImage: {0}")]
    BzImage(#[from] BzImageError),
    #[error("ELF vmlinux: {0}")]
    Vmlinux(#[from] VmlinuxError),
    #[error("Multiboot: {0}")]
    Multiboot(#[from] MultibootError),
}

/// What `-kernel` boots with besides the image.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelParams<'a> {
    /// The command line for a Linux kernel (`-append`).
    pub cmdline: &'a str,
    /// The command line for a Multiboot kernel (QEMU's: the kernel's file
    /// name, a space, the `-append` text).
    pub multiboot_cmdline: &'a str,
    /// The initrd of a Linux kernel (`-initrd FILE`).
    pub initrd: Option<&'a [u8]>,
    /// The modules of a Multiboot kernel (`-initrd "a args,b"`); for a
    /// Linux kernel at most one, taken as its initrd if `initrd` is unset.
    pub modules: &'a [MultibootModule<'a>],
    /// Physical address of the ACPI RSDP, for Linux's boot_params.
    pub acpi_rsdp: Option<u64>,
}

/// Recognizes `image` and plans its boot with the matching loader.
pub fn load<'a>(
    image: &'a [u8],
    layout: &MemoryLayout,
    params: &KernelParams<'a>,
) -> Result<BootPlan<'a>, BootError> {
    if image.is_empty() {
        return Err(BootError::Empty);
    }
    let linux_params = || -> Result<LinuxParams<'a>, BootError> {
        let initrd = match (params.initrd, params.modules) {
            (Some(i), _) => Some(i),
            (None, []) => None,
            (None, [m]) => Some(m.bytes),
            (None, _) => return Err(BootError::ModulesForLinux),
        };
        Ok(LinuxParams {
            cmdline: params.cmdline,
            initrd,
            acpi_rsdp: params.acpi_rsdp,
        })
    };
    if linux::bzimage::is_bzimage(image) {
        return Ok(linux::bzimage::load(image, layout, &linux_params()?)?);
    }
    if multiboot::is_multiboot(image) {
        let mb = MultibootParams {
            cmdline: params.multiboot_cmdline,
            modules: params.modules,
        };
        return Ok(multiboot::load(image, layout, &mb)?);
    }
    if elf::is_elf(image) {
        return Ok(linux::vmlinux::load(image, layout, &linux_params()?)?);
    }
    Err(BootError::UnknownFormat)
}
