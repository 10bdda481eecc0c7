//! Booting a kernel directly (`xlat run -kernel`), as QEMU's `-kernel`
//! does without its option ROM: the firmware tables a PC's BIOS would
//! leave are built here (`crate::acpi`: the ACPI tables in RAM at
//! 0xE0000, the RSDP and the MP table in a small firmware image that the
//! machine maps at 0xF0000 as a BIOS), the `boot` crate plans where the
//! kernel, its initrd or modules, boot_params or the Multiboot information
//! go, and the processor starts in the state the boot protocol names.
//!
//! The firmware image holds nothing else: its reset vector is HLT, never
//! reached, since the processor starts at the kernel's entry.

use crate::acpi::{self, AcpiLayout, FirmwareTables, PlatformConfig};
use crate::memory::{Bios, MemoryError};
use crate::Machine;
use boot::{BootError, KernelParams, MemoryLayout, MultibootModule};
use thiserror::Error;

/// The firmware image's size: mapped at 0xF0000..0x100000 (and at the
/// top of the 4 GiB space).
const FIRMWARE_SIZE: usize = 64 << 10;
/// Where the firmware image begins below 1 MiB.
const FIRMWARE_BASE: u64 = 0x10_0000 - FIRMWARE_SIZE as u64;

#[derive(Debug, Error)]
pub enum DirectBootError {
    #[error("cannot build the ACPI tables: {0}")]
    Acpi(#[from] acpi::AcpiError),
    #[error("cannot lay out memory for the kernel: {0}")]
    Layout(#[from] boot::LayoutError),
    #[error("{0}")]
    Kernel(#[from] BootError),
    #[error("{0}")]
    Firmware(#[from] MemoryError),
    #[error("{what} at {addr:#x} does not fit the firmware image")]
    Placement { what: &'static str, addr: u64 },
}

/// What to boot.
#[derive(Clone, Copy, Debug)]
pub struct KernelImage<'a> {
    /// The kernel file's name (a Multiboot kernel's command line starts
    /// with it, as QEMU's does).
    pub name: &'a str,
    pub image: &'a [u8],
    /// `-initrd`: a Linux kernel's initrd, or a Multiboot kernel's
    /// modules (`-initrd "a args,b"`, already read).
    pub modules: &'a [MultibootModule<'a>],
    /// `-append`.
    pub cmdline: &'a str,
}

/// The firmware tables for a machine with `ram` bytes of RAM (below
/// 4 GiB) and one processor of `model`, and the firmware image that
/// carries the parts above 0xF0000.
pub fn firmware(
    ram: u64,
    model: &cpu_model::CpuModel,
) -> Result<(FirmwareTables, Bios), DirectBootError> {
    let low_ram_end = u32::try_from(ram).unwrap_or(u32::MAX);
    let config = PlatformConfig::qemu_pc(1, low_ram_end, model);
    let tables = acpi::build(&config, &AcpiLayout::default())?;
    let mut image = vec![0xf4u8; FIRMWARE_SIZE];
    for blob in tables.blobs() {
        if blob.addr < FIRMWARE_BASE {
            continue;
        }
        let at = usize::try_from(blob.addr - FIRMWARE_BASE).unwrap_or(usize::MAX);
        let dst = at
            .checked_add(blob.bytes.len())
            .and_then(|end| image.get_mut(at..end))
            .ok_or(DirectBootError::Placement {
                what: "a firmware table",
                addr: blob.addr,
            })?;
        dst.copy_from_slice(&blob.bytes);
    }
    Ok((
        tables,
        Bios::from_bytes("xlat direct-boot firmware", &image)?,
    ))
}

/// Load `kernel` into `m` (built with `firmware`'s image) and set the
/// processor to its entry.
pub fn load(
    m: &mut Machine,
    tables: &FirmwareTables,
    kernel: &KernelImage<'_>,
) -> Result<boot::KernelFormat, DirectBootError> {
    let ram = m.bus.memory.ram_size();
    // The ACPI tables below the firmware image are RAM the e820 map
    // reserves as ACPI data.
    let acpi_range = tables.acpi.addr..FIRMWARE_BASE;
    let layout = MemoryLayout::new(ram, Some(acpi_range))?;
    let multiboot_cmdline = format!("{} {}", kernel.name, kernel.cmdline);
    let params = KernelParams {
        cmdline: kernel.cmdline,
        multiboot_cmdline: multiboot_cmdline.trim_end(),
        initrd: None,
        modules: kernel.modules,
        acpi_rsdp: Some(tables.rsdp_addr()),
    };
    let plan = boot::load(kernel.image, &layout, &params)?;
    for blob in tables.blobs().filter(|b| b.addr < FIRMWARE_BASE) {
        m.bus.memory.write(blob.addr, &blob.bytes);
    }
    let zeros = [0u8; 4096];
    for blob in &plan.blobs {
        m.bus.memory.write(blob.addr, &blob.bytes);
        // The zero-filled tail (BSS), written too: RAM need not be fresh.
        let mut at = blob.addr + blob.bytes.len() as u64;
        let end = at + blob.zero_fill;
        while at < end {
            let n = (end - at).min(zeros.len() as u64) as usize;
            m.bus.memory.write(at, &zeros[..n]);
            at += n as u64;
        }
    }
    plan.entry.apply(&mut m.cpu.state);
    m.cpu.tlb = cpu_model::mmu::tlb::Tlb::new();
    Ok(plan.format)
}
