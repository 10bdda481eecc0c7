//! The CMOS RAM contents the machine gives the firmware, as QEMU's `pc`
//! machine fills them for SeaBIOS (QEMU `hw/i386/pc.c`, `pc_cmos_init`
//! and `pc_cmos_init_late`, and `x86_rtc_set_cpus_count` in
//! `hw/i386/x86.c`), on the IBM PC/AT layout (AT Technical Reference,
//! "CMOS RAM Configuration Information"). Multi-byte values are
//! little-endian except the checksum.
//!
//! | bytes | contents |
//! | --- | --- |
//! | 0x00..=0x09 | the time and alarm: the clock's (0 here) |
//! | 0x0A | register A at power-on, 0x26: divider 010 (32.768 kHz), 1024 Hz rate |
//! | 0x0B | register B at power-on, 0x02: 24-hour, BCD, no interrupts |
//! | 0x0C | register C: flags, 0 |
//! | 0x0D | register D: 0x80, VRT (valid RAM and time) |
//! | 0x10 | floppy drive types (A in bits 7:4, B in 3:0): 0, no drives |
//! | 0x12 | hard disk types: 0, no IDE disks |
//! | 0x14 | equipment byte: 0x06 (bit 1 FPU present, bit 2 PS/2 mouse; bit 0 and bits 7:6 would count floppy drives) |
//! | 0x15/0x16 | base memory in KiB: min(RAM below 4 GiB, 640 KiB) |
//! | 0x17/0x18 | extended memory in KiB above 1 MiB, at most 65535 |
//! | 0x2E/0x2F | checksum: the 16-bit sum of bytes 0x10..=0x2D, high byte first (the AT's; QEMU leaves 0, SeaBIOS never checks it) |
//! | 0x30/0x31 | extended memory again (the copy POST reports) |
//! | 0x32 | century: the clock's (it counts with the year, as on QEMU) |
//! | 0x34/0x35 | RAM between 16 MiB and 4 GiB in 64 KiB units, at most 65535 |
//! | 0x38 | third boot device in bits 7:4; bit 0 = 0: the floppy boot signature is checked (QEMU's default `fd_bootchk`) |
//! | 0x39 | IDE disk translation: 0 |
//! | 0x3D | first boot device in bits 3:0, second in bits 7:4 |
//! | 0x5B..=0x5D | RAM above 4 GiB in 64 KiB units, 24 bits (so up to 1 TiB, truncated beyond as QEMU does) |
//! | 0x5F | CPU count - 1; 0 for more than 255 CPUs (the BIOS then asks fw_cfg) |
//!
//! Every other byte is 0. Boot devices are SeaBIOS's nibbles: 1 floppy,
//! 2 hard disk, 3 CD-ROM, 4 network, 0 none; QEMU's `-boot c` writes 0x02
//! at 0x3D and 0x00 at 0x38.

use super::{CMOS_SIZE, D_VRT, POWER_ON_A, POWER_ON_B, REG_A, REG_B, REG_D};

/// A device the BIOS may boot from (QEMU's `-boot` letters a/b, c, d, n).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootDevice {
    Floppy,
    HardDisk,
    Cdrom,
    Network,
}

impl BootDevice {
    /// The CMOS nibble SeaBIOS reads.
    pub fn nibble(self) -> u8 {
        match self {
            BootDevice::Floppy => 1,
            BootDevice::HardDisk => 2,
            BootDevice::Cdrom => 3,
            BootDevice::Network => 4,
        }
    }
}

/// What the CMOS tells the firmware about the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmosConfig {
    /// RAM below 4 GiB in bytes.
    pub ram_below_4g: u64,
    /// RAM above 4 GiB in bytes.
    pub ram_above_4g: u64,
    /// Processors (0 is taken as 1).
    pub cpus: u32,
    /// Boot devices in order; the CMOS holds the first three.
    pub boot_order: Vec<BootDevice>,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// A little-endian field of `bytes` bytes.
fn put(image: &mut [u8; CMOS_SIZE], at: usize, value: u64, bytes: usize) {
    for i in 0..bytes {
        image[at + i] = (value >> (8 * i)) as u8;
    }
}

/// The 128 CMOS bytes for `config` (see the module's table); the machine
/// loads them with [`super::Rtc::load_ram`].
pub fn cmos_image(config: &CmosConfig) -> [u8; CMOS_SIZE] {
    let mut image = [0u8; CMOS_SIZE];
    image[usize::from(REG_A)] = POWER_ON_A;
    image[usize::from(REG_B)] = POWER_ON_B;
    image[usize::from(REG_D)] = D_VRT;

    let below = config.ram_below_4g;
    put(&mut image, 0x15, (below / KIB).min(640), 2);
    let extended = (below.saturating_sub(MIB) / KIB).min(0xffff);
    put(&mut image, 0x17, extended, 2);
    put(&mut image, 0x30, extended, 2);
    let above_16m = (below.saturating_sub(16 * MIB) / (64 * KIB)).min(0xffff);
    put(&mut image, 0x34, above_16m, 2);
    put(&mut image, 0x5b, config.ram_above_4g / (64 * KIB), 3);

    let cpus = config.cpus.max(1);
    image[0x5f] = if cpus > 0xff { 0 } else { (cpus - 1) as u8 };

    let boot = |i: usize| config.boot_order.get(i).map_or(0, |d| d.nibble());
    image[0x3d] = boot(1) << 4 | boot(0);
    image[0x38] = boot(2) << 4;

    // No floppy drives (0x10 = 0, no drive bits in the equipment byte).
    image[0x14] = 0x02 | 0x04;

    let sum = image[0x10..=0x2d]
        .iter()
        .fold(0u16, |s, &b| s.wrapping_add(u16::from(b)));
    image[0x2e] = (sum >> 8) as u8;
    image[0x2f] = sum as u8;
    image
}
