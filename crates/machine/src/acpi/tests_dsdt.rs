//! The DSDT parsed with the independent AML reader (`reader.rs`): the
//! `\_S5` package, the PCI root with its resources and the ISA devices as
//! configured; and, when `iasl` (Debian's acpica-tools) is installed, its
//! disassembly without errors.

use super::reader::{parse_aml, resources, Memory, Value};
use super::*;
use cpu_model::model::XLAT;
use std::collections::BTreeMap;

fn dsdt_names(config: &PlatformConfig) -> BTreeMap<String, Option<Value>> {
    let t = build(config, &AcpiLayout::default()).unwrap();
    let mem = Memory(&t);
    let rsdp = mem.scan_rsdp(0xe_0000..0x10_0000).unwrap();
    let (_, fadt) = mem
        .root_tables(rsdp)
        .into_iter()
        .find(|(s, _)| s == "FACP")
        .unwrap();
    let dsdt = mem.table(mem.u32_at(fadt + 40).into());
    assert_eq!(dsdt.signature(), "DSDT");
    assert_eq!(dsdt.revision(), 2);
    let mut names = BTreeMap::new();
    parse_aml(dsdt.body(), &mut names);
    names
}

fn buffer<'a>(names: &'a BTreeMap<String, Option<Value>>, path: &str) -> &'a [u8] {
    match names.get(path) {
        Some(Some(Value::Buffer(b))) => b,
        other => panic!("{path}: {other:?}"),
    }
}

fn int(names: &BTreeMap<String, Option<Value>>, path: &str) -> u64 {
    match names.get(path) {
        Some(Some(Value::Int(v))) => *v,
        other => panic!("{path}: {other:?}"),
    }
}

/// EisaId ("PNP0501") as the compressed 32-bit ID (§19.6.35).
fn eisa(id: &str) -> u64 {
    let b = id.as_bytes();
    let hex = u32::from_str_radix(&id[3..], 16).unwrap();
    let v = u32::from(b[0] - 0x40) << 26
        | u32::from(b[1] - 0x40) << 21
        | u32::from(b[2] - 0x40) << 16
        | hex;
    u64::from(v.swap_bytes())
}

#[test]
fn s5_package_gives_the_piix4_soft_off_type() {
    let names = dsdt_names(&PlatformConfig::qemu_pc(1, 0x0800_0000, &XLAT));
    let Some(Some(Value::Package(items))) = names.get("\\_S5_") else {
        panic!("no \\_S5_: {names:?}");
    };
    assert_eq!(items.len(), 4);
    assert_eq!(
        items[0],
        Value::Int(u64::from(crate::devices::acpi_pm::SLP_TYP_S5))
    );
    assert_eq!(items[1], Value::Int(0));
}

#[test]
fn pci_root_has_its_bus_io_and_memory_windows() {
    let names = dsdt_names(&PlatformConfig::qemu_pc(1, 0x0800_0000, &XLAT));
    assert_eq!(names.get("\\_SB_.PCI0"), Some(&None), "a Device");
    assert_eq!(int(&names, "\\_SB_.PCI0._HID"), eisa("PNP0A03"));
    assert_eq!(int(&names, "\\_SB_.PCI0._ADR"), 0);
    let crs = resources(buffer(&names, "\\_SB_.PCI0._CRS"));
    // Word address space descriptors: (type, min, max, length).
    let word = |b: &[u8]| {
        let w = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        (b[0], w(5), w(7), w(11))
    };
    let dword = |b: &[u8]| {
        let d = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        (b[0], d(7), d(11), d(19))
    };
    assert_eq!(crs.len(), 6);
    assert_eq!(crs[0].0, 0x88);
    assert_eq!(word(&crs[0].1), (2, 0, 0xff, 0x100), "bus numbers");
    assert_eq!(
        crs[1],
        (0x47, vec![1, 0xf8, 0x0c, 0xf8, 0x0c, 1, 8]),
        "0xCF8..0xCFF"
    );
    assert_eq!(word(&crs[2].1), (1, 0, 0xcf7, 0xcf8));
    assert_eq!(word(&crs[3].1), (1, 0xd00, 0xffff, 0xf300));
    assert_eq!(crs[4].0, 0x87);
    assert_eq!(
        dword(&crs[4].1),
        (0, 0xa_0000, 0xb_ffff, 0x2_0000),
        "VGA window"
    );
    assert_eq!(
        dword(&crs[5].1),
        (0, 0x0800_0000, 0xfebf_ffff, 0xfebf_ffff - 0x0800_0000 + 1),
        "PCI hole"
    );
}

/// An ISA device as the DSDT must list it: name, HID, UID, I/O ports
/// (min, length) and IRQ.
struct Expected(
    &'static str,
    &'static str,
    Option<u64>,
    &'static [(u16, u8)],
    u8,
);

#[test]
fn isa_devices_are_listed_with_their_resources() {
    let mut config = PlatformConfig::qemu_pc(1, 0x0800_0000, &XLAT);
    config.isa_devices.push(IsaDevice::Keyboard);
    let names = dsdt_names(&config);
    let isa = "\\_SB_.PCI0.ISA_";
    assert_eq!(int(&names, &format!("{isa}._ADR")), 0x0001_0000);
    let expected = [
        Expected("COM1", "PNP0501", Some(1), &[(0x3f8, 8)], 4),
        Expected("COM2", "PNP0501", Some(2), &[(0x2f8, 8)], 3),
        Expected("RTC_", "PNP0B00", None, &[(0x70, 8)], 8),
        Expected("KBD_", "PNP0303", None, &[(0x60, 1), (0x64, 1)], 1),
        Expected("MOU_", "PNP0F13", None, &[], 12),
    ];
    for Expected(dev, hid, uid, ports, irq) in expected {
        let path = format!("{isa}.{dev}");
        assert_eq!(names.get(&path), Some(&None), "{path} is a Device");
        assert_eq!(int(&names, &format!("{path}._HID")), eisa(hid), "{path}");
        assert_eq!(uid.map(|_| int(&names, &format!("{path}._UID"))), uid);
        assert_eq!(int(&names, &format!("{path}._STA")), 0xf);
        let crs = resources(buffer(&names, &format!("{path}._CRS")));
        let mut want: Vec<(u8, Vec<u8>)> = ports
            .iter()
            .map(|&(min, len)| {
                let [lo, hi] = min.to_le_bytes();
                let align = if min == 0x70 || len == 1 { 1 } else { 0 };
                (0x47, vec![1, lo, hi, lo, hi, align, len])
            })
            .collect();
        let mask = (1u16 << irq).to_le_bytes();
        want.push((0x22, mask.to_vec()));
        assert_eq!(crs, want, "{path}");
    }
}

#[test]
fn the_device_list_is_a_parameter() {
    let mut config = PlatformConfig::qemu_pc(1, 0x0800_0000, &XLAT);
    config.isa_devices = vec![IsaDevice::Com1];
    let names = dsdt_names(&config);
    let devices: Vec<&String> = names
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        devices,
        ["\\_SB_.PCI0", "\\_SB_.PCI0.ISA_", "\\_SB_.PCI0.ISA_.COM1"]
    );
}

/// iasl on `args` in `dir`: its stdout and stderr, or None without iasl.
fn iasl(dir: &std::path::Path, args: &[&str]) -> Option<(bool, String)> {
    let out = std::process::Command::new("iasl")
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), log))
}

/// iasl decodes every static table field by field and checks lengths and
/// checksums; it must find nothing to complain about.
#[test]
fn iasl_reads_every_static_table_without_complaint() {
    let dir = std::env::temp_dir().join(format!("xlat-acpi-tables-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = PlatformConfig::qemu_pc(2, 0x0800_0000, &XLAT);
    config.ecam = Some(Ecam {
        base: 0xb000_0000,
        start_bus: 0,
        end_bus: 0xff,
    });
    let t = build(&config, &AcpiLayout::default()).unwrap();
    let mem = Memory(&t);
    let rsdp = mem.scan_rsdp(0xe_0000..0x10_0000).unwrap();
    let mut tables: Vec<(String, u64)> = mem.root_tables(rsdp);
    let rsdt_addr = u64::from(mem.u32_at(rsdp + 16));
    let xsdt_addr = u64::from_le_bytes(mem.bytes(rsdp + 24, 8).try_into().unwrap());
    tables.push(("RSDT".into(), rsdt_addr));
    tables.push(("XSDT".into(), xsdt_addr));
    for (sig, addr) in tables {
        let table = mem.table(addr);
        let name = format!("{}.dat", sig.to_lowercase());
        std::fs::write(dir.join(&name), table.bytes).unwrap();
        let Some((ok, log)) = iasl(&dir, &["-d", &name]) else {
            eprintln!("iasl is not installed (Debian: acpica-tools); skipping");
            std::fs::remove_dir_all(&dir).ok();
            return;
        };
        assert!(ok, "{sig}: {log}");
        assert!(
            !log.contains("Error") && !log.contains("Warning"),
            "{sig}: {log}"
        );
        let dsl = std::fs::read_to_string(dir.join(format!("{}.dsl", sig.to_lowercase()))).unwrap();
        assert!(dsl.contains(&format!("Signature : \"{sig}\"")), "{dsl}");
        assert!(!dsl.contains("Invalid"), "{sig}: {dsl}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The DSDT disassembled by iasl: it must report no errors or warnings and
/// show what the reader found.
#[test]
fn iasl_disassembles_the_dsdt_without_errors() {
    let Ok(out) = std::process::Command::new("iasl").arg("-v").output() else {
        eprintln!("iasl is not installed (Debian: acpica-tools); skipping the disassembly check");
        return;
    };
    assert!(out.status.success() || !out.stdout.is_empty());
    let mut config = PlatformConfig::qemu_pc(2, 0x0800_0000, &XLAT);
    config.isa_devices.push(IsaDevice::Keyboard);
    let dir = std::env::temp_dir().join(format!("xlat-acpi-iasl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dsl = {
        let aml = dir.join("dsdt.aml");
        std::fs::write(&aml, build_dsdt(&config)).unwrap();
        let out = std::process::Command::new("iasl")
            .current_dir(&dir)
            .args(["-d", "dsdt.aml"])
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "iasl -d failed:\n{log}");
        assert!(!log.contains("Error") && !log.contains("Warning"), "{log}");
        std::fs::read_to_string(dir.join("dsdt.dsl")).unwrap()
    };
    // Recompiling the disassembly must be clean too.
    let out = std::process::Command::new("iasl")
        .current_dir(&dir)
        .args(["-p", "recompiled", "dsdt.dsl"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "iasl could not recompile its disassembly:\n{log}\n{dsl}"
    );
    assert!(log.contains("0 Errors"), "{log}");
    for needle in [
        "Name (_S5, Package (0x04)",
        "Device (PCI0)",
        "EisaId (\"PNP0A03\")",
        "Device (COM1)",
        "EisaId (\"PNP0501\")",
        "IO (Decode16,",
        "0x03F8,",
        "IRQNoFlags ()",
        "{4}",
        "Device (RTC)",
        "EisaId (\"PNP0B00\")",
        "Device (KBD)",
        "EisaId (\"PNP0303\")",
        "WordBusNumber (",
        "DWordMemory (",
    ] {
        assert!(dsl.contains(needle), "{needle} not in:\n{dsl}");
    }
}
