//! Configuration mechanism #1 (PCI 3.0 §3.2.2.3.2), the enumeration Linux
//! and SeaBIOS do through it, and the generic configuration space rules
//! (§6.2): read-only IDs, command and status masks, BAR sizing and decode.

use super::config::*;
use super::*;

/// A function with one BAR of each kind, for the generic rules: an I/O
/// BAR of 32 ports, a 4 KiB memory BAR and a prefetchable 64-bit 1 MiB
/// memory BAR (BARs 2 and 3), INTA#.
#[derive(Debug)]
pub(super) struct BarProbe {
    pub config: ConfigSpace,
}

impl PciDevice for BarProbe {
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }
}

pub(super) fn bar_probe() -> BarProbe {
    let mut config = ConfigSpace::new(PciIds {
        vendor: 0x1af4,
        device: 0x1000,
        revision: 0,
        class: 0x02_00_00,
        header_type: 0,
        subsystem_vendor: 0x1af4,
        subsystem: 1,
    });
    let bars = [
        (0, BarKind::Io, 32),
        (
            1,
            BarKind::Memory32 {
                prefetchable: false,
            },
            4096,
        ),
        (2, BarKind::Memory64 { prefetchable: true }, 1 << 20),
    ];
    for (index, kind, size) in bars {
        config
            .define_bar(index, BarDefinition { kind, size })
            .unwrap();
    }
    config.init_register(INTERRUPT_PIN, &[1], &[0]);
    BarProbe { config }
}

/// 00:03.0, where QEMU puts the first added device.
pub(super) const PROBE: DevFn = DevFn(3 << 3);

pub(super) fn host_with_probe() -> PciHost {
    let mut host = PciHost::new();
    host.insert(PROBE, Box::new(bar_probe())).unwrap();
    host
}

pub(super) fn address(bus: u8, devfn: DevFn, register: u8) -> u32 {
    CONFIG_ENABLE | u32::from(bus) << 16 | u32::from(devfn.bits()) << 8 | u32::from(register)
}

/// A configuration read of `size` bytes at `register` of 00:`devfn`.
pub(super) fn read(host: &mut PciHost, devfn: DevFn, register: u8, size: u32) -> u32 {
    host.write(CONFIG_ADDRESS_PORT, 4, address(0, devfn, register & 0xfc));
    host.read(CONFIG_DATA_PORT + u16::from(register & 3), size)
}

pub(super) fn write(
    host: &mut PciHost,
    devfn: DevFn,
    register: u8,
    size: u32,
    value: u32,
) -> Option<ConfigWrite> {
    host.write(CONFIG_ADDRESS_PORT, 4, address(0, devfn, register & 0xfc));
    host.write(CONFIG_DATA_PORT + u16::from(register & 3), size, value)
}

/// (device, function, vendor, device ID, class, header type) of every
/// function found the way Linux's `pci_scan_slot` looks: dword reads only,
/// functions 1..=7 only where function 0's header type says
/// multi-function.
fn scan_bus0_dwords(host: &mut PciHost) -> Vec<(u8, u8, u16, u16, u32, u8)> {
    let mut found = Vec::new();
    for device in 0..32 {
        for function in 0..8 {
            let devfn = DevFn::new(device, function).unwrap();
            let id = read(host, devfn, 0x00, 4);
            if id & 0xffff == 0xffff {
                if function == 0 {
                    break;
                }
                continue;
            }
            let class = read(host, devfn, 0x08, 4) >> 8;
            let header = (read(host, devfn, 0x0c, 4) >> 16) as u8;
            found.push((
                device,
                function,
                id as u16,
                (id >> 16) as u16,
                class,
                header,
            ));
            if function == 0 && header & HEADER_MULTI_FUNCTION == 0 {
                break;
            }
        }
    }
    found
}

#[test]
fn enumeration_finds_the_pc_chipset() {
    let mut host = PciHost::new();
    assert_eq!(
        scan_bus0_dwords(&mut host),
        vec![
            (0, 0, 0x8086, 0x1237, 0x06_00_00, 0x00),
            (1, 0, 0x8086, 0x7000, 0x06_01_00, 0x80),
            (1, 3, 0x8086, 0x7113, 0x06_80_00, 0x00),
        ]
    );
    let mut host = host_with_probe();
    let found = scan_bus0_dwords(&mut host);
    assert_eq!(found.len(), 4);
    assert_eq!(found[3], (3, 0, 0x1af4, 0x1000, 0x02_00_00, 0));
}

/// SeaBIOS (`pci_probe_devices`) reads the vendor as a word and the
/// header type as a byte: the data port's lanes.
#[test]
fn enumeration_with_word_and_byte_reads() {
    let mut host = PciHost::new();
    let mut found = Vec::new();
    for bits in 0..=255u8 {
        let devfn = DevFn(bits);
        let vendor = read(&mut host, devfn, 0x00, 2);
        if vendor == 0xffff || vendor == 0 {
            continue;
        }
        let device = read(&mut host, devfn, 0x02, 2);
        let header = read(&mut host, devfn, 0x0e, 1);
        let class = read(&mut host, devfn, 0x0a, 2);
        found.push((bits, vendor, device, class, header));
    }
    assert_eq!(
        found,
        vec![
            (0x00, 0x8086, 0x1237, 0x0600, 0x00),
            (0x08, 0x8086, 0x7000, 0x0601, 0x80),
            (0x0b, 0x8086, 0x7113, 0x0680, 0x00),
        ]
    );
    // Subsystem IDs as QEMU gives them.
    for devfn in [
        DevFn::HOST_BRIDGE,
        DevFn::ISA_BRIDGE,
        DevFn::POWER_MANAGEMENT,
    ] {
        assert_eq!(read(&mut host, devfn, 0x2c, 4), 0x1100_1af4);
    }
}

#[test]
fn config_address_is_a_dword_register() {
    let mut host = PciHost::new();
    // Linux's pci_check_type1: a byte to 0xCFB, then the dword probe.
    host.write(0xcfb, 1, 0x01);
    assert_eq!(host.read(CONFIG_ADDRESS_PORT, 4), 0);
    host.write(CONFIG_ADDRESS_PORT, 4, 0x8000_0000);
    assert_eq!(host.read(CONFIG_ADDRESS_PORT, 4), 0x8000_0000);
    // Reserved bits 30:24 and 1:0 read 0.
    host.write(CONFIG_ADDRESS_PORT, 4, 0xffff_ffff);
    assert_eq!(host.read(CONFIG_ADDRESS_PORT, 4), 0x80ff_fffc);
    // Narrow accesses are not CONFIG_ADDRESS: all-ones, writes dropped.
    assert_eq!(host.read(CONFIG_ADDRESS_PORT, 1), 0xff);
    assert_eq!(host.read(CONFIG_ADDRESS_PORT, 2), 0xffff);
    for (port, size) in [(0xcf8, 1), (0xcf8, 2), (0xcfa, 2), (0xcfb, 1), (0xcf9, 1)] {
        host.write(port, size, 0);
        assert_eq!(host.read(CONFIG_ADDRESS_PORT, 4), 0x80ff_fffc);
    }
    // Nor is a dword at another port of the dword.
    assert_eq!(host.read(0xcf9, 4), 0xffff_ffff);
}

#[test]
fn config_data_without_enable_or_off_bus_0_floats() {
    let mut host = PciHost::new();
    host.write(CONFIG_ADDRESS_PORT, 4, 0x0000_0000);
    assert_eq!(host.read(CONFIG_DATA_PORT, 4), 0xffff_ffff);
    assert_eq!(host.read(0xcfe, 2), 0xffff);
    // A write with the enable clear does not reach 00:00.0's PAM.
    host.write(CONFIG_ADDRESS_PORT, 4, 0x0000_005c);
    assert_eq!(host.write(CONFIG_DATA_PORT, 4, 0x3333_3333), None);
    assert_eq!(read(&mut host, DevFn::HOST_BRIDGE, 0x5c, 4), 0);
    // Bus 1..=255: no bridge, master abort.
    for bus in [1u8, 2, 0x80, 0xff] {
        host.write(CONFIG_ADDRESS_PORT, 4, address(bus, DevFn::HOST_BRIDGE, 0));
        assert_eq!(host.read(CONFIG_DATA_PORT, 4), 0xffff_ffff);
        assert_eq!(host.write(CONFIG_DATA_PORT, 4, 0), None);
    }
    // Absent functions: 00:01.1, 00:01.2, 00:02.0.
    for devfn in [DevFn(0x09), DevFn(0x0a), DevFn(0x10), DevFn(0xff)] {
        assert_eq!(read(&mut host, devfn, 0, 4), 0xffff_ffff);
        assert_eq!(read(&mut host, devfn, 0x3c, 1), 0xff);
        assert_eq!(write(&mut host, devfn, 0x3c, 1, 5), None);
    }
}

#[test]
fn data_port_lanes_and_accesses_past_0xcff() {
    let mut host = PciHost::new();
    host.write(CONFIG_ADDRESS_PORT, 4, address(0, DevFn::ISA_BRIDGE, 0));
    assert_eq!(host.read(0xcfc, 4), 0x7000_8086);
    assert_eq!(host.read(0xcfd, 1), 0x80);
    assert_eq!(host.read(0xcfe, 2), 0x7000);
    assert_eq!(host.read(0xcff, 1), 0x70);
    // Unaligned: the bytes past 0xCFF are other ports.
    assert_eq!(host.read(0xcfd, 4), 0xff70_0080);
    assert_eq!(host.read(0xcfd, 2), 0x0080);
    assert_eq!(host.read(0xcff, 2), 0xff70);
    assert_eq!(host.read(0xcff, 4), 0xffff_ff70);
    // The low bits of CONFIG_ADDRESS are gone, so 0xCFC is byte 0.
    host.write(
        CONFIG_ADDRESS_PORT,
        4,
        address(0, DevFn::ISA_BRIDGE, 0x3c) | 3,
    );
    host.write(0xcfc, 1, 0x0b);
    assert_eq!(host.read(0xcfc, 4) & 0xff, 0x0b);
    // An unaligned word write at 0xCFF changes only register byte 3.
    host.write(CONFIG_ADDRESS_PORT, 4, address(0, DevFn::ISA_BRIDGE, 0x60));
    host.write(0xcff, 2, 0x050b);
    assert_eq!(host.read(0xcfc, 4), 0x0b80_8080);
    // Other ports are not this device's.
    assert_eq!(host.read(0xcfb, 1), 0xff);
    assert_eq!(host.read(0xd00, 4), 0xffff_ffff);
    assert_eq!(host.write(0xd00, 4, 0), None);
}

#[test]
fn identity_registers_are_read_only() {
    let mut host = host_with_probe();
    for (devfn, _) in PciHost::new().functions() {
        let before: Vec<u32> = (0..4).map(|i| read(&mut host, devfn, i * 4, 4)).collect();
        for register in [0x00u8, 0x08, 0x2c] {
            assert_eq!(write(&mut host, devfn, register, 4, 0xffff_ffff), None);
            assert_eq!(write(&mut host, devfn, register, 4, 0), None);
        }
        write(&mut host, devfn, 0x0e, 1, 0x7f);
        let after: Vec<u32> = (0..4).map(|i| read(&mut host, devfn, i * 4, 4)).collect();
        assert_eq!(before[0], after[0]);
        assert_eq!(before[2], after[2]);
        assert_eq!(before[3] & 0xffff_ff00, after[3] & 0xffff_ff00);
        assert_eq!(read(&mut host, devfn, 0x2c, 4), 0x1100_1af4);
        // Latency timer: 0 and not writable (QEMU).
        assert_eq!(read(&mut host, devfn, 0x0d, 1), 0);
    }
}

#[test]
fn command_register_mask_and_effect() {
    let mut host = host_with_probe();
    assert_eq!(read(&mut host, PROBE, COMMAND, 2), 0);
    let w = write(&mut host, PROBE, COMMAND, 2, 0xffff);
    assert_eq!(
        w,
        Some(ConfigWrite {
            devfn: PROBE,
            effect: ConfigWriteEffect::CommandChanged
        })
    );
    assert_eq!(
        read(&mut host, PROBE, COMMAND, 2),
        u32::from(COMMAND_WRITABLE)
    );
    assert_eq!(u32::from(COMMAND_WRITABLE), 0x0507);
    // The same value again changes nothing.
    assert_eq!(write(&mut host, PROBE, COMMAND, 2, 0xffff), None);
    // Cache line size and interrupt line are plain bytes; the pin is not.
    write(&mut host, PROBE, CACHE_LINE_SIZE, 1, 0x10);
    assert_eq!(read(&mut host, PROBE, CACHE_LINE_SIZE, 1), 0x10);
    write(&mut host, PROBE, INTERRUPT_LINE, 2, 0x040b);
    assert_eq!(read(&mut host, PROBE, INTERRUPT_LINE, 2), 0x010b);
}

#[test]
fn status_error_bits_are_write_1_to_clear() {
    let mut host = host_with_probe();
    // The errors a transaction would have set, through a snapshot.
    let mut s = host.state();
    let image = &mut s.functions.iter_mut().find(|(d, _)| *d == PROBE).unwrap().1;
    image[usize::from(STATUS) + 1] = 0xff;
    host.restore(&s);
    // Only the error bits were taken from the image.
    assert_eq!(read(&mut host, PROBE, STATUS, 2), 0xf900);
    // Writing 1 clears (received master abort, bit 13); 0 leaves.
    assert_eq!(write(&mut host, PROBE, STATUS, 2, 0x2000), None);
    assert_eq!(read(&mut host, PROBE, STATUS, 2), 0xd900);
    // A dword write of the command with its own status read back clears
    // every error it saw, the usual driver idiom.
    let dword = read(&mut host, PROBE, COMMAND, 4);
    write(&mut host, PROBE, COMMAND, 4, dword);
    assert_eq!(read(&mut host, PROBE, STATUS, 2), 0);
    // Status bits other than the errors are read-only.
    assert_eq!(read(&mut host, DevFn::ISA_BRIDGE, STATUS, 2), 0x0200);
    write(&mut host, DevFn::ISA_BRIDGE, STATUS, 2, 0xffff);
    assert_eq!(read(&mut host, DevFn::ISA_BRIDGE, STATUS, 2), 0x0200);
}

/// Sizing as Linux's `__pci_read_base` does it: save, write all-ones,
/// read, restore.
#[test]
fn bar_sizing() {
    let mut host = host_with_probe();
    let mut sized = Vec::new();
    for i in 0..6u8 {
        let at = BAR0 + 4 * i;
        let saved = read(&mut host, PROBE, at, 4);
        write(&mut host, PROBE, at, 4, 0xffff_ffff);
        sized.push(read(&mut host, PROBE, at, 4));
        write(&mut host, PROBE, at, 4, saved);
        assert_eq!(read(&mut host, PROBE, at, 4), saved);
    }
    assert_eq!(
        sized,
        vec![
            0xffff_ffe1, // I/O, 32 ports
            0xffff_f000, // 32-bit memory, 4 KiB
            0xfff0_000c, // 64-bit prefetchable memory, 1 MiB: low half
            0xffff_ffff, // high half
            0,           // absent
            0,
        ]
    );
    // The absent BARs and the expansion ROM are read-only zeros.
    write(&mut host, PROBE, 0x30, 4, 0xffff_ffff);
    assert_eq!(read(&mut host, PROBE, 0x30, 4), 0);
    // The chipset functions have no BARs.
    for devfn in [
        DevFn::HOST_BRIDGE,
        DevFn::ISA_BRIDGE,
        DevFn::POWER_MANAGEMENT,
    ] {
        for i in 0..6u8 {
            write(&mut host, devfn, BAR0 + 4 * i, 4, 0xffff_ffff);
            assert_eq!(read(&mut host, devfn, BAR0 + 4 * i, 4), 0);
        }
    }
}

#[test]
fn bar_writes_report_and_decode() {
    let mut host = host_with_probe();
    let changed = Some(ConfigWrite {
        devfn: PROBE,
        effect: ConfigWriteEffect::BarsChanged,
    });
    assert_eq!(write(&mut host, PROBE, 0x10, 4, 0xc001), changed);
    assert_eq!(write(&mut host, PROBE, 0x10, 4, 0xc001), None);
    assert_eq!(write(&mut host, PROBE, 0x14, 4, 0xfebf_1000), changed);
    // The 64-bit BAR above 4 GiB, a half at a time.
    assert_eq!(write(&mut host, PROBE, 0x18, 4, 0x0010_0000), changed);
    assert_eq!(write(&mut host, PROBE, 0x1c, 4, 0x1), changed);
    let cfg = |host: &PciHost| host.function(PROBE).unwrap().config().clone();
    // Nothing decodes until the command register enables it.
    assert_eq!(cfg(&host).bar_regions(), vec![]);
    write(&mut host, PROBE, COMMAND, 2, u32::from(COMMAND_IO));
    assert_eq!(
        cfg(&host).bar_regions(),
        vec![BarRegion {
            index: 0,
            kind: BarKind::Io,
            base: 0xc000,
            size: 32
        }]
    );
    write(
        &mut host,
        PROBE,
        COMMAND,
        2,
        u32::from(COMMAND_IO | COMMAND_MEMORY),
    );
    let regions = cfg(&host).bar_regions();
    assert_eq!(regions.len(), 3);
    assert_eq!((regions[1].base, regions[1].size), (0xfebf_1000, 4096));
    assert_eq!(
        regions[2],
        BarRegion {
            index: 2,
            kind: BarKind::Memory64 { prefetchable: true },
            base: 0x1_0010_0000,
            size: 1 << 20
        }
    );
    // While sized (all-ones), at 0, or reaching past port 0xFFFF: unmapped.
    write(&mut host, PROBE, 0x14, 4, 0xffff_ffff);
    assert_eq!(cfg(&host).bar_region(1), None);
    write(&mut host, PROBE, 0x14, 4, 0);
    assert_eq!(cfg(&host).bar_region(1), None);
    write(&mut host, PROBE, 0x10, 4, 0xffff_ffff);
    assert_eq!(cfg(&host).bar_region(0), None);
    write(&mut host, PROBE, 0x10, 4, 0xffe1);
    assert_eq!(cfg(&host).bar_region(0).map(|r| r.base), Some(0xffe0));
    write(&mut host, PROBE, 0x10, 4, 0x1_0001);
    assert_eq!(cfg(&host).bar_region(0), None);
    write(&mut host, PROBE, 0x10, 4, 0xffc1);
    assert_eq!(cfg(&host).bar_region(0).map(|r| r.base), Some(0xffc0));
    // A 64-bit BAR sized in both halves.
    write(&mut host, PROBE, 0x18, 4, 0xffff_ffff);
    write(&mut host, PROBE, 0x1c, 4, 0xffff_ffff);
    assert_eq!(cfg(&host).bar_region(2), None);
    assert_eq!(cfg(&host).bar_address(2), Some(0xffff_ffff_fff0_0000));
}

#[test]
fn bar_definitions_are_checked() {
    let mut c = bar_probe().config;
    let io = |size| BarDefinition {
        kind: BarKind::Io,
        size,
    };
    let mem64 = BarDefinition {
        kind: BarKind::Memory64 {
            prefetchable: false,
        },
        size: 4096,
    };
    assert_eq!(c.define_bar(0, io(4)), Err(BarError::Taken { index: 0 }));
    assert_eq!(c.define_bar(3, io(4)), Err(BarError::Taken { index: 3 }));
    assert_eq!(
        c.define_bar(5, mem64),
        Err(BarError::NoSuchBar { index: 5 })
    );
    assert_eq!(
        c.define_bar(6, io(4)),
        Err(BarError::NoSuchBar { index: 6 })
    );
    assert_eq!(c.define_bar(4, io(2)), Err(BarError::BadSize { size: 2 }));
    assert_eq!(
        c.define_bar(4, io(512)),
        Err(BarError::BadSize { size: 512 })
    );
    assert_eq!(c.define_bar(4, io(48)), Err(BarError::BadSize { size: 48 }));
    assert_eq!(c.define_bar(4, mem64), Ok(()));
    assert_eq!(c.define_bar(5, io(4)), Err(BarError::Taken { index: 5 }));
}

#[test]
fn insert_rejects_taken_functions() {
    let mut host = host_with_probe();
    for devfn in [
        DevFn::HOST_BRIDGE,
        DevFn::ISA_BRIDGE,
        DevFn::POWER_MANAGEMENT,
        PROBE,
    ] {
        assert!(matches!(
            host.insert(devfn, Box::new(bar_probe())),
            Err(PciError::Occupied { .. })
        ));
    }
    host.insert(DevFn::new(2, 0).unwrap(), Box::new(bar_probe()))
        .unwrap();
    let order: Vec<u8> = host.functions().iter().map(|(d, _)| d.bits()).collect();
    assert_eq!(order, vec![0x00, 0x08, 0x0b, 0x10, 0x18]);
    assert_eq!(DevFn::new(32, 0), None);
    assert_eq!(DevFn::new(0, 8), None);
}

#[test]
fn reset_returns_to_power_on() {
    let mut host = host_with_probe();
    let fresh = host.state();
    write(&mut host, PROBE, COMMAND, 2, 0x7);
    write(&mut host, PROBE, 0x10, 4, 0xc001);
    write(&mut host, DevFn::HOST_BRIDGE, 0x5a, 1, 0x33);
    write(&mut host, DevFn::ISA_BRIDGE, 0x60, 4, 0x0b0b_0a0a);
    write(&mut host, DevFn::POWER_MANAGEMENT, 0x80, 1, 1);
    assert_ne!(host.state(), fresh);
    host.reset();
    assert_eq!(host.state(), fresh);
    assert_eq!(host.config_address(), 0);
}

/// Every CONFIG_ADDRESS register of every function, every port around
/// the host bridge's, every access size a caller could pass: no panic,
/// and a narrow read has nothing above its size.
#[test]
fn hostile_accesses_never_panic() {
    let mut host = host_with_probe();
    let sizes = [0u32, 1, 2, 3, 4, 5, 8, u32::MAX];
    for devfn in [0x00u8, 0x08, 0x0b, 0x18, 0x09, 0xff] {
        for register in (0..=255u8).step_by(4) {
            for bus in [0u8, 1] {
                let a = address(bus, DevFn(devfn), register);
                for port in 0xcf4..=0xd04u16 {
                    for size in sizes {
                        host.write(CONFIG_ADDRESS_PORT, 4, a);
                        let v = host.read(port, size);
                        if size < 4 {
                            assert_eq!(v >> (8 * size), 0, "{port:#x}/{size}");
                        }
                        host.write(port, size, 0xffff_ffff);
                        host.write(port, size, 0);
                    }
                }
            }
        }
    }
    // Garbage CONFIG_ADDRESS values, enable set, reserved bits and all.
    for a in [0xffff_ffffu32, 0x7fff_ffff, 0x8100_0000, 0xfe00_0003] {
        host.write(CONFIG_ADDRESS_PORT, 4, a);
        for size in sizes {
            host.read(CONFIG_DATA_PORT, size);
            host.write(CONFIG_DATA_PORT + 3, size, a);
        }
    }
}
