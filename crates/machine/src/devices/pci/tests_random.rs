//! Random port accesses of random sizes at 0xCF8..=0xCFF and around (a
//! fixed xorshift sequence per seed), with CONFIG_ADDRESS values biased
//! towards the present functions. After every step: nothing panicked, the
//! read-only bits the datasheets fix still hold, and what a write reported
//! matches what changed in the state the machine reads (PAM, SMRAM, PIRQ
//! routes, PM and SMBus bases, BARs and command). A shadow host fed the
//! same steps is replaced now and then by one restored from a snapshot and
//! must answer every read identically; garbage snapshots must restore to
//! states that keep the invariants.

use super::config::*;
use super::i440fx::*;
use super::piix3::*;
use super::piix4_pm::*;
use super::tests::{host_with_probe, PROBE};
use super::*;
use crate::testutil::XorShift;

/// Registers worth hitting more often than a random one would.
const REGISTERS: [u8; 16] = [
    0x00, 0x04, 0x04, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x3c, 0x40, 0x58, 0x5c, 0x60, 0x70, 0x80, 0x90,
];
const PRESENT: [u8; 4] = [0x00, 0x08, 0x0b, 0x18];

/// Everything the machine reads from the host after a write.
#[derive(Debug, PartialEq, Eq)]
struct Visible {
    pam: [PamSegment; PAM_SEGMENTS],
    smram: u8,
    routes: [Option<u8>; 4],
    pm: Option<u16>,
    smbus: Option<u16>,
    command: u16,
    bars: Vec<BarRegion>,
    bar_bytes: u32,
}

fn visible(host: &PciHost) -> Visible {
    let probe = host.function(PROBE).unwrap().config();
    let bar_bytes = (0..6u8).fold(0u32, |h, i| h.rotate_left(5) ^ probe.dword(BAR0 + 4 * i));
    Visible {
        pam: host.host_bridge().pam(),
        smram: host.host_bridge().smram(),
        routes: Pirq::ALL.map(|p| host.isa_bridge().pirq_route(p)),
        pm: host.power_management().pm_io_base(),
        smbus: host.power_management().smbus_io_base(),
        command: probe.command(),
        bars: probe.bar_regions(),
        bar_bytes,
    }
}

/// The bits the datasheets fix, whatever the guest or a snapshot did.
fn check_invariants(host: &PciHost, fresh: &PciHost, context: &str) {
    assert_eq!(host.config_address() & !CONFIG_ADDRESS_MASK, 0, "{context}");
    for ((devfn, f), (_, g)) in host.functions().into_iter().zip(fresh.functions()) {
        let (c, d) = (f.config(), g.config());
        // IDs, class, header type, subsystem, pin.
        for at in [
            0x00u8, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x0e, 0x2c, 0x2d, 0x2e, 0x2f, 0x3d,
        ] {
            assert_eq!(c.byte(at), d.byte(at), "{context}: {devfn:?} byte {at:#x}");
        }
        assert_eq!(c.command() & !COMMAND_WRITABLE, 0, "{context}");
        assert_eq!(
            c.word(STATUS) & 0x06f7,
            d.word(STATUS) & 0x06f7,
            "{context}"
        );
        for i in 0..6 {
            if let Some(bar) = c.bar_definition(i) {
                let low = c.dword(BAR0 + 4 * i as u8);
                let size_bits = (bar.size - 1) as u32;
                let type_bits = if bar.kind == BarKind::Io { 0x1 } else { 0xf };
                assert_eq!(
                    low & (size_bits | type_bits),
                    d.dword(BAR0 + 4 * i as u8),
                    "{context}: BAR {i}"
                );
            }
        }
    }
    let pam = host.host_bridge().pam_registers();
    assert_eq!(pam[0] & !0x30, 0, "{context}");
    assert!(pam[1..].iter().all(|r| r & !0x33 == 0), "{context}");
    let smram = host.host_bridge().smram();
    assert_eq!(smram & 0x87, SMRAM_DEFAULT, "{context}");
    if smram & SMRAM_D_LCK != 0 {
        assert_eq!(smram & SMRAM_D_OPEN, 0, "{context}");
    }
    let routes = host.isa_bridge().pirq_registers();
    assert!(routes.iter().all(|r| r & 0x70 == 0), "{context}");
    let pm = host.power_management().config();
    assert_eq!(pm.dword(PMBA) & !0xffc0, 1, "{context}");
    assert_eq!(pm.dword(SMBBA) & !0xfff0, 1, "{context}");
    assert_eq!(pm.byte(PMREGMISC) & !1, 0, "{context}");
    assert_eq!(pm.byte(SMBHSTCFG) & !0xf, 0, "{context}");
}

/// One random port access; returns a configuration write's report.
fn step(
    rng: &mut XorShift,
    host: &mut PciHost,
    shadow: &mut PciHost,
    context: &str,
) -> Option<ConfigWrite> {
    let size = rng.pick(&[1u32, 2, 4, 4, 4, 4, 0, 3, 8]);
    match rng.below(10) {
        0..=2 => {
            // A CONFIG_ADDRESS write, usually a sensible one.
            let value = if rng.below(4) == 0 {
                rng.next() as u32
            } else {
                let devfn = if rng.below(5) == 0 {
                    rng.next() as u8
                } else {
                    rng.pick(&PRESENT)
                };
                let register = if rng.below(2) == 0 {
                    rng.pick(&REGISTERS)
                } else {
                    rng.next() as u8
                };
                let bus = if rng.below(8) == 0 {
                    rng.next() as u8
                } else {
                    0
                };
                let enable = if rng.below(10) != 0 { CONFIG_ENABLE } else { 0 };
                enable | u32::from(bus) << 16 | u32::from(devfn) << 8 | u32::from(register)
            };
            let size = if rng.below(6) == 0 { size } else { 4 };
            assert_eq!(
                host.write(0xcf8, size, value),
                shadow.write(0xcf8, size, value)
            );
            None
        }
        3..=5 => {
            let port = rng.pick(&[
                0xcf8u16, 0xcf9, 0xcfa, 0xcfb, 0xcfc, 0xcfd, 0xcfe, 0xcff, 0xd00,
            ]);
            let (a, b) = (host.read(port, size), shadow.read(port, size));
            assert_eq!(a, b, "{context}: read {port:#x}/{size}");
            if size < 4 {
                assert_eq!(a >> (8 * size), 0, "{context}: read {port:#x}/{size}");
            }
            None
        }
        _ => {
            let port = 0xcfc + rng.below(4) as u16;
            let value = match rng.below(4) {
                0 => u32::MAX,
                1 => 0,
                _ => rng.next() as u32,
            };
            let before = visible(host);
            let report = host.write(port, size, value);
            assert_eq!(report, shadow.write(port, size, value), "{context}");
            let after = visible(host);
            check_effect(report, &before, &after, context);
            report
        }
    }
}

/// A write's report names whatever visible state changed (a report with
/// no visible change is fine: a disabled PIRQ or PM base moved), and a
/// write that reports nothing changed nothing.
fn check_effect(report: Option<ConfigWrite>, before: &Visible, after: &Visible, context: &str) {
    use ConfigWriteEffect as E;
    let effect = report.map_or(E::None, |w| w.effect);
    let implies = |changed: bool, expected: &[E]| {
        if changed {
            assert!(
                expected.contains(&effect),
                "{context}: {effect:?}, {expected:?}"
            );
        }
    };
    // PAM and SMRAM hold no bits beyond what they decode.
    assert_eq!(
        before.pam != after.pam,
        effect == E::PamChanged,
        "{context}"
    );
    assert_eq!(
        before.smram != after.smram,
        effect == E::SmramChanged,
        "{context}"
    );
    implies(before.routes != after.routes, &[E::PirqRoutesChanged]);
    implies(before.pm != after.pm, &[E::PmIoChanged]);
    implies(before.smbus != after.smbus, &[E::SmbusIoChanged]);
    implies(before.command != after.command, &[E::CommandChanged]);
    implies(before.bar_bytes != after.bar_bytes, &[E::BarsChanged]);
    implies(
        before.bars != after.bars,
        &[E::BarsChanged, E::CommandChanged],
    );
    if effect == E::None {
        assert_eq!(before, after, "{context}");
    }
}

#[test]
fn random_accesses_keep_invariants_and_snapshots_replay() {
    let fresh = host_with_probe();
    let mut seen = Vec::new();
    for seed in 1..=40u64 {
        let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut host = host_with_probe();
        let mut shadow = host_with_probe();
        for i in 0..3000 {
            let context = format!("seed {seed} step {i}");
            if let Some(w) = step(&mut rng, &mut host, &mut shadow, &context) {
                if !seen.contains(&w.effect) {
                    seen.push(w.effect);
                }
            }
            check_invariants(&host, &fresh, &context);
            match rng.below(200) {
                0 => {
                    // The shadow resumes from a snapshot of the host.
                    let s = host.state();
                    shadow = host_with_probe();
                    shadow.restore(&s);
                    assert_eq!(shadow.state(), s, "{context}");
                }
                1 => {
                    host.reset();
                    shadow.reset();
                    assert_eq!(host.state(), fresh.state(), "{context}");
                }
                _ => {}
            }
        }
    }
    // The sequence reaches every kind of change (the checks above are
    // not vacuous).
    assert_eq!(seen.len(), 7, "{seen:?}");
}

#[test]
fn garbage_snapshots_are_sanitized() {
    let fresh = host_with_probe();
    for seed in 1..=200u64 {
        let mut rng = XorShift(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let mut s = fresh.state();
        s.config_address = rng.next() as u32;
        for (_, image) in &mut s.functions {
            for b in image.iter_mut() {
                *b = rng.next() as u8;
            }
        }
        // Entries for functions that do not exist, and duplicates.
        s.functions.push((DevFn(0x77), [0xff; CONFIG_SPACE_SIZE]));
        s.functions
            .push((DevFn::HOST_BRIDGE, [0xff; CONFIG_SPACE_SIZE]));
        let mut host = host_with_probe();
        host.restore(&s);
        let context = format!("garbage seed {seed}");
        check_invariants(&host, &fresh, &context);
        // And it keeps working.
        let mut shadow = host_with_probe();
        shadow.restore(&host.state());
        for i in 0..200 {
            let context = format!("{context} step {i}");
            step(&mut rng, &mut host, &mut shadow, &context);
            check_invariants(&host, &fresh, &context);
        }
    }
}
