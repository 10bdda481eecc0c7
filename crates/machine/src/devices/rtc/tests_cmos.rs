//! The CMOS image against QEMU's `pc_cmos_init` for SeaBIOS and the AT
//! layout, and loading it into the RTC.

use super::tests::{peek, BASE};
use super::*;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn config(below: u64, above: u64, cpus: u32) -> CmosConfig {
    CmosConfig {
        ram_below_4g: below,
        ram_above_4g: above,
        cpus,
        boot_order: vec![BootDevice::HardDisk],
    }
}

fn word(image: &[u8; CMOS_SIZE], at: usize) -> u16 {
    u16::from_le_bytes([image[at], image[at + 1]])
}

#[test]
fn memory_bytes_for_32_mib_one_cpu_boot_c() {
    let image = cmos_image(&config(32 * MIB, 0, 1));
    assert_eq!(word(&image, 0x15), 640);
    assert_eq!(word(&image, 0x17), 31 * 1024);
    assert_eq!(word(&image, 0x30), 31 * 1024);
    assert_eq!(word(&image, 0x34), 256); // 16 MiB in 64 KiB units
    assert_eq!(image[0x5b..=0x5d], [0, 0, 0]);
    assert_eq!(image[0x5f], 0);
    assert_eq!(image[0x3d], 0x02);
    assert_eq!(image[0x38], 0x00);
    assert_eq!(image[0x14], 0x06);
    assert_eq!(image[0x10], 0x00);
    assert_eq!(image[0x12], 0x00);
    assert_eq!(image[0x0a], 0x26);
    assert_eq!(image[0x0b], 0x02);
    assert_eq!(image[0x0d], 0x80);
    // The AT checksum over 0x10..=0x2D, high byte first.
    let sum: u16 = image[0x10..=0x2d].iter().map(|&b| u16::from(b)).sum();
    assert_eq!(u16::from_be_bytes([image[0x2e], image[0x2f]]), sum);
    assert_eq!(sum, 0x06 + 0x80 + 0x02 + 0x7c); // 0x14, 0x15, 0x16, 0x18
                                                // Nothing else is set.
    let documented = [
        0x0a, 0x0b, 0x0d, 0x14, 0x15, 0x16, 0x17, 0x18, 0x2e, 0x2f, 0x30, 0x31, 0x34, 0x35, 0x38,
        0x3d,
    ];
    for (i, &b) in image.iter().enumerate() {
        if !documented.contains(&i) {
            assert_eq!(b, 0, "byte {i:#x}");
        }
    }
}

#[test]
fn caps_and_large_memory() {
    // 128 MiB: the extended memory in KiB no longer fits in 16 bits.
    assert_eq!(word(&cmos_image(&config(128 * MIB, 0, 1)), 0x17), 0xffff);
    // 3.5 GiB below 4 GiB, 6 GiB above, 4 CPUs.
    let image = cmos_image(&config(3 * GIB + 512 * MIB, 6 * GIB, 4));
    assert_eq!(word(&image, 0x17), 0xffff);
    assert_eq!(word(&image, 0x30), 0xffff);
    assert_eq!(word(&image, 0x34), 57_088); // (3.5 GiB - 16 MiB) / 64 KiB
                                            // A size no PC has below 4 GiB is capped, not wrapped.
    assert_eq!(word(&cmos_image(&config(8 * GIB, 0, 1)), 0x34), 0xffff);
    assert_eq!(image[0x5f], 3);
    let above = u32::from_le_bytes([image[0x5b], image[0x5c], image[0x5d], 0]);
    assert_eq!(u64::from(above), 6 * GIB / 65536);
    // Less than 640 KiB, less than 1 MiB, less than 16 MiB.
    let tiny = cmos_image(&config(512 * 1024, 0, 1));
    assert_eq!(word(&tiny, 0x15), 512);
    assert_eq!(word(&tiny, 0x17), 0);
    assert_eq!(word(&tiny, 0x34), 0);
    let small = cmos_image(&config(8 * MIB, 0, 0));
    assert_eq!(word(&small, 0x17), 7 * 1024);
    assert_eq!(word(&small, 0x34), 0);
    assert_eq!(small[0x5f], 0, "0 CPUs count as 1");
    // More than 255 CPUs: 0, the BIOS asks fw_cfg.
    assert_eq!(cmos_image(&config(MIB, 0, 256))[0x5f], 0);
    assert_eq!(cmos_image(&config(MIB, 0, 255))[0x5f], 254);
}

#[test]
fn boot_order_nibbles() {
    let mut c = config(MIB, 0, 1);
    c.boot_order = vec![BootDevice::Cdrom, BootDevice::HardDisk, BootDevice::Floppy];
    let image = cmos_image(&c);
    assert_eq!(image[0x3d], 0x23);
    assert_eq!(image[0x38], 0x10);
    c.boot_order = vec![BootDevice::Network; 5];
    let image = cmos_image(&c);
    assert_eq!(image[0x3d], 0x44);
    assert_eq!(image[0x38], 0x40);
    c.boot_order.clear();
    assert_eq!(cmos_image(&c)[0x3d], 0);
}

#[test]
fn loading_the_image_fills_the_ram_and_not_the_clock() {
    let mut rtc = Rtc::new(BASE);
    let mut image = cmos_image(&config(128 * MIB, 0, 2));
    image[0x00] = 0x99; // the clock's own bytes are not taken
    image[0x0b] = 0xff;
    image[0x32] = 0x19;
    image[0x37] = 0x19;
    rtc.load_ram(&image);
    assert_eq!(peek(&mut rtc, 0x15, 0), 0x80);
    assert_eq!(peek(&mut rtc, 0x16, 0), 0x02);
    assert_eq!(peek(&mut rtc, 0x5f, 0), 1);
    assert_eq!(peek(&mut rtc, 0x2e, 0), image[0x2e]);
    assert_eq!(peek(&mut rtc, SECONDS, 0), 0x37);
    assert_eq!(peek(&mut rtc, REG_B, 0), image_default_b());
    assert_eq!(peek(&mut rtc, CENTURY, 0), 0x20);
    assert_eq!(peek(&mut rtc, PS2_CENTURY, 0), 0x20);
}

/// What the image documents for register B is what the chip powers on with.
fn image_default_b() -> u8 {
    let image = cmos_image(&config(MIB, 0, 1));
    assert_eq!(image[0x0a], POWER_ON_A);
    image[0x0b]
}
