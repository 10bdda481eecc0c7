//! The DSDT (ACPI 6.5 §5.2.11.1) and its AML (§20, "ACPI Machine Language
//! Specification"): what Linux needs to find the pc machine's devices and to
//! power it off, laid out as QEMU's pc DSDT (`hw/i386/acpi-build.c`):
//!
//! ```text
//! Name (_S5, Package (4) { 0, 0, 0, 0 })   // PIIX4 SUS_TYP 000: soft off
//! Scope (\_SB) {
//!   Device (PCI0) {                        // PNP0A03, the i440FX root
//!     Name (_HID, EisaId ("PNP0A03")), _ADR 0, _UID 0
//!     Name (_CRS, ResourceTemplate () {
//!       WordBusNumber 0..0xFF, IO 0xCF8 (8 ports, the host bridge),
//!       WordIO 0..0xCF7, WordIO 0xD00..0xFFFF,
//!       DWordMemory 0xA0000..0xBFFFF (VGA window),
//!       DWordMemory low RAM end..0xFEBFFFFF (the PCI hole) })
//!     Device (ISA) {                       // the PIIX3 at 00:01.0
//!       Name (_ADR, 0x00010000)
//!       Device (RTC), (KBD), (MOU), (COM1), (COM2): as configured
//! } } }
//! ```

use super::{IsaDevice, PlatformConfig, IOAPIC_ADDR, OEM_ID, OEM_REVISION, OEM_TABLE_ID};
use acpi_tables::aml::{
    AddressSpace, AddressSpaceCacheable, Device, EISAName, Name, Package, Path, ResourceTemplate,
    Scope, IO,
};
use acpi_tables::sdt::Sdt;
use acpi_tables::{Aml, AmlSink};

/// The DSDT's revision: 2 makes AML integers 64 bits wide.
pub const DSDT_REVISION: u8 = 2;
/// The ISA bridge's PCI address as `_ADR` writes it (device 1, function 0).
pub const ISA_BRIDGE_ADR: u32 = 0x0001_0000;
/// The end of the PCI root's 32-bit memory window: just below the I/O APIC.
pub const PCI_HOLE_END: u32 = IOAPIC_ADDR - 1;

/// The small IRQ descriptor without its flags byte (§6.4.2.1,
/// `IRQNoFlags ()`: edge-triggered, active high, not shared), which QEMU
/// uses for the ISA devices; `acpi_tables` has only the extended one.
struct IrqNoFlags(u8);

impl Aml for IrqNoFlags {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        // Small item 0x04 (IRQ), length 2: the mask of IRQs.
        sink.byte(0x22);
        sink.word(1u16.checked_shl(u32::from(self.0)).unwrap_or(0));
    }
}

/// One ISA device: `_HID`, optional `_UID`, `_STA` 0xF (present, enabled,
/// shown, working) and `_CRS` with its ports and its IRQ.
struct IsaNode {
    name: &'static str,
    hid: &'static str,
    uid: Option<u8>,
    ports: Vec<IO>,
    irq: u8,
}

impl IsaNode {
    fn for_device(device: IsaDevice) -> Vec<IsaNode> {
        let port = |base: u16, align: u8, len: u8| IO::new(base, base, align, len);
        match device {
            IsaDevice::Com1 | IsaDevice::Com2 => {
                let (name, uid, base, irq) = if device == IsaDevice::Com1 {
                    ("COM1", 1, 0x3f8, 4)
                } else {
                    ("COM2", 2, 0x2f8, 3)
                };
                vec![IsaNode {
                    name,
                    hid: "PNP0501",
                    uid: Some(uid),
                    ports: vec![port(base, 0, 8)],
                    irq,
                }]
            }
            IsaDevice::Rtc => vec![IsaNode {
                name: "RTC_",
                hid: "PNP0B00",
                uid: None,
                ports: vec![port(0x70, 1, 8)],
                irq: 8,
            }],
            IsaDevice::Keyboard => vec![
                IsaNode {
                    name: "KBD_",
                    hid: "PNP0303",
                    uid: None,
                    ports: vec![port(0x60, 1, 1), port(0x64, 1, 1)],
                    irq: 1,
                },
                IsaNode {
                    name: "MOU_",
                    hid: "PNP0F13",
                    uid: None,
                    ports: Vec::new(),
                    irq: 12,
                },
            ],
        }
    }

    fn to_aml(&self) -> Vec<u8> {
        let hid = EISAName::new(self.hid);
        let irq = IrqNoFlags(self.irq);
        let mut resources: Vec<&dyn Aml> = self.ports.iter().map(|p| p as &dyn Aml).collect();
        resources.push(&irq);
        let crs = ResourceTemplate::new(resources);
        let hid_name = Name::new("_HID".into(), &hid);
        let uid_name = self.uid.map(|uid| Name::new("_UID".into(), &uid));
        let sta_name = Name::new("_STA".into(), &0x0fu8);
        let crs_name = Name::new("_CRS".into(), &crs);
        let mut children: Vec<&dyn Aml> = vec![&hid_name];
        if let Some(uid) = &uid_name {
            children.push(uid);
        }
        children.push(&sta_name);
        children.push(&crs_name);
        bytes_of(&Device::new(Path::new(self.name), children))
    }
}

fn bytes_of(item: &dyn Aml) -> Vec<u8> {
    let mut bytes = Vec::new();
    item.to_aml_bytes(&mut bytes);
    bytes
}

/// A finished term list as an `Aml` child.
struct Raw(Vec<u8>);

impl Aml for Raw {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        sink.vec(&self.0);
    }
}

/// The PCI root's `_CRS`.
fn pci_root_resources(config: &PlatformConfig) -> Vec<u8> {
    let bus = AddressSpace::<u16>::new_bus_number(0, 0xff);
    let config_ports = IO::new(0xcf8, 0xcf8, 1, 8);
    let io_low = AddressSpace::<u16>::new_io(0, 0xcf7, None);
    let io_high = AddressSpace::<u16>::new_io(0xd00, 0xffff, None);
    let vga = AddressSpace::<u32>::new_memory(
        AddressSpaceCacheable::Cacheable,
        true,
        0xa_0000,
        0xb_ffff,
        None,
    );
    let hole = AddressSpace::<u32>::new_memory(
        AddressSpaceCacheable::NotCacheable,
        true,
        config.low_ram_end,
        PCI_HOLE_END,
        None,
    );
    let mut resources: Vec<&dyn Aml> = vec![&bus, &config_ports, &io_low, &io_high, &vga];
    // `build` refuses a RAM end at or above the I/O APIC; a direct caller
    // gets no window rather than a negative one.
    if config.low_ram_end <= PCI_HOLE_END {
        resources.push(&hole);
    }
    bytes_of(&ResourceTemplate::new(resources))
}

/// The DSDT's AML (without the table header).
pub fn dsdt_aml(config: &PlatformConfig) -> Vec<u8> {
    let zero = 0u8;
    let s5 = Package::new(vec![&zero, &zero, &zero, &zero]);
    let mut aml = bytes_of(&Name::new("_S5_".into(), &s5));

    let isa_devices: Vec<u8> = config
        .isa_devices
        .iter()
        .flat_map(|&d| IsaNode::for_device(d))
        .flat_map(|node| node.to_aml())
        .collect();
    let isa_adr = Name::new("_ADR".into(), &ISA_BRIDGE_ADR);
    let isa_devices = Raw(isa_devices);
    let isa = Device::new("ISA_".into(), vec![&isa_adr, &isa_devices]);

    let hid = EISAName::new("PNP0A03");
    let pci_hid = Name::new("_HID".into(), &hid);
    let pci_adr = Name::new("_ADR".into(), &0u8);
    let pci_uid = Name::new("_UID".into(), &0u8);
    let crs = Raw(pci_root_resources(config));
    let pci_crs = Name::new("_CRS".into(), &crs);
    let pci0 = Device::new(
        "PCI0".into(),
        vec![&pci_hid, &pci_adr, &pci_uid, &pci_crs, &isa],
    );
    aml.extend(bytes_of(&Scope::new("\\_SB_".into(), vec![&pci0])));
    aml
}

/// The DSDT: the header and [`dsdt_aml`].
pub fn build_dsdt(config: &PlatformConfig) -> Vec<u8> {
    let mut dsdt = Sdt::new(
        *b"DSDT",
        super::tables::HEADER_LEN as u32,
        DSDT_REVISION,
        OEM_ID,
        OEM_TABLE_ID,
        OEM_REVISION,
    );
    dsdt.append_slice(&dsdt_aml(config));
    dsdt.as_slice().to_vec()
}
