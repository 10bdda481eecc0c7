//! The MP table read back as MP 1.4 chapter 4 describes it: the floating
//! pointer found by a scan of 0xF0000..0xFFFFF as Linux does it, the
//! checksums, and every entry in the order §4.3 requires.

use super::reader::checksum;
use super::*;
use cpu_model::model::XLAT;

/// Scan for "_MP_" on 16-byte boundaries with a good checksum, as Linux's
/// `smp_scan_config` does over the BIOS area.
fn scan(t: &FirmwareTables) -> Option<(u64, &[u8])> {
    let mp = t.mp.as_ref()?;
    (0xf_0000u64..0x10_0000).step_by(16).find_map(|a| {
        let off = a.checked_sub(mp.addr)? as usize;
        let f = mp.bytes.get(off..off + 16)?;
        (&f[0..4] == b"_MP_" && f[8] == 1 && checksum(f) == 0).then_some((a, &mp.bytes[off..]))
    })
}

#[test]
fn floating_pointer_is_found_and_points_at_the_table() {
    let t = build(
        &PlatformConfig::qemu_pc(2, 0x0800_0000, &XLAT),
        &AcpiLayout::default(),
    )
    .unwrap();
    let (addr, bytes) = scan(&t).expect("MP floating pointer");
    assert_eq!(addr, 0xf_0100);
    assert_eq!(bytes[9], 4, "MP 1.4");
    assert_eq!(bytes[11], 0, "a configuration table follows, no default");
    assert_eq!(bytes[12] & 0x80, 0, "virtual wire mode");
    let table_addr = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
    assert_eq!(u64::from(table_addr), addr + 16);
    let table = &bytes[16..];
    assert_eq!(&table[0..4], b"PCMP");
    let len = usize::from(u16::from_le_bytes([table[4], table[5]]));
    assert_eq!(len, table.len());
    assert_eq!(checksum(table), 0);
    assert_eq!(table[6], 4);
    assert_eq!(
        u32::from_le_bytes(table[36..40].try_into().unwrap()),
        0xfee0_0000
    );
    assert_eq!(
        u16::from_le_bytes([table[40], table[41]]),
        0,
        "no extended table"
    );
}

/// The entries: (type, bytes), walking by each type's length.
fn entries(t: &FirmwareTables) -> Vec<(u8, Vec<u8>)> {
    let (_, bytes) = scan(t).unwrap();
    let table = &bytes[16..];
    let count = u16::from_le_bytes([table[34], table[35]]);
    let mut rest = &table[44..];
    let mut out = Vec::new();
    for _ in 0..count {
        let len = if rest[0] == 0 { 20 } else { 8 };
        out.push((rest[0], rest[..len].to_vec()));
        rest = &rest[len..];
    }
    assert!(rest.is_empty(), "entry count and length agree");
    out
}

#[test]
fn entries_list_cpus_buses_ioapic_and_interrupts_in_order() {
    let config = PlatformConfig::qemu_pc(2, 0x0800_0000, &XLAT);
    let t = build(&config, &AcpiLayout::default()).unwrap();
    let e = entries(&t);
    let kinds: Vec<u8> = e.iter().map(|(k, _)| *k).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(kinds, sorted, "entries in type order (§4.3)");

    let cpus: Vec<&Vec<u8>> = e.iter().filter(|(k, _)| *k == 0).map(|(_, b)| b).collect();
    assert_eq!(cpus.len(), 2);
    assert_eq!((cpus[0][1], cpus[0][3]), (0, 3), "APIC 0, enabled + BSP");
    assert_eq!((cpus[1][1], cpus[1][3]), (1, 1), "APIC 1, enabled");
    assert_eq!(
        u32::from_le_bytes(cpus[0][4..8].try_into().unwrap()),
        config.cpu_signature
    );
    assert_eq!(
        u32::from_le_bytes(cpus[0][8..12].try_into().unwrap()),
        config.cpu_features
    );

    let buses: Vec<(u8, &[u8])> = e
        .iter()
        .filter(|(k, _)| *k == 1)
        .map(|(_, b)| (b[1], &b[2..8]))
        .collect();
    assert_eq!(
        buses,
        [(0, b"PCI   ".as_slice()), (1, b"ISA   ".as_slice())]
    );

    let ioapic: Vec<&Vec<u8>> = e.iter().filter(|(k, _)| *k == 2).map(|(_, b)| b).collect();
    assert_eq!(ioapic.len(), 1);
    assert_eq!((ioapic[0][1], ioapic[0][3]), (0, 1), "ID 0, enabled");
    assert_eq!(
        u32::from_le_bytes(ioapic[0][4..8].try_into().unwrap()),
        0xfec0_0000
    );

    // I/O interrupts: (type, flags, bus, bus IRQ, I/O APIC, INTIN).
    let io: Vec<(u8, u16, u8, u8, u8, u8)> = e
        .iter()
        .filter(|(k, _)| *k == 3)
        .map(|(_, b)| {
            (
                b[1],
                u16::from_le_bytes([b[2], b[3]]),
                b[4],
                b[5],
                b[6],
                b[7],
            )
        })
        .collect();
    assert_eq!(io.len(), 15, "ISA IRQs 0..15 but 2");
    assert_eq!(io[0], (0, 0, 1, 0, 0, 2), "IRQ 0 on INTIN2");
    assert!(io.iter().all(|&(_, _, _, irq, _, _)| irq != 2));
    for &(kind, flags, bus, irq, apic, pin) in &io[1..] {
        assert_eq!((kind, bus, apic, pin), (0, 1, 0, irq));
        let level = [5, 9, 10, 11].contains(&irq);
        assert_eq!(flags, if level { 0xd } else { 0 }, "IRQ {irq}");
    }

    // Local interrupts: ExtINT to the BSP's LINT0, NMI to all LINT1s.
    let local: Vec<&[u8]> = e
        .iter()
        .filter(|(k, _)| *k == 4)
        .map(|(_, b)| &b[1..])
        .collect();
    assert_eq!(
        local,
        [
            [3u8, 0, 0, 1, 0, 0, 0].as_slice(),
            &[1, 0, 0, 1, 0, 0xff, 1]
        ]
    );
}

#[test]
fn mp_table_of_255_processors_is_consistent() {
    let t = build(
        &PlatformConfig::qemu_pc(255, 0x0800_0000, &XLAT),
        &AcpiLayout::default(),
    )
    .unwrap();
    let e = entries(&t);
    assert_eq!(e.iter().filter(|(k, _)| *k == 0).count(), 255);
}

#[test]
fn processor_entries_carry_the_models_cpuid_1() {
    // docs/cpu-models.md: xlat is 0x6fb, qemu64 0x60fb1.
    for (model, signature) in [(&XLAT, 0x6fb), (&cpu_model::model::QEMU64, 0x60fb1)] {
        let config = PlatformConfig::qemu_pc(1, 0x0800_0000, model);
        let t = build(&config, &AcpiLayout::default()).unwrap();
        let cpu = &entries(&t)[0].1;
        assert_eq!(u32::from_le_bytes(cpu[4..8].try_into().unwrap()), signature);
        let features = u32::from_le_bytes(cpu[8..12].try_into().unwrap());
        assert_eq!(features, model.cpuid(1, 0, 0, 0).3, "{}", model.name);
        assert_eq!(features & 1, 1, "{}: FPU", model.name);
    }
}
