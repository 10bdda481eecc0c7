//! The chipset functions against their datasheets and QEMU's `pc`: the
//! i440FX's PAM decode and SMRAM lock, the PIIX3's PIRQ route registers
//! and the INTx routing, the PIIX4 PM and SMBus bases.

use super::config::*;
use super::i440fx::*;
use super::piix3::*;
use super::piix4_pm::*;
use super::tests::{bar_probe, host_with_probe, read, write, PROBE};
use super::*;

fn effect(devfn: DevFn, effect: ConfigWriteEffect) -> Option<ConfigWrite> {
    Some(ConfigWrite { devfn, effect })
}

#[test]
fn i440fx_power_on_registers() {
    let mut host = PciHost::new();
    let h = DevFn::HOST_BRIDGE;
    assert_eq!(read(&mut host, h, 0x00, 4), 0x1237_8086);
    assert_eq!(read(&mut host, h, 0x08, 4), 0x0600_0002);
    assert_eq!(read(&mut host, h, COMMAND, 4), 0);
    assert_eq!(read(&mut host, h, 0x58, 4), 0);
    assert_eq!(read(&mut host, h, 0x5c, 4), 0);
    assert_eq!(read(&mut host, h, SMRAM, 1), 0x02);
    assert!(host
        .host_bridge()
        .pam()
        .iter()
        .all(|s| !s.read_dram && !s.write_dram));
}

/// Every field of every PAM register, one at a time: RE and WE land in
/// the segment the datasheet names, and nowhere else.
#[test]
fn pam_decode_of_all_seven_registers() {
    // (register, high field?) → segment base and size.
    let mut fields = vec![(PAM0, true, 0xf_0000u32, 0x1_0000u32)];
    for i in 0..12u32 {
        fields.push((
            PAM0 + 1 + (i / 2) as u8,
            i % 2 == 1,
            0xc_0000 + 0x4000 * i,
            0x4000,
        ));
    }
    for (register, high, base, size) in fields {
        for attr in 0..4u32 {
            let mut host = PciHost::new();
            let value = if high { attr << 4 } else { attr };
            let w = write(&mut host, DevFn::HOST_BRIDGE, register, 1, value);
            let expected = if attr == 0 {
                None
            } else {
                effect(DevFn::HOST_BRIDGE, ConfigWriteEffect::PamChanged)
            };
            assert_eq!(w, expected, "PAM {register:#x} = {value:#x}");
            let pam = host.host_bridge().pam();
            for s in pam {
                let hit = s.base == base;
                if hit {
                    assert_eq!(s.size, size);
                }
                assert_eq!(s.read_dram, hit && attr & 1 != 0, "{register:#x} {s:?}");
                assert_eq!(s.write_dram, hit && attr & 2 != 0, "{register:#x} {s:?}");
            }
        }
    }
}

#[test]
fn pam_segments_tile_c0000_to_fffff() {
    let pam = PciHost::new().host_bridge().pam();
    let mut next = 0xc_0000;
    for s in pam {
        assert_eq!(s.base, next);
        next += s.size;
    }
    assert_eq!(next, 0x10_0000);
}

#[test]
fn pam_reserved_bits_read_zero() {
    let mut host = PciHost::new();
    for register in PAM0..PAM0 + 7 {
        write(&mut host, DevFn::HOST_BRIDGE, register, 1, 0xff);
        let expected = if register == PAM0 { 0x30 } else { 0x33 };
        assert_eq!(read(&mut host, DevFn::HOST_BRIDGE, register, 1), expected);
    }
}

/// SeaBIOS's `make_bios_writable`: two dword read-modify-writes at 0x58
/// and 0x5C with PAM0 = 0x30 and the rest 0x33; then `make_bios_readonly`
/// writes 0x11 and 0x10.
#[test]
fn pam_as_seabios_programs_it() {
    let mut host = PciHost::new();
    let h = DevFn::HOST_BRIDGE;
    let low = read(&mut host, h, 0x58, 4);
    let w = write(&mut host, h, 0x58, 4, low & 0xff | 0x3333_3000);
    assert_eq!(w, effect(h, ConfigWriteEffect::PamChanged));
    write(&mut host, h, 0x5c, 4, 0x3333_3333);
    assert!(host
        .host_bridge()
        .pam()
        .iter()
        .all(|s| s.read_dram && s.write_dram));
    for register in PAM0 + 1..PAM0 + 7 {
        write(&mut host, h, register, 1, 0x11);
    }
    write(&mut host, h, PAM0, 1, 0x10);
    assert!(host
        .host_bridge()
        .pam()
        .iter()
        .all(|s| s.read_dram && !s.write_dram));
    assert_eq!(
        host.host_bridge().pam_registers(),
        [0x10, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11]
    );
}

#[test]
fn smram_base_segment_is_fixed_and_lock_holds_until_reset() {
    let mut host = PciHost::new();
    let h = DevFn::HOST_BRIDGE;
    // C_BASE_SEG and bit 7 are read-only.
    let w = write(&mut host, h, SMRAM, 1, u32::from(!SMRAM_D_LCK));
    assert_eq!(w, effect(h, ConfigWriteEffect::SmramChanged));
    assert_eq!(host.host_bridge().smram(), 0x6a);
    // D_LCK closes D_OPEN at once, even when written together.
    write(&mut host, h, SMRAM, 1, 0x5a);
    assert_eq!(host.host_bridge().smram(), 0x1a);
    // Locked: D_OPEN and D_LCK no longer change; D_CLS and G_SMRAME do.
    assert_eq!(
        write(&mut host, h, SMRAM, 1, 0x62),
        effect(h, ConfigWriteEffect::SmramChanged)
    );
    assert_eq!(host.host_bridge().smram(), 0x32);
    write(&mut host, h, SMRAM, 1, 0x00);
    assert_eq!(host.host_bridge().smram(), 0x12);
    assert_eq!(write(&mut host, h, SMRAM, 1, 0x12), None);
    // A snapshot that claims open and locked is closed on restore.
    let mut s = host.state();
    s.functions[0].1[usize::from(SMRAM)] = 0xff;
    host.restore(&s);
    assert_eq!(host.host_bridge().smram(), 0x3a);
    host.reset();
    assert_eq!(host.host_bridge().smram(), SMRAM_DEFAULT);
    write(&mut host, h, SMRAM, 1, 0x4a);
    assert_eq!(host.host_bridge().smram(), 0x4a);
}

#[test]
fn piix3_power_on_registers() {
    let mut host = PciHost::new();
    let i = DevFn::ISA_BRIDGE;
    assert_eq!(read(&mut host, i, 0x00, 4), 0x7000_8086);
    assert_eq!(read(&mut host, i, COMMAND, 4), 0x0200_0007);
    assert_eq!(read(&mut host, i, 0x08, 4), 0x0601_0000);
    assert_eq!(read(&mut host, i, 0x0c, 4), 0x0080_0000);
    assert_eq!(read(&mut host, i, PIRQRC, 4), 0x8080_8080);
    assert_eq!(read(&mut host, i, 0x4c, 4), 0x0003_004d);
    assert_eq!(read(&mut host, i, 0x68, 4), 0x0000_0200);
    assert_eq!(read(&mut host, i, 0x74, 4), 0x0c0c_0000);
    for p in Pirq::ALL {
        assert_eq!(host.isa_bridge().pirq_route(p), None);
    }
}

#[test]
fn pirq_route_registers() {
    let mut host = PciHost::new();
    let i = DevFn::ISA_BRIDGE;
    // SeaBIOS's defaults: 10, 10, 11, 11.
    let w = write(&mut host, i, PIRQRC, 4, 0x0b0b_0a0a);
    assert_eq!(w, effect(i, ConfigWriteEffect::PirqRoutesChanged));
    let routes = Pirq::ALL.map(|p| host.isa_bridge().pirq_route(p));
    assert_eq!(routes, [Some(10), Some(10), Some(11), Some(11)]);
    assert_eq!(write(&mut host, i, PIRQRC, 4, 0x0b0b_0a0a), None);
    // Reserved bits 6:4 read 0.
    write(&mut host, i, PIRQRC + 2, 1, 0x7e);
    assert_eq!(read(&mut host, i, PIRQRC + 2, 1), 0x0e);
    assert_eq!(host.isa_bridge().pirq_route(Pirq::C), Some(14));
    // Every IRQ value: only 3-7, 9-12, 14, 15 route; bit 7 disables.
    for irq in 0..16u32 {
        write(&mut host, i, PIRQRC + 3, 1, irq);
        let routable = matches!(irq, 3..=7 | 9..=12 | 14 | 15);
        let expected = routable.then_some(irq as u8);
        assert_eq!(host.isa_bridge().pirq_route(Pirq::D), expected, "{irq}");
        write(&mut host, i, PIRQRC + 3, 1, irq | 0x80);
        assert_eq!(host.isa_bridge().pirq_route(Pirq::D), None);
    }
}

/// QEMU's `pc` swizzle: slot 1 INTA# is PIRQA, slot 2 PIRQB, slot 3
/// PIRQC, slot 0 PIRQD; each further pin one PIRQ on.
#[test]
fn slot_swizzle() {
    use Pirq::*;
    let table = [
        (0, [D, A, B, C]),
        (1, [A, B, C, D]),
        (2, [B, C, D, A]),
        (3, [C, D, A, B]),
        (4, [D, A, B, C]),
        (31, [C, D, A, B]),
    ];
    for (slot, pirqs) in table {
        for (pin, pirq) in (1..=4).zip(pirqs) {
            assert_eq!(slot_pirq(slot, pin), Some(pirq), "slot {slot} pin {pin}");
        }
    }
    assert_eq!(slot_pirq(3, 0), None);
    assert_eq!(slot_pirq(3, 5), None);
    assert_eq!(slot_pirq(255, 1), slot_pirq(31, 1));
    assert_eq!(Pirq::ALL.map(pirq_gsi), [16, 17, 18, 19]);
}

#[test]
fn intx_routing_through_the_host() {
    let mut host = host_with_probe();
    host.insert(DevFn::new(2, 0).unwrap(), Box::new(bar_probe()))
        .unwrap();
    let slot2 = DevFn::new(2, 0).unwrap();
    // Nothing is routed at power-on.
    assert_eq!(host.intx_pirq(PROBE), Some(Pirq::C));
    assert_eq!(host.intx_isa_irq(PROBE), None);
    assert_eq!(host.intx_gsi(PROBE), Some(18));
    // The host bridge and ISA bridge have no pin; PM has INTA# (PIRQA).
    assert_eq!(host.intx_pirq(DevFn::HOST_BRIDGE), None);
    assert_eq!(host.intx_pirq(DevFn::ISA_BRIDGE), None);
    assert_eq!(host.intx_pirq(DevFn::POWER_MANAGEMENT), Some(Pirq::A));
    assert_eq!(host.intx_pirq(DevFn::new(9, 0).unwrap()), None);
    write(&mut host, DevFn::ISA_BRIDGE, PIRQRC, 4, 0x0b0b_0a0a);
    assert_eq!(host.intx_isa_irq(PROBE), Some(11));
    assert_eq!(host.intx_isa_irq(slot2), Some(10));
    assert_eq!(host.intx_isa_irq(DevFn::POWER_MANAGEMENT), Some(10));
    // Levels: the probe at slot 3 asserts INTA#.
    assert_eq!(host.isa_irq_levels(), 0);
    let probe = host.function_mut(PROBE).unwrap().config_mut();
    probe.set_interrupt_status(true);
    assert_eq!(host.pirq_levels(), [false, false, true, false]);
    assert_eq!(host.isa_irq_levels(), 1 << 11);
    // INTx disable masks the pin, the status bit stays.
    write(
        &mut host,
        PROBE,
        COMMAND,
        2,
        u32::from(COMMAND_INTX_DISABLE),
    );
    assert_eq!(host.isa_irq_levels(), 0);
    assert_eq!(read(&mut host, PROBE, STATUS, 2) & 0x8, 0x8);
    write(&mut host, PROBE, COMMAND, 2, 0);
    // Two PIRQs on one IRQ are ORed; an unrouted PIRQ drives nothing.
    write(&mut host, DevFn::ISA_BRIDGE, PIRQRC + 2, 1, 10);
    assert_eq!(host.isa_irq_levels(), 1 << 10);
    write(&mut host, DevFn::ISA_BRIDGE, PIRQRC + 2, 1, 0x80);
    assert_eq!(host.isa_irq_levels(), 0);
    assert_eq!(
        host.isa_bridge().isa_irq_levels([true, true, true, true]),
        1 << 10 | 1 << 11
    );
}

#[test]
fn piix4_pm_power_on_registers() {
    let mut host = PciHost::new();
    let p = DevFn::POWER_MANAGEMENT;
    assert_eq!(read(&mut host, p, 0x00, 4), 0x7113_8086);
    assert_eq!(read(&mut host, p, COMMAND, 4), 0x0280_0000);
    assert_eq!(read(&mut host, p, 0x08, 4), 0x0680_0003);
    assert_eq!(read(&mut host, p, 0x0c, 4), 0);
    assert_eq!(read(&mut host, p, INTERRUPT_LINE, 2), 0x0100);
    assert_eq!(read(&mut host, p, PMBA, 4), 1);
    assert_eq!(read(&mut host, p, PMREGMISC, 1), 0);
    assert_eq!(read(&mut host, p, SMBBA, 4), 0xb101);
    assert_eq!(read(&mut host, p, SMBHSTCFG, 1), 0x09);
    assert_eq!(read(&mut host, p, 0x58, 4), 0x0200_0000);
    assert_eq!(read(&mut host, p, 0x5c, 4), 0x1000_0000);
    assert_eq!(read(&mut host, p, 0x64, 4), 0x9800_0000);
    assert_eq!(host.power_management().pm_io_base(), None);
    assert_eq!(host.power_management().smbus_io_base(), Some(0xb100));
}

/// SeaBIOS's `piix4_pm_setup`: PMBA = 0x600 | 1, PMREGMISC = 1, SMBBA =
/// 0x700 | 1, SMBHSTCFG = 9.
#[test]
fn pm_and_smbus_bases_as_seabios_programs_them() {
    let mut host = PciHost::new();
    let p = DevFn::POWER_MANAGEMENT;
    let pm = |e| effect(p, e);
    assert_eq!(
        write(&mut host, p, PMBA, 4, 0x601),
        pm(ConfigWriteEffect::PmIoChanged)
    );
    assert_eq!(host.power_management().pm_io_base(), None);
    assert_eq!(
        write(&mut host, p, PMREGMISC, 1, 1),
        pm(ConfigWriteEffect::PmIoChanged)
    );
    assert_eq!(host.power_management().pm_io_base(), Some(0x600));
    assert_eq!(
        write(&mut host, p, SMBBA, 4, 0x701),
        pm(ConfigWriteEffect::SmbusIoChanged)
    );
    assert_eq!(write(&mut host, p, SMBHSTCFG, 1, 9), None);
    assert_eq!(host.power_management().smbus_io_base(), Some(0x700));
    assert_eq!(
        write(&mut host, p, SMBHSTCFG, 1, 0),
        pm(ConfigWriteEffect::SmbusIoChanged)
    );
    assert_eq!(host.power_management().smbus_io_base(), None);
    // Masks: PMBA keeps bits 15:6 and its I/O bit; SMBBA bits 15:4.
    write(&mut host, p, PMBA, 4, 0xffff_ffff);
    assert_eq!(read(&mut host, p, PMBA, 4), 0xffc1);
    write(&mut host, p, PMBA, 4, 0);
    assert_eq!(read(&mut host, p, PMBA, 4), 1);
    assert_eq!(host.power_management().pm_io_base(), Some(0));
    write(&mut host, p, SMBBA, 4, 0xffff_ffff);
    assert_eq!(read(&mut host, p, SMBBA, 4), 0xfff1);
    write(&mut host, p, PMREGMISC, 1, 0xff);
    assert_eq!(read(&mut host, p, PMREGMISC, 1), 1);
    // Byte writes to the base's high byte move it too.
    write(&mut host, p, PMBA + 1, 1, 0xb0);
    assert_eq!(host.power_management().pm_io_base(), Some(0xb000));
}
