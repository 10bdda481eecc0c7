//! Directed tests of the register page, priorities, acceptance, EOI, the
//! error register, the LINT pins, IA32_APIC_BASE and the resets (IPIs are
//! in `tests_ipi.rs`, the timer in `tests_timer.rs`), and the helpers the
//! other test files use.

use super::regs::*;
use super::*;

/// A 32-bit read at `offset` at time `now`.
pub(super) fn rd_at(l: &mut Lapic, offset: u64, now: u64) -> u32 {
    let mut b = [0; 4];
    l.read(offset, &mut b, now);
    u32::from_le_bytes(b)
}

pub(super) fn rd(l: &mut Lapic, offset: u64) -> u32 {
    rd_at(l, offset, 0)
}

/// A 32-bit write at `offset` at time `now`.
pub(super) fn wr_at(l: &mut Lapic, offset: u64, value: u32, now: u64) -> Option<BusMessage> {
    l.write(offset, &value.to_le_bytes(), now)
}

pub(super) fn wr(l: &mut Lapic, offset: u64, value: u32) -> Option<BusMessage> {
    wr_at(l, offset, value, 0)
}

/// The BSP's unit, software-enabled with spurious vector 0xEF.
pub(super) fn enabled() -> Lapic {
    let mut l = Lapic::default();
    wr(&mut l, REG_SVR, 0x1ef);
    l
}

/// Acknowledge and end the interrupt, as a handler does: the vector.
pub(super) fn take(l: &mut Lapic) -> u8 {
    let v = l.acknowledge();
    wr(l, REG_EOI, 0);
    v
}

/// The ESR as software reads it: write, then read.
pub(super) fn esr(l: &mut Lapic) -> u32 {
    wr(l, REG_ESR, 0);
    rd(l, REG_ESR)
}

fn isr_bit(l: &mut Lapic, v: u8) -> bool {
    rd(l, REG_ISR + u64::from(v >> 5) * 0x10) >> (v & 31) & 1 != 0
}

fn irr_bit(l: &mut Lapic, v: u8) -> bool {
    rd(l, REG_IRR + u64::from(v >> 5) * 0x10) >> (v & 31) & 1 != 0
}

fn tmr_bit(l: &mut Lapic, v: u8) -> bool {
    rd(l, REG_TMR + u64::from(v >> 5) * 0x10) >> (v & 31) & 1 != 0
}

#[test]
fn power_on_registers() {
    let mut l = Lapic::default();
    assert_eq!(l.apic_base(), 0xfee0_0900);
    assert_eq!(l.window(), Some(0xfee0_0000));
    assert_eq!(rd(&mut l, REG_ID), 0);
    assert_eq!(rd(&mut l, REG_VERSION), 0x0005_0014);
    assert_eq!(rd(&mut l, REG_TPR), 0);
    assert_eq!(rd(&mut l, REG_PPR), 0);
    assert_eq!(rd(&mut l, REG_APR), 0);
    assert_eq!(rd(&mut l, REG_LDR), 0);
    assert_eq!(rd(&mut l, REG_DFR), 0xffff_ffff);
    assert_eq!(rd(&mut l, REG_SVR), 0xff);
    assert_eq!(rd(&mut l, REG_DIVIDE), 0);
    assert_eq!(rd(&mut l, REG_INITIAL_COUNT), 0);
    assert_eq!(rd(&mut l, REG_CURRENT_COUNT), 0);
    let lvt: Vec<u32> = (0..6).map(|i| rd(&mut l, REG_LVT + i * 0x10)).collect();
    // Every entry masked (11.4.7.1), LINT0 too: firmware sets up the
    // virtual wire.
    assert_eq!(lvt, [0x10000; 6]);
    assert_eq!(esr(&mut l), 0);
    assert_eq!(l.pending(), None);

    let mut ap = Lapic::new(LapicConfig {
        initial_id: 3,
        bsp: false,
        phys_addr_bits: 36,
    });
    assert_eq!(ap.apic_base(), 0xfee0_0800);
    assert_eq!(rd(&mut ap, REG_ID), 0x0300_0000);
    assert_eq!(rd(&mut ap, REG_LVT + 0x30), 0x10000);
}

#[test]
fn register_write_masks() {
    let mut l = enabled();
    wr(&mut l, REG_ID, 0xffff_ffff);
    assert_eq!(rd(&mut l, REG_ID), 0xff00_0000);
    wr(&mut l, REG_VERSION, 0);
    assert_eq!(rd(&mut l, REG_VERSION), VERSION);
    wr(&mut l, REG_TPR, 0xffff_ffff);
    assert_eq!(rd(&mut l, REG_TPR), 0xff);
    wr(&mut l, REG_LDR, 0xffff_ffff);
    assert_eq!(rd(&mut l, REG_LDR), 0xff00_0000);
    wr(&mut l, REG_DFR, 0);
    assert_eq!(rd(&mut l, REG_DFR), 0x0fff_ffff);
    wr(&mut l, REG_SVR, 0xffff_ffff);
    assert_eq!(rd(&mut l, REG_SVR), 0x3ff);
    wr(&mut l, REG_ICR_HIGH, 0xffff_ffff);
    assert_eq!(rd(&mut l, REG_ICR_HIGH), 0xff00_0000);
    wr(&mut l, REG_DIVIDE, 0xffff_ffff);
    assert_eq!(rd(&mut l, REG_DIVIDE), 0xb);
    let expect = [
        0x0003_00ff,
        0x0001_07ff,
        0x0001_07ff,
        0x0001_a7ff,
        0x0001_a7ff,
        0x0001_00ff,
    ];
    for (i, e) in expect.into_iter().enumerate() {
        let off = REG_LVT + 0x10 * i as u64;
        wr(&mut l, off, 0xffff_ffff);
        assert_eq!(rd(&mut l, off), e, "LVT {i}");
    }
    // Read-only registers ignore writes.
    wr(&mut l, REG_TPR, 0);
    for off in [
        REG_APR,
        REG_PPR,
        REG_ISR,
        REG_TMR + 0x70,
        REG_IRR + 0x10,
        REG_CURRENT_COUNT,
    ] {
        wr(&mut l, off, 0xffff_ffff);
        assert_eq!(rd(&mut l, off), 0, "{off:#x}");
    }
    assert_eq!(esr(&mut l), 0, "no register was illegal");
}

#[test]
fn access_sizes_and_alignment() {
    let mut l = enabled();
    wr(&mut l, REG_ID, 0x0500_0000);
    wr(&mut l, REG_TPR, 0x20);
    // A byte read of the ID's top byte; bytes 4..15 of a slot read 0.
    let mut b = [0u8; 1];
    l.read(REG_ID + 3, &mut b, 0);
    assert_eq!(b[0], 5);
    let mut q = [0xaau8; 8];
    l.read(REG_ID, &mut q, 0);
    assert_eq!(q, [0, 0, 0, 5, 0, 0, 0, 0]);
    l.read(REG_TPR + 4, &mut q[..4], 0);
    assert_eq!(q[..4], [0; 4]);
    // A read straddling two slots: the end of one, the start of the next.
    let mut s = [0xaau8; 4];
    l.read(REG_ID - 2, &mut s, 0);
    assert_eq!(s, [0, 0, 0, 0]);
    l.read(REG_VERSION - 1, &mut s, 0);
    assert_eq!(s, [0, 0x14, 0, 0x05]);
    // Narrow or misaligned writes are ignored; an 8-byte write counts
    // its low dword.
    l.write(REG_TPR, &[0x77, 0], 0);
    l.write(REG_TPR + 1, &[0x77; 4], 0);
    l.write(REG_TPR + 4, &[0x77; 4], 0);
    assert_eq!(rd(&mut l, REG_TPR), 0x20);
    l.write(REG_TPR, &[0x30, 0, 0, 0, 0x99, 0x99, 0x99, 0x99], 0);
    assert_eq!(rd(&mut l, REG_TPR), 0x30);
    // Past the page: nothing.
    l.read(PAGE_SIZE, &mut s, 0);
    assert_eq!(s, [0; 4]);
    assert_eq!(l.write(PAGE_SIZE, &[1; 4], 0), None);
    assert_eq!(esr(&mut l), 0);
}

#[test]
fn illegal_register_addresses_set_the_esr() {
    for off in [
        0x000, 0x010, 0x040, 0x070, 0x290, 0x2f0, 0x3a0, 0x3f0, 0xff0,
    ] {
        let mut l = enabled();
        assert_eq!(rd(&mut l, off), 0);
        assert_eq!(esr(&mut l), ESR_ILLEGAL_REGISTER, "read {off:#x}");
        wr(&mut l, off, 0x1234);
        assert_eq!(esr(&mut l), ESR_ILLEGAL_REGISTER, "write {off:#x}");
        assert_eq!(esr(&mut l), 0);
    }
    // The remote read register exists (and reads 0).
    let mut l = enabled();
    assert_eq!(rd(&mut l, REG_RRD), 0);
    assert_eq!(esr(&mut l), 0);
}

#[test]
fn esr_latches_on_write_and_raises_the_error_interrupt() {
    let mut l = enabled();
    assert!(!l.accept(5, Trigger::Edge), "vectors 0-15 are illegal");
    assert!(!irr_bit(&mut l, 5));
    // The read shows the errors latched by the last write only.
    assert_eq!(rd(&mut l, REG_ESR), 0);
    wr(&mut l, REG_ESR, 0xffff_ffff);
    assert_eq!(rd(&mut l, REG_ESR), ESR_RECEIVE_ILLEGAL_VECTOR);
    rd(&mut l, 0x2f0);
    assert_eq!(rd(&mut l, REG_ESR), ESR_RECEIVE_ILLEGAL_VECTOR);
    assert_eq!(esr(&mut l), ESR_ILLEGAL_REGISTER);
    assert_eq!(esr(&mut l), 0);

    // An unmasked error entry interrupts on each new error bit.
    wr(&mut l, REG_LVT + 0x50, 0xe3);
    l.accept(15, Trigger::Edge);
    assert_eq!(l.pending(), Some(Pending::Fixed(0xe3)));
    assert_eq!(l.acknowledge(), 0xe3);
    assert_eq!(wr(&mut l, REG_EOI, 0), None);
    // The same bit again before the ESR write is not new.
    l.accept(15, Trigger::Edge);
    assert_eq!(l.pending(), None);

    // An illegal vector in the error entry flags itself once, no loop.
    let mut l = enabled();
    wr(&mut l, REG_LVT + 0x50, 0x02);
    rd(&mut l, 0x2f0);
    assert_eq!(
        esr(&mut l),
        ESR_ILLEGAL_REGISTER | ESR_RECEIVE_ILLEGAL_VECTOR
    );
    assert_eq!(l.pending(), None);
}

#[test]
fn priority_classes_and_nesting() {
    let mut l = enabled();
    for v in [0x31, 0x45, 0x52] {
        assert!(l.accept(v, Trigger::Edge));
    }
    assert_eq!(l.pending(), Some(Pending::Fixed(0x52)));
    // The TPR's class masks its own class and those below.
    wr(&mut l, REG_TPR, 0x50);
    assert_eq!(rd(&mut l, REG_PPR), 0x50);
    assert_eq!(l.pending(), None);
    wr(&mut l, REG_TPR, 0x4f);
    assert_eq!(l.pending(), Some(Pending::Fixed(0x52)));
    assert_eq!(l.acknowledge(), 0x52);
    assert!(isr_bit(&mut l, 0x52) && !irr_bit(&mut l, 0x52));
    // In service: the PPR is its class; lower and equal classes wait.
    assert_eq!(rd(&mut l, REG_PPR), 0x50);
    assert_eq!(l.pending(), None);
    l.accept(0x5f, Trigger::Edge);
    assert_eq!(l.pending(), None, "same class as in service");
    l.accept(0x61, Trigger::Edge);
    assert_eq!(l.pending(), Some(Pending::Fixed(0x61)));
    assert_eq!(l.acknowledge(), 0x61);
    assert_eq!(rd(&mut l, REG_PPR), 0x60);
    // EOI ends the highest in service first.
    wr(&mut l, REG_EOI, 0);
    assert!(!isr_bit(&mut l, 0x61) && isr_bit(&mut l, 0x52));
    assert_eq!(l.pending(), None);
    wr(&mut l, REG_EOI, 0);
    assert_eq!(rd(&mut l, REG_PPR), 0x4f);
    assert_eq!(l.pending(), Some(Pending::Fixed(0x5f)));
    assert_eq!(l.acknowledge(), 0x5f);
    wr(&mut l, REG_EOI, 0);
    assert_eq!(l.pending(), None, "0x45 is at the TPR's class");
    wr(&mut l, REG_TPR, 0);
    assert_eq!(l.acknowledge(), 0x45);
    wr(&mut l, REG_EOI, 0);
    assert_eq!(l.acknowledge(), 0x31);
    wr(&mut l, REG_EOI, 0);
    assert_eq!(l.pending(), None);
    // An EOI with nothing in service does nothing.
    assert_eq!(l.eoi(), None);
}

#[test]
fn ppr_keeps_tpr_low_bits_and_apr_follows_figure_11_15() {
    let mut l = enabled();
    wr(&mut l, REG_TPR, 0x37);
    assert_eq!(rd(&mut l, REG_PPR), 0x37);
    assert_eq!(rd(&mut l, REG_APR), 0x37);
    l.accept(0x80, Trigger::Edge);
    // IRR class above the TPR's: APR is the IRR class.
    assert_eq!(rd(&mut l, REG_APR), 0x80);
    l.acknowledge();
    assert_eq!(rd(&mut l, REG_PPR), 0x80);
    // ISR class 8, TPR class 3: max(3 & 8, 0) = 0.
    assert_eq!(rd(&mut l, REG_APR), 0x00);
    wr(&mut l, REG_TPR, 0x90);
    assert_eq!(rd(&mut l, REG_PPR), 0x90);
    assert_eq!(rd(&mut l, REG_APR), 0x90);
}

#[test]
fn level_eoi_is_broadcast_edge_is_not() {
    let mut l = enabled();
    l.accept(0x40, Trigger::Level);
    l.accept(0x41, Trigger::Edge);
    assert!(tmr_bit(&mut l, 0x40) && !tmr_bit(&mut l, 0x41));
    assert_eq!(l.acknowledge(), 0x41);
    assert_eq!(wr(&mut l, REG_EOI, 0), None);
    assert_eq!(l.acknowledge(), 0x40);
    assert_eq!(wr(&mut l, REG_EOI, 0), Some(BusMessage::Eoi(0x40)));
    // An edge acceptance of the vector clears its TMR bit.
    l.accept(0x40, Trigger::Edge);
    assert!(!tmr_bit(&mut l, 0x40));
    // One in the IRR and one in service for the same vector (11.8.4).
    l.acknowledge();
    l.accept(0x40, Trigger::Edge);
    l.accept(0x40, Trigger::Edge);
    assert!(isr_bit(&mut l, 0x40) && irr_bit(&mut l, 0x40));
    wr(&mut l, REG_EOI, 0);
    assert_eq!(l.acknowledge(), 0x40);
    assert_eq!(l.pending(), None);
}

#[test]
fn withdrawn_request_gives_the_spurious_vector() {
    let mut l = enabled();
    l.accept(0x40, Trigger::Edge);
    assert_eq!(l.pending(), Some(Pending::Fixed(0x40)));
    // The TPR rises between the CPU's look and its acknowledge.
    l.set_cr8(4);
    assert_eq!(l.acknowledge(), 0xef);
    assert!(!isr_bit(&mut l, 0x40), "a spurious vector sets no ISR bit");
    assert!(irr_bit(&mut l, 0x40), "the request waits");
    l.set_cr8(0);
    assert_eq!(l.acknowledge(), 0x40);
}

#[test]
fn cr8_is_tpr_high_nibble() {
    let mut l = enabled();
    l.set_cr8(0xb);
    assert_eq!(rd(&mut l, REG_TPR), 0xb0);
    wr(&mut l, REG_TPR, 0x5f);
    assert_eq!(l.cr8(), 5);
    assert_eq!(l.tpr(), 0x5f);
    l.set_cr8(0x1_0003);
    assert_eq!(l.tpr(), 0x30);
    l.set_tpr(0x21);
    assert_eq!(l.ppr(), 0x21);
}

#[test]
fn software_disable_forces_masks() {
    let mut l = enabled();
    wr(&mut l, REG_LVT, 0x30);
    wr(&mut l, REG_LVT + 0x40, 0x400);
    assert_eq!(rd(&mut l, REG_LVT), 0x30);
    l.accept(0x50, Trigger::Edge);
    wr(&mut l, REG_SVR, 0x0ef);
    for i in 0..6 {
        assert_ne!(rd(&mut l, REG_LVT + 0x10 * i) & LVT_MASKED, 0, "LVT {i}");
    }
    assert_eq!(rd(&mut l, REG_LVT), 0x10030, "the rest of the entry stays");
    // Masks cannot be cleared while disabled.
    wr(&mut l, REG_LVT + 0x50, 0xe0);
    assert_eq!(rd(&mut l, REG_LVT + 0x50), 0x100e0);
    // No new fixed interrupts; what was accepted is held.
    assert!(!l.accept(0x60, Trigger::Edge));
    assert_eq!(l.pending(), Some(Pending::Fixed(0x50)));
    // NMI still arrives (here by a self-IPI).
    wr(&mut l, REG_ICR_LOW, 0x4_0400);
    assert_eq!(l.take_signal(), Some(Pending::Nmi));
    // Enabled again: masks stay until written.
    wr(&mut l, REG_SVR, 0x1ef);
    assert_eq!(rd(&mut l, REG_LVT + 0x50), 0x100e0);
    wr(&mut l, REG_LVT + 0x50, 0xe0);
    assert_eq!(rd(&mut l, REG_LVT + 0x50), 0xe0);
    assert!(l.accept(0x60, Trigger::Edge));
}

#[test]
fn lint0_extint_virtual_wire() {
    // Power-on: LINT0 masked, the PIC's INTR does not reach the core
    // until firmware sets up the virtual wire.
    let mut l = Lapic::default();
    l.set_lint(0, true);
    assert_eq!(l.pending(), None);
    wr(&mut l, REG_SVR, 0x1ff);
    wr(&mut l, REG_LVT + 0x30, 0x700);
    assert_eq!(l.pending(), Some(Pending::ExtInt));
    assert_eq!(l.take_signal(), None, "ExtINT is not a signal");
    l.set_lint(0, false);
    assert_eq!(l.pending(), None);
    // Masked: nothing; ExtINT is not subject to the TPR or ISR.
    l.set_lint(0, true);
    wr(&mut l, REG_SVR, 0x1ff);
    wr(&mut l, REG_TPR, 0xff);
    assert_eq!(l.pending(), Some(Pending::ExtInt));
    wr(&mut l, REG_LVT + 0x30, 0x10700);
    assert_eq!(l.pending(), None);
    wr(&mut l, REG_LVT + 0x30, 0x2700);
    assert_eq!(l.pending(), None, "active low: a high pin is idle");
    l.set_lint(0, false);
    assert_eq!(l.pending(), Some(Pending::ExtInt));
    // An ExtINT message (from an IOAPIC) waits for the INTA.
    let mut l = enabled();
    l.deliver(DeliveryMode::ExtInt, 0, Trigger::Edge);
    assert_eq!(l.pending(), Some(Pending::ExtInt));
    l.acknowledge_extint();
    assert_eq!(l.pending(), None);
}

#[test]
fn lint1_nmi_and_global_disable_pass_through() {
    let mut l = enabled();
    wr(&mut l, REG_LVT + 0x40, 0x400);
    l.set_lint(1, true);
    assert_eq!(l.pending(), Some(Pending::Nmi));
    assert_eq!(l.take_signal(), Some(Pending::Nmi));
    l.set_lint(1, true);
    assert_eq!(l.pending(), None, "edge-triggered");
    l.set_lint(1, false);
    wr(&mut l, REG_LVT + 0x40, 0x10400);
    l.set_lint(1, true);
    assert_eq!(l.pending(), None, "masked");
    l.set_lint(1, false);

    // Globally disabled: LINT0 is INTR, LINT1 NMI, whatever the LVT.
    let up = l.set_apic_base(0xfee0_0000, 0).unwrap();
    assert_eq!(
        up,
        BaseUpdate {
            window: None,
            moved: true
        }
    );
    l.set_lint(0, true);
    assert_eq!(l.pending(), Some(Pending::ExtInt));
    l.set_lint(1, true);
    assert_eq!(l.take_signal(), Some(Pending::Nmi));
    l.set_lint(0, false);
    assert_eq!(l.pending(), None);
    // No fixed interrupts, no registers.
    assert!(!l.accept(0x40, Trigger::Edge));
    assert_eq!(rd(&mut l, REG_VERSION), 0);
}

#[test]
fn lint0_fixed_level_uses_remote_irr() {
    let mut l = enabled();
    wr(&mut l, REG_LVT + 0x30, 0x8000 | 0x38);
    l.set_lint(0, true);
    assert!(irr_bit(&mut l, 0x38) && tmr_bit(&mut l, 0x38));
    assert_eq!(rd(&mut l, REG_LVT + 0x30), 0xc038, "remote IRR");
    assert_eq!(l.acknowledge(), 0x38);
    // Still high at EOI: requested again.
    assert_eq!(wr(&mut l, REG_EOI, 0), Some(BusMessage::Eoi(0x38)));
    assert!(irr_bit(&mut l, 0x38));
    assert_eq!(rd(&mut l, REG_LVT + 0x30), 0xc038);
    assert_eq!(l.acknowledge(), 0x38);
    l.set_lint(0, false);
    wr(&mut l, REG_EOI, 0);
    assert_eq!(rd(&mut l, REG_LVT + 0x30), 0x8038);
    assert_eq!(l.pending(), None);
    // Edge mode: one request per rising edge.
    wr(&mut l, REG_LVT + 0x30, 0x39);
    l.set_lint(0, true);
    l.set_lint(0, true);
    assert_eq!(l.acknowledge(), 0x39);
    assert_eq!(wr(&mut l, REG_EOI, 0), None);
    assert_eq!(l.pending(), None);
    l.set_lint(0, false);
    l.set_lint(0, true);
    assert_eq!(l.pending(), Some(Pending::Fixed(0x39)));
    assert!(!tmr_bit(&mut l, 0x39));
    // LINT1 has no level mode: its trigger bit reads back, acts as edge.
    let mut l = enabled();
    wr(&mut l, REG_LVT + 0x40, 0x8000 | 0x48);
    l.set_lint(1, true);
    assert_eq!(l.acknowledge(), 0x48);
    assert_eq!(wr(&mut l, REG_EOI, 0), None);
    assert_eq!(rd(&mut l, REG_LVT + 0x40), 0x8048);
}

#[test]
fn apic_base_msr() {
    let mut l = Lapic::default();
    // Reserved bits, EXTD and address bits above MAXPHYADDR are #GP.
    for bad in [0xfee0_0901, 0xfee0_0a00, 0xfee0_0d00, 1 << 40 | 0x900] {
        assert_eq!(l.set_apic_base(bad, 0), Err(GpFault), "{bad:#x}");
    }
    assert_eq!(l.apic_base(), 0xfee0_0900);
    // BSP is read-only; the page moves.
    let up = l.set_apic_base(0xfed0_0800, 0).unwrap();
    assert_eq!(
        up,
        BaseUpdate {
            window: Some(0xfed0_0000),
            moved: true
        }
    );
    assert_eq!(l.apic_base(), 0xfed0_0900);
    let up = l.set_apic_base(0xfed0_0800, 0).unwrap();
    assert!(!up.moved);
    let big = Lapic::new(LapicConfig {
        phys_addr_bits: 46,
        ..LapicConfig::default()
    })
    .set_apic_base(0x3fff_ffff_f000 | BASE_EN, 0);
    assert!(big.is_ok());

    // Clearing EN: power-on registers, kept until EN is set again.
    wr(&mut l, REG_SVR, 0x1ff);
    wr(&mut l, REG_TPR, 0x40);
    wr(&mut l, REG_ID, 0x0700_0000);
    l.accept(0x50, Trigger::Level);
    l.set_apic_base(0xfed0_0000, 0).unwrap();
    assert!(!l.enabled());
    l.set_apic_base(0xfee0_0800, 0).unwrap();
    assert_eq!(rd(&mut l, REG_TPR), 0);
    assert_eq!(rd(&mut l, REG_ID), 0);
    assert_eq!(rd(&mut l, REG_SVR), 0xff);
    assert_eq!(rd(&mut l, REG_IRR + 0x20), 0);
    assert_eq!(rd(&mut l, REG_LVT + 0x30), 0x10000);
}

#[test]
fn init_reset_keeps_id_and_base_power_on_restores_them() {
    let mut l = enabled();
    wr(&mut l, REG_ID, 0x0500_0000);
    wr(&mut l, REG_LDR, 0x0100_0000);
    wr(&mut l, REG_TPR, 0x20);
    l.set_apic_base(0xfed0_0800, 0).unwrap();
    l.accept(0x40, Trigger::Edge);
    l.set_lint(0, true);
    l.init_reset(100);
    assert_eq!(l.apic_base(), 0xfed0_0900);
    assert_eq!(rd(&mut l, REG_ID), 0x0500_0000);
    assert_eq!(rd(&mut l, REG_LDR), 0);
    assert_eq!(rd(&mut l, REG_TPR), 0);
    assert_eq!(rd(&mut l, REG_SVR), 0xff);
    assert_eq!(rd(&mut l, REG_IRR + 0x20), 0);
    assert_eq!(rd(&mut l, REG_LVT + 0x30), 0x10000, "INIT masks LINT0 too");
    assert_eq!(l.pending(), None);
    assert_eq!(l.state().lint_levels, [true, false], "pins are wires");
    l.reset(200);
    assert_eq!(l.apic_base(), 0xfee0_0900);
    assert_eq!(rd(&mut l, REG_ID), 0);
    assert_eq!(l.pending(), None, "LINT0 masked again");
}

#[test]
fn restore_sanitizes_a_damaged_snapshot() {
    let mut l = enabled();
    let mut s = l.state();
    s.apic_base = u64::MAX;
    s.dfr_model = 0xff;
    s.svr = u32::MAX;
    s.irr = [u32::MAX; 8];
    s.isr = [u32::MAX; 8];
    s.tmr = [u32::MAX; 8];
    s.esr = u32::MAX;
    s.esr_pending = u32::MAX;
    s.icr_low = u32::MAX;
    s.icr_high = u32::MAX;
    s.lvt = [u32::MAX; 6];
    s.lint_remote_irr = [true; 2];
    s.timer.divide_config = u32::MAX;
    s.timer.initial_count = 10;
    s.timer.base_count = u32::MAX;
    s.timer.base_time = u64::MAX;
    l.restore(&s);
    let r = l.state();
    assert_eq!(r.apic_base, 0xff_ffff_f000 | BASE_EN | BASE_BSP);
    assert_eq!(r.dfr_model, 0xf);
    assert_eq!(r.svr, 0x3ff);
    assert_eq!(r.irr[0], 0xffff_0000);
    assert_eq!(r.esr | r.esr_pending, ESR_DEFINED);
    assert_eq!(r.icr_low, ICR_LOW_WRITABLE);
    assert_eq!(r.lvt, LVT_WRITABLE);
    assert_eq!(r.lint_remote_irr, [false; 2], "no LINT is fixed level");
    assert_eq!(r.timer.divide_config, 0xb);
    assert!(r.timer.base_count <= 10);
    // And it runs.
    assert_eq!(l.acknowledge(), 0xff);
    l.update(u64::MAX);
    assert!(l.next_event(u64::MAX).is_none());
    assert_eq!(l.current_count(0), 10);
}
