//! Directed tests of the 8042 controller: commands, status and command
//! byte, output port, interrupts, timing and translation (the keyboard
//! and mouse commands are in `tests_devices.rs`), and the helpers the
//! other test files use.

use super::*;

/// Read every byte the controller will produce from `*now` on, moving
/// time to each arrival; `*now` ends at the last.
pub(super) fn drain(kbc: &mut I8042, now: &mut u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        if kbc.read(STATUS_PORT, *now) & STATUS_OBF != 0 {
            out.push(kbc.read(DATA_PORT, *now));
        } else if let Some(t) = kbc.next_event(*now) {
            assert!(t > *now);
            *now = t;
        } else {
            return out;
        }
        assert!(out.len() < 1000, "endless output");
    }
}

/// A controller command and what it answers.
pub(super) fn command(kbc: &mut I8042, cmd: u8, now: &mut u64) -> Vec<u8> {
    kbc.write(STATUS_PORT, cmd, *now);
    drain(kbc, now)
}

/// A controller command with a data byte.
pub(super) fn command_data(kbc: &mut I8042, cmd: u8, data: u8, now: &mut u64) -> Vec<u8> {
    kbc.write(STATUS_PORT, cmd, *now);
    kbc.write(DATA_PORT, data, *now);
    drain(kbc, now)
}

/// A byte to the keyboard and its answer.
pub(super) fn to_keyboard(kbc: &mut I8042, byte: u8, now: &mut u64) -> Vec<u8> {
    kbc.write(DATA_PORT, byte, *now);
    drain(kbc, now)
}

/// A byte to the mouse (0xD4) and its answer.
pub(super) fn to_mouse(kbc: &mut I8042, byte: u8, now: &mut u64) -> Vec<u8> {
    command_data(kbc, 0xd4, byte, now)
}

#[test]
fn power_on_state() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert_eq!(
        kbc.read(STATUS_PORT, now),
        STATUS_COMMAND | STATUS_NOT_INHIBITED
    );
    assert_eq!(command(&mut kbc, 0x20, &mut now), [CMD_BYTE_RESET]);
    assert_eq!(command(&mut kbc, 0xd0, &mut now), [OUTPUT_PORT_RESET]);
    assert!(kbc.a20());
    assert!(!kbc.reset_requested());
    assert!(!kbc.irq1(now) && !kbc.irq12(now));
    assert_eq!(kbc.next_event(now), None);
}

#[test]
fn self_and_interface_tests() {
    let mut kbc = I8042::new();
    let mut now = 100;
    assert_eq!(kbc.read(STATUS_PORT, now) & STATUS_SYSTEM, 0);
    assert_eq!(command(&mut kbc, 0xaa, &mut now), [SELF_TEST_OK]);
    assert_ne!(kbc.read(STATUS_PORT, now) & STATUS_SYSTEM, 0);
    assert_eq!(command(&mut kbc, 0xab, &mut now), [INTERFACE_TEST_OK]);
    assert_eq!(command(&mut kbc, 0xa9, &mut now), [INTERFACE_TEST_OK]);
    assert_eq!(command(&mut kbc, 0xc0, &mut now), [INPUT_PORT]);
}

#[test]
fn command_byte_and_controller_ram() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert!(command_data(&mut kbc, 0x60, 0x47, &mut now).is_empty());
    assert_eq!(command(&mut kbc, 0x20, &mut now), [0x47]);
    // The system flag follows bit 2 of a command byte write.
    assert_ne!(kbc.read(STATUS_PORT, now) & STATUS_SYSTEM, 0);
    command_data(&mut kbc, 0x60, 0x43, &mut now);
    assert_eq!(kbc.read(STATUS_PORT, now) & STATUS_SYSTEM, 0);
    // 0xAD/0xAE and 0xA7/0xA8 set and clear the disable bits.
    command(&mut kbc, 0xad, &mut now);
    command(&mut kbc, 0xa7, &mut now);
    assert_eq!(command(&mut kbc, 0x20, &mut now), [0x43 | 0x30]);
    command(&mut kbc, 0xae, &mut now);
    command(&mut kbc, 0xa8, &mut now);
    assert_eq!(command(&mut kbc, 0x20, &mut now), [0x43]);
    // The other 31 RAM bytes.
    command_data(&mut kbc, 0x75, 0x5a, &mut now);
    assert_eq!(command(&mut kbc, 0x35, &mut now), [0x5a]);
    assert_eq!(command(&mut kbc, 0x20, &mut now), [0x43]);
}

#[test]
fn status_bit_3_tells_the_last_port_written() {
    let mut kbc = I8042::new();
    let mut now = 0;
    kbc.write(STATUS_PORT, 0xff, now);
    assert_ne!(kbc.read(STATUS_PORT, now) & STATUS_COMMAND, 0);
    to_keyboard(&mut kbc, 0xee, &mut now);
    assert_eq!(kbc.read(STATUS_PORT, now) & STATUS_COMMAND, 0);
}

#[test]
fn interrupts_follow_the_output_buffer_and_command_byte() {
    let mut kbc = I8042::new();
    let now = 10;
    // A keyboard-side byte raises IRQ 1 (command byte bit 0 is set).
    kbc.write(STATUS_PORT, 0xd2, now);
    kbc.write(DATA_PORT, 0x12, now);
    assert_eq!(
        kbc.read(STATUS_PORT, now) & (STATUS_OBF | STATUS_AUX_OBF),
        STATUS_OBF
    );
    assert!(kbc.irq1(now) && !kbc.irq12(now));
    // The output port's bits 4 and 5 show it.
    kbc.write(STATUS_PORT, 0xd0, now);
    assert_eq!(kbc.read(DATA_PORT, now), 0x12);
    assert!(!kbc.irq1(now));
    let t = now + TRANSFER_NS;
    assert_eq!(kbc.next_event(now), Some(t));
    assert!(kbc.irq1(t));
    assert_eq!(kbc.read(DATA_PORT, t), OUTPUT_PORT_RESET | OUTPUT_KBD_FULL);
    // A mouse-side byte raises IRQ 12 and sets AUX OBF.
    let t = t + TRANSFER_NS;
    kbc.write(STATUS_PORT, 0xd3, t);
    kbc.write(DATA_PORT, 0x34, t);
    assert_eq!(
        kbc.read(STATUS_PORT, t) & (STATUS_OBF | STATUS_AUX_OBF),
        STATUS_OBF | STATUS_AUX_OBF
    );
    assert!(kbc.irq12(t) && !kbc.irq1(t));
    // With the interrupt bits clear the buffer fills without IRQs.
    kbc.write(STATUS_PORT, 0x60, t);
    kbc.write(DATA_PORT, 0x00, t);
    assert!(!kbc.irq12(t));
    assert_eq!(kbc.read(DATA_PORT, t), 0x34);
    // An empty buffer reads its last byte again.
    assert_eq!(kbc.read(DATA_PORT, t + 1), 0x34);
}

#[test]
fn bytes_arrive_one_transfer_time_after_a_read() {
    let mut kbc = I8042::new();
    let t0 = 1_000;
    kbc.write(DATA_PORT, 0xf2, t0); // identify: FA AB 83
    assert!(kbc.irq1(t0));
    assert_eq!(kbc.read(DATA_PORT, t0 + 5), 0xfa);
    let t1 = t0 + 5 + TRANSFER_NS;
    // IRQ 1 falls for the transfer time, then rises: an edge per byte.
    assert!(!kbc.irq1(t1 - 1));
    assert_eq!(kbc.read(STATUS_PORT, t1 - 1) & STATUS_OBF, 0);
    assert_eq!(kbc.next_event(t0 + 5), Some(t1));
    assert_eq!(kbc.next_event(t1 - 1), Some(t1));
    assert!(kbc.irq1(t1));
    assert_eq!(kbc.next_event(t1), None);
    // Read long after: the next byte is there at once.
    assert_eq!(kbc.read(DATA_PORT, t1 + 10_000_000), 0xab);
    assert_eq!(kbc.read(DATA_PORT, t1 + 10_000_000 + TRANSFER_NS), 0x83);
    assert_eq!(kbc.next_event(t1 + 10_000_000 + TRANSFER_NS), None);
}

#[test]
fn output_port_a20_and_reset_line() {
    let mut kbc = I8042::new();
    let mut now = 0;
    command_data(&mut kbc, 0xd1, 0xdd, &mut now);
    assert!(!kbc.a20());
    assert!(!kbc.reset_requested());
    // Bits 4 and 5 are not stored: they show the output buffer.
    assert_eq!(command(&mut kbc, 0xd0, &mut now), [0xcd]);
    command_data(&mut kbc, 0xd1, 0xdf, &mut now);
    assert!(kbc.a20());
    // The HP commands.
    command(&mut kbc, 0xdd, &mut now);
    assert!(!kbc.a20());
    command(&mut kbc, 0xdf, &mut now);
    assert!(kbc.a20());
    // Bit 0 low asserts the processor's reset line.
    command_data(&mut kbc, 0xd1, 0xde, &mut now);
    assert!(kbc.reset_requested());
    kbc.reset(now);
    assert!(!kbc.reset_requested());
    assert!(kbc.a20());
    assert_eq!(command(&mut kbc, 0xd0, &mut now), [OUTPUT_PORT_RESET]);
}

#[test]
fn pulse_commands_reset_only_when_bit_0_is_pulsed() {
    for cmd in 0xf0..=0xffu8 {
        let mut kbc = I8042::new();
        let mut now = 0;
        command(&mut kbc, cmd, &mut now);
        assert_eq!(kbc.reset_requested(), cmd & 1 == 0, "{cmd:#x}");
        assert!(kbc.a20(), "a pulse leaves A20 as it was");
    }
}

#[test]
fn disabled_interfaces_hold_their_bytes() {
    let mut kbc = I8042::new();
    let mut now = 0;
    command(&mut kbc, 0xad, &mut now);
    assert!(kbc.push_key_scancode(&[0x1c], now));
    assert_eq!(drain(&mut kbc, &mut now), []);
    // Controller replies still come.
    assert_eq!(command(&mut kbc, 0xaa, &mut now), [SELF_TEST_OK]);
    assert_eq!(command(&mut kbc, 0xae, &mut now), [0x1c]);
    // A byte sent to the keyboard enables its interface.
    command(&mut kbc, 0xad, &mut now);
    assert_eq!(to_keyboard(&mut kbc, 0xee, &mut now), [0xee]);
    assert_eq!(command(&mut kbc, 0x20, &mut now), [CMD_BYTE_RESET]);
    command(&mut kbc, 0xa7, &mut now);
    kbc.write(STATUS_PORT, 0xd4, now);
    kbc.write(DATA_PORT, 0xf2, now);
    assert_eq!(drain(&mut kbc, &mut now), []);
    assert_eq!(command(&mut kbc, 0xa8, &mut now), [0xfa, 0x00]);
}

#[test]
fn replies_keyboard_then_mouse_order() {
    let mut kbc = I8042::new();
    let mut now = 0;
    // Hold both devices' bytes, then a controller reply: it goes first.
    command(&mut kbc, 0xad, &mut now);
    command(&mut kbc, 0xa7, &mut now);
    kbc.push_key_scancode(&[0x1c], now);
    kbc.write(STATUS_PORT, 0xd4, now);
    kbc.write(DATA_PORT, 0xf2, now);
    kbc.write(STATUS_PORT, 0x60, now);
    kbc.write(DATA_PORT, CMD_BYTE_RESET, now); // enable both
    let mut got = Vec::new();
    loop {
        let status = kbc.read(STATUS_PORT, now);
        if status & STATUS_OBF != 0 {
            got.push((kbc.read(DATA_PORT, now), status & STATUS_AUX_OBF != 0));
        } else if let Some(t) = kbc.next_event(now) {
            now = t;
        } else {
            break;
        }
    }
    assert_eq!(got, [(0x1c, false), (0xfa, true), (0x00, true)]);
}

#[test]
fn a_new_command_abandons_one_waiting_for_data() {
    let mut kbc = I8042::new();
    let mut now = 0;
    kbc.write(STATUS_PORT, 0x60, now);
    assert_eq!(command(&mut kbc, 0xaa, &mut now), [SELF_TEST_OK]);
    // The data byte now goes to the keyboard, not the command byte.
    assert_eq!(to_keyboard(&mut kbc, 0xee, &mut now), [0xee]);
    assert_eq!(command(&mut kbc, 0x20, &mut now), [CMD_BYTE_RESET]);
    // Unknown commands do nothing.
    for cmd in [0x00, 0x10, 0x80, 0xa1, 0xc1, 0xe0] {
        assert_eq!(command(&mut kbc, cmd, &mut now), [], "{cmd:#x}");
    }
    assert_eq!(command(&mut kbc, 0x20, &mut now), [CMD_BYTE_RESET]);
}

#[test]
fn translation_to_set_1() {
    let mut kbc = I8042::new();
    let mut now = 0;
    command_data(
        &mut kbc,
        0x60,
        CMD_BYTE_RESET | CMD_BYTE_TRANSLATE,
        &mut now,
    );
    // A (0x1C) make and break; right Ctrl (E0 14) make and break.
    assert!(kbc.push_key_scancode(&[0x1c], now));
    assert!(kbc.push_key_scancode(&[0xf0, 0x1c], now));
    assert!(kbc.push_key_scancode(&[0xe0, 0x14], now));
    assert!(kbc.push_key_scancode(&[0xe0, 0xf0, 0x14], now));
    assert_eq!(
        drain(&mut kbc, &mut now),
        [0x1e, 0x9e, 0xe0, 0x1d, 0xe0, 0x9d]
    );
    // Replies are translated too: the ID reads AB 41.
    assert_eq!(to_keyboard(&mut kbc, 0xf2, &mut now), [0xfa, 0xab, 0x41]);
    // Bytes written with 0xD2 are not.
    assert_eq!(command_data(&mut kbc, 0xd2, 0x1c, &mut now), [0x1c]);
    // Without translation, set 2 as sent.
    command_data(&mut kbc, 0x60, CMD_BYTE_RESET, &mut now);
    kbc.push_key_scancode(&[0xf0, 0x1c], now);
    assert_eq!(drain(&mut kbc, &mut now), [0xf0, 0x1c]);
}

#[test]
fn reset_returns_everything_to_the_reset_state() {
    let mut kbc = I8042::new();
    let mut now = 0;
    command_data(&mut kbc, 0x60, 0x74, &mut now);
    to_mouse(&mut kbc, 0xf4, &mut now);
    kbc.write(DATA_PORT, 0xf2, now);
    kbc.write(STATUS_PORT, 0xd1, now);
    kbc.reset(now + 7);
    let mut fresh = I8042::new();
    fresh.reset(now + 7);
    assert_eq!(kbc.state(), fresh.state());
    assert_eq!(kbc.next_event(now + 7), None);
}

#[test]
fn restore_sanitizes_a_damaged_snapshot() {
    let mut kbc = I8042::new();
    let mut s = kbc.state();
    s.pending_command = Some(0xaa);
    s.output_port = 0xff;
    s.keyboard.scancode_set = 9;
    s.keyboard.awaiting = Some(0x01);
    s.keyboard.leds = 0xff;
    s.mouse.resolution = 0x17;
    s.mouse.sample_rate = 0;
    s.mouse.id = 7;
    s.mouse.awaiting = Some(0xff);
    kbc.restore(&s);
    let r = kbc.state();
    assert_eq!(r.pending_command, None);
    assert_eq!(r.output_port, 0xcf);
    assert_eq!(r.keyboard.scancode_set, 2);
    assert_eq!(r.keyboard.awaiting, None);
    assert_eq!(r.keyboard.leds, 7);
    assert_eq!(r.mouse.resolution, 3);
    assert_eq!(r.mouse.sample_rate, 100);
    assert_eq!(r.mouse.id, 0);
    assert_eq!(r.mouse.awaiting, None);
    // Other ports are not decoded.
    assert_eq!(kbc.read(0x61, 0), 0xff);
    kbc.write(0x65, 0xfe, 0);
    assert!(!kbc.reset_requested());
}

/// The same guest program, once polling the status port every nanosecond
/// and once jumping from event to event: every byte arrives at the same
/// time, with the same IRQ 1 edges.
#[test]
fn stepping_one_nanosecond_at_a_time_matches_jumping() {
    fn run(step_by_ns: bool) -> Vec<(u64, u8)> {
        let mut kbc = I8042::new();
        let mut now = 3;
        kbc.write(DATA_PORT, 0xff, now); // FA AA
        kbc.write(STATUS_PORT, 0xd4, now);
        kbc.write(DATA_PORT, 0xff, now); // FA AA 00 from the mouse
        kbc.push_key_scancode(&[0xf0, 0x1c], now);
        let mut got = Vec::new();
        let mut irq1 = kbc.irq1(now);
        let mut edges = 0;
        while got.len() < 7 {
            if kbc.read(STATUS_PORT, now) & STATUS_OBF != 0 {
                got.push((now, kbc.read(DATA_PORT, now)));
            } else if step_by_ns {
                now += 1;
            } else {
                now = kbc.next_event(now).expect("more bytes to come");
            }
            let level = kbc.irq1(now);
            edges += usize::from(level && !irq1);
            irq1 = level;
        }
        assert_eq!(kbc.next_event(now), None);
        got.push((edges as u64, 0));
        got
    }
    let jumping = run(false);
    assert_eq!(run(true), jumping);
    let bytes: Vec<u8> = jumping[..7].iter().map(|&(_, b)| b).collect();
    assert_eq!(bytes, [0xfa, 0xaa, 0xf0, 0x1c, 0xfa, 0xaa, 0x00]);
    for pair in jumping[..7].windows(2) {
        assert_eq!(pair[1].0 - pair[0].0, TRANSFER_NS);
    }
    // IRQ 1 rose again for each keyboard byte after the first (which
    // was there when the polling began).
    assert_eq!(jumping[7].0, 3);
}
