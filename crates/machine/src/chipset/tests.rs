//! The chipset's wiring, through its ports and the clock.
use super::*;

fn chipset() -> (Chipset, Clock, PortBus) {
    let clock = Clock::new();
    let mut ports = PortBus::new();
    let config = ChipsetConfig {
        rtc_base: 0,
        cmos: [0; crate::devices::rtc::CMOS_SIZE],
        com: [Box::new(std::io::sink()), Box::new(std::io::sink())],
    };
    let mut mmio = MmioBus::new();
    let c = Chipset::new(clock.clone(), &mut ports, &mut mmio, config).unwrap();
    // The BIOS's virtual wire: LINT0 ExtINT, the APIC enabled.
    let mut lapic = lock(&c.shared.lapic);
    lapic.write(0xf0, &0x1ffu32.to_le_bytes(), 0);
    lapic.write(0x350, &0x700u32.to_le_bytes(), 0);
    drop(lapic);
    (c, clock, ports)
}

/// The BIOS-style PIC setup, then the PIT at 1 kHz in mode 2: IRQ 0's
/// vector arrives at each OUT 0 rising edge, the next event is exact,
/// and an unacknowledged edge stays pending until the EOI.
#[test]
fn pit_interrupts_reach_intr_through_the_pic() {
    let (c, clock, mut ports) = chipset();
    for (port, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
        ports.write(port, 1, v);
    }
    for (port, v) in [(0xa0, 0x11), (0xa1, 0x70), (0xa1, 0x02), (0xa1, 0x01)] {
        ports.write(port, 1, v);
    }
    ports.write(0x21, 1, 0xfe); // only IRQ 0
    assert!(c.take_reschedule());
    ports.write(0x43, 1, 0x34); // channel 0, lobyte/hibyte, mode 2
    ports.write(0x40, 1, 1193 & 0xff);
    ports.write(0x40, 1, 1193 >> 8);
    assert!(c.reschedule_requested());
    c.update();
    assert!(!c.intr());
    let mut t = 0;
    for n in 0..3 {
        // Mode 2: OUT 0 falls for one clock, then rises: the rise is
        // IRQ 0's edge.
        let fall = c.next_event().unwrap();
        assert!(fall > t);
        clock.set_instruction_count(fall);
        c.update();
        assert!(!c.intr(), "pass {n}: not yet");
        let rise = c.next_event().unwrap();
        clock.set_instruction_count(rise);
        c.update();
        assert!(c.intr(), "pass {n}: IRQ 0 at {rise}");
        assert_eq!(c.acknowledge(), 0x08);
        assert!(!c.intr());
        ports.write(0x20, 1, 0x20); // EOI
        t = rise;
    }
    // About 1 ms apart (1193 clocks).
    let period = crate::devices::pit::clock_time(1193).unwrap();
    assert!(t.abs_diff(3 * period) < 3 * 1000, "{t}");
}

/// FERR# latches IRQ 13 (vector 0x75 with the BIOS's slave base);
/// port 0xF0 clears the latch and asserts IGNNE# while FERR# is
/// asserted; IGNNE# falls with FERR#; a write with FERR# deasserted
/// asserts nothing.
#[test]
fn ferr_latches_irq13_and_port_f0_asserts_ignne() {
    let (c, _clock, mut ports) = chipset();
    for (port, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
        ports.write(port, 1, v);
    }
    for (port, v) in [(0xa0, 0x11), (0xa1, 0x70), (0xa1, 0x02), (0xa1, 0x01)] {
        ports.write(port, 1, v);
    }
    ports.write(0x21, 1, 0xfb);
    ports.write(0xa1, 1, 0xdf);
    c.take_reschedule();
    c.set_ferr(true);
    assert!(c.intr() && c.reschedule_requested() && !c.ignne());
    // The level stays latched while nobody writes 0xF0, even when
    // FERR# falls.
    c.set_ferr(false);
    c.set_ferr(true);
    assert_eq!(c.acknowledge(), 0x75);
    ports.write(0xa0, 1, 0x20);
    ports.write(0x20, 1, 0x20);
    assert!(!c.intr());
    ports.write(FPU_ERROR_PORT, 1, 0);
    assert!(c.ignne());
    // No new request: the latch was cleared before the EOI let one in.
    assert!(!c.intr());
    c.set_ferr(false);
    assert!(!c.ignne());
    ports.write(FPU_ERROR_PORT, 1, 0);
    assert!(!c.ignne());
    // A new assertion interrupts again.
    c.set_ferr(true);
    assert!(c.intr());
}
