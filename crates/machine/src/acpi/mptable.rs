//! The legacy MP table (Intel MultiProcessor Specification 1.4, order
//! 242016, chapter 4): the MP floating pointer structure (§4.1) followed by
//! the MP configuration table (§4.2, §4.3), for kernels that look for it
//! rather than for the MADT. The entries follow SeaBIOS's (`src/fw/
//! mptable.c`) under QEMU's pc; see the `acpi` module notes.

use super::{PlatformConfig, IOAPIC_ADDR, IOAPIC_ID, LAPIC_ADDR};
use crate::acpi::tables::INTI_ACTIVE_HIGH_LEVEL;

/// The floating pointer's and the configuration table header's lengths.
pub const FLOATING_LEN: usize = 16;
pub const HEADER_LEN: usize = 44;
/// MP specification revision 1.4.
pub const SPEC_REV: u8 = 4;
/// Entry types (§4.3); a processor entry is 20 bytes, the others 8.
pub const PROCESSOR: u8 = 0;
pub const BUS: u8 = 1;
pub const IOAPIC: u8 = 2;
pub const IO_INTERRUPT: u8 = 3;
pub const LOCAL_INTERRUPT: u8 = 4;
pub const PROCESSOR_LEN: usize = 20;
/// Interrupt types (§4.3.4, table 4-9).
pub const INT: u8 = 0;
pub const NMI: u8 = 1;
pub const EXTINT: u8 = 3;
/// Bus IDs: PCI bus 0, then the ISA bus.
pub const PCI_BUS_ID: u8 = 0;
pub const ISA_BUS_ID: u8 = 1;
/// The APIC versions QEMU's local APIC and I/O APIC report.
pub const LAPIC_VERSION: u8 = 0x14;
pub const IOAPIC_VERSION: u8 = 0x11;
/// Processor flags: enabled, bootstrap processor.
pub const CPU_EN: u8 = 1;
pub const CPU_BP: u8 = 2;
/// A local interrupt for every local APIC.
pub const ALL_LAPICS: u8 = 0xff;

fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

/// An 8-byte I/O or local interrupt entry.
fn interrupt(
    kind: u8,
    irq_type: u8,
    flags: u16,
    bus: u8,
    bus_irq: u8,
    dest: u8,
    pin: u8,
) -> [u8; 8] {
    let f = flags.to_le_bytes();
    [kind, irq_type, f[0], f[1], bus, bus_irq, dest, pin]
}

/// The floating pointer at `addr` and the configuration table right after
/// it, as one blob.
pub fn build_mptable(config: &PlatformConfig, addr: u32) -> Vec<u8> {
    let mut entries: Vec<u8> = Vec::new();
    let mut count: u16 = 0;
    let mut push = |entries: &mut Vec<u8>, entry: &[u8]| {
        entries.extend_from_slice(entry);
        count += 1;
    };
    for id in 0..config.cpus {
        let mut cpu = [0u8; PROCESSOR_LEN];
        cpu[0] = PROCESSOR;
        cpu[1] = id;
        cpu[2] = LAPIC_VERSION;
        cpu[3] = CPU_EN | if id == 0 { CPU_BP } else { 0 };
        cpu[4..8].copy_from_slice(&config.cpu_signature.to_le_bytes());
        cpu[8..12].copy_from_slice(&config.cpu_features.to_le_bytes());
        push(&mut entries, &cpu);
    }
    push(
        &mut entries,
        &[BUS, PCI_BUS_ID, b'P', b'C', b'I', b' ', b' ', b' '],
    );
    push(
        &mut entries,
        &[BUS, ISA_BUS_ID, b'I', b'S', b'A', b' ', b' ', b' '],
    );
    let mut ioapic = [IOAPIC, IOAPIC_ID, IOAPIC_VERSION, 1, 0, 0, 0, 0];
    ioapic[4..8].copy_from_slice(&IOAPIC_ADDR.to_le_bytes());
    push(&mut entries, &ioapic);
    for irq in 0..16u8 {
        // IRQ 0 is wired to INTIN2 (QEMU's override); nothing drives IRQ 2.
        let pin = match irq {
            0 => 2,
            2 => continue,
            _ => irq,
        };
        let flags = if config.level_irq(irq) {
            INTI_ACTIVE_HIGH_LEVEL
        } else {
            0
        };
        let entry = interrupt(IO_INTERRUPT, INT, flags, ISA_BUS_ID, irq, IOAPIC_ID, pin);
        push(&mut entries, &entry);
    }
    // The 8259s' INTR on the bootstrap processor's LINT0 (virtual wire
    // mode), NMI on every processor's LINT1.
    let extint = interrupt(LOCAL_INTERRUPT, EXTINT, 0, ISA_BUS_ID, 0, 0, 0);
    push(&mut entries, &extint);
    let nmi = interrupt(LOCAL_INTERRUPT, NMI, 0, ISA_BUS_ID, 0, ALL_LAPICS, 1);
    push(&mut entries, &nmi);

    let table_len = HEADER_LEN + entries.len();
    let mut table = vec![0u8; HEADER_LEN];
    table[0..4].copy_from_slice(b"PCMP");
    // At most 255 processors: the table stays far below 64 KiB.
    table[4..6].copy_from_slice(&(table_len as u16).to_le_bytes());
    table[6] = SPEC_REV;
    table[8..16].copy_from_slice(b"XLAT    ");
    table[16..28].copy_from_slice(b"PC          ");
    table[34..36].copy_from_slice(&count.to_le_bytes());
    table[36..40].copy_from_slice(&LAPIC_ADDR.to_le_bytes());
    table.extend_from_slice(&entries);
    table[7] = sum(&table).wrapping_neg();

    let mut floating = [0u8; FLOATING_LEN];
    floating[0..4].copy_from_slice(b"_MP_");
    let table_addr = addr.wrapping_add(FLOATING_LEN as u32);
    floating[4..8].copy_from_slice(&table_addr.to_le_bytes());
    floating[8] = 1; // length in 16-byte units
    floating[9] = SPEC_REV;
    // Feature byte 1 = 0: the configuration table is present. Feature byte
    // 2 bit 7 (IMCRP) = 0: virtual wire mode, no IMCR.
    floating[10] = sum(&floating).wrapping_neg();

    let mut blob = floating.to_vec();
    blob.extend_from_slice(&table);
    blob
}
