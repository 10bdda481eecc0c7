//! Port 0x92 and the PIIX3 reset control register.

use super::*;

#[test]
fn port_92_a20_and_fast_reset() {
    assert_eq!((PORT_92, PORT_CF9), (0x92, 0xcf9));
    let mut p = SystemControlA::new();
    assert_eq!(p.read(), 0);
    assert!(!p.a20() && !p.reset_requested());
    p.write(0x02);
    assert!(p.a20() && !p.reset_requested());
    assert_eq!(p.read(), 0x02);
    // Fast reset on bit 0's rising transition only.
    p.write(0x03);
    assert!(p.reset_requested());
    p.reset();
    assert_eq!(p.read(), 0);
    assert!(!p.reset_requested() && !p.a20());
    p.write(0x01);
    assert!(p.reset_requested());
    p.reset();
    let mut q = SystemControlA::new();
    q.restore(&SystemControlAState {
        value: 0x01,
        reset_requested: false,
    });
    q.write(0x03);
    assert!(!q.reset_requested(), "bit 0 was already set");
    assert!(q.a20());
    // The other bits read back.
    q.write(0xc0);
    assert_eq!(q.read(), 0xc0);
    assert_eq!(q.state().value, 0xc0);
}

#[test]
fn reset_control_register() {
    let mut r = ResetControl::new();
    assert_eq!(r.read(), 0);
    r.write(0x02);
    assert_eq!((r.read(), r.reset_requested()), (0x02, None));
    r.write(0x06);
    assert_eq!(r.reset_requested(), Some(ResetKind::Hard));
    assert_eq!(r.read(), 0x02, "bit 2 reads 0");
    r.reset();
    assert_eq!((r.read(), r.reset_requested()), (0, None));
    r.write(0xfd);
    assert_eq!(r.reset_requested(), Some(ResetKind::Soft));
    assert_eq!(r.read(), 0);
    r.restore(&ResetControlState {
        value: 0xff,
        reset_requested: None,
    });
    assert_eq!(r.read(), 0x02);
}
