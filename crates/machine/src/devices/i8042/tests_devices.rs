//! The PS/2 keyboard and mouse behind the controller: their commands and
//! replies (IBM PS/2 technical reference), host input and the bounded
//! queues.

use super::tests::{command, command_data, drain, to_keyboard, to_mouse};
use super::*;

#[test]
fn keyboard_reset_identify_echo() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert_eq!(to_keyboard(&mut kbc, 0xff, &mut now), [0xfa, 0xaa]);
    assert_eq!(to_keyboard(&mut kbc, 0xf2, &mut now), [0xfa, 0xab, 0x83]);
    assert_eq!(to_keyboard(&mut kbc, 0xee, &mut now), [0xee]);
    // Resend repeats the last byte sent.
    assert_eq!(to_keyboard(&mut kbc, 0xfe, &mut now), [0xee]);
    // Unknown commands, and set 3's key-type commands, ask for a resend.
    for cmd in [0x00, 0x55, 0xef, 0xf1, 0xf7, 0xfa, 0xfd] {
        assert_eq!(to_keyboard(&mut kbc, cmd, &mut now), [0xfe], "{cmd:#x}");
    }
}

#[test]
fn keyboard_parameters() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert_eq!(to_keyboard(&mut kbc, 0xed, &mut now), [0xfa]);
    assert_eq!(
        to_keyboard(&mut kbc, 0xff, &mut now),
        [0xfa],
        "LED byte, not reset"
    );
    assert_eq!(kbc.state().keyboard.leds, 7);
    assert_eq!(to_keyboard(&mut kbc, 0xf3, &mut now), [0xfa]);
    assert_eq!(to_keyboard(&mut kbc, 0xa0, &mut now), [0xfa]);
    assert_eq!(kbc.state().keyboard.typematic, 0x20);
    // Scan code sets: query, select, reject.
    for (param, reply) in [
        (0x00, vec![0xfa, 0x02]),
        (0x01, vec![0xfa]),
        (0x00, vec![0xfa, 0x01]),
        (0x03, vec![0xfa]),
        (0x00, vec![0xfa, 0x03]),
        (0x04, vec![0xfe]),
        (0x00, vec![0xfa, 0x03]),
    ] {
        assert_eq!(to_keyboard(&mut kbc, 0xf0, &mut now), [0xfa]);
        assert_eq!(
            to_keyboard(&mut kbc, param, &mut now),
            reply,
            "F0 {param:#x}"
        );
    }
    // Set defaults.
    assert_eq!(to_keyboard(&mut kbc, 0xf6, &mut now), [0xfa]);
    let k = kbc.state().keyboard;
    assert_eq!((k.scancode_set, k.leds, k.typematic), (2, 0, 0x2b));
}

#[test]
fn keyboard_scanning_and_host_keys() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert!(kbc.push_key_scancode(&[0x1c], now));
    assert_eq!(drain(&mut kbc, &mut now), [0x1c]);
    // Disabled: keys are dropped, and the queue was cleared first.
    assert!(kbc.push_key_scancode(&[0x32], now));
    assert_eq!(to_keyboard(&mut kbc, 0xf5, &mut now), [0xfa]);
    assert!(!kbc.push_key_scancode(&[0x1c], now));
    assert_eq!(drain(&mut kbc, &mut now), []);
    assert_eq!(to_keyboard(&mut kbc, 0xf4, &mut now), [0xfa]);
    assert!(kbc.push_key_scancode(&[0x1c], now));
    assert_eq!(drain(&mut kbc, &mut now), [0x1c]);
    // In set 1 the keyboard converts the host's set 2 codes itself.
    to_keyboard(&mut kbc, 0xf0, &mut now);
    to_keyboard(&mut kbc, 0x01, &mut now);
    assert!(kbc.push_key_scancode(&[0xe0, 0xf0, 0x75], now));
    assert_eq!(drain(&mut kbc, &mut now), [0xe0, 0xc8]);
    assert!(!kbc.push_key_scancode(&[], now));
}

#[test]
fn queues_are_bounded_and_host_input_leaves_room_for_replies() {
    let mut kbc = I8042::new();
    let mut now = 0;
    // Host keys fill the queue up to the headroom, whole events only.
    command(&mut kbc, 0xad, &mut now);
    let mut taken = 0;
    while kbc.push_key_scancode(&[0xe0, 0xf0, 0x75], now) {
        taken += 1;
    }
    assert_eq!(taken, (queue::CAPACITY - queue::HEADROOM) / 3);
    // Replies still fit behind them; beyond the capacity they are lost.
    // (Sending to the keyboard enables its interface, so the first byte
    // moves into the controller's output buffer at once.)
    for _ in 0..100 {
        kbc.write(DATA_PORT, 0xee, now);
    }
    assert_eq!(kbc.state().keyboard.queue.len(), queue::CAPACITY);
    let got = drain(&mut kbc, &mut now);
    assert_eq!(got.len(), 1 + queue::CAPACITY);
    assert_eq!(got[..3], [0xe0, 0xf0, 0x75]);
    assert_eq!(got[got.len() - 1], 0xee);
    // The mouse likewise.
    command(&mut kbc, 0xa7, &mut now);
    for _ in 0..100 {
        kbc.write(STATUS_PORT, 0xd4, now);
        kbc.write(DATA_PORT, 0xe9, now);
    }
    assert_eq!(kbc.state().mouse.queue.len(), queue::CAPACITY);
}

#[test]
fn mouse_reset_id_and_intellimouse_sequence() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert_eq!(to_mouse(&mut kbc, 0xff, &mut now), [0xfa, 0xaa, 0x00]);
    assert_eq!(to_mouse(&mut kbc, 0xf2, &mut now), [0xfa, 0x00]);
    // A broken sequence (another command in between) does nothing.
    for byte in [0xf3, 200, 0xf3, 100, 0xe6, 0xf3, 80] {
        assert_eq!(to_mouse(&mut kbc, byte, &mut now), [0xfa]);
    }
    assert_eq!(to_mouse(&mut kbc, 0xf2, &mut now), [0xfa, 0x00]);
    for byte in [0xf3, 200, 0xf3, 100, 0xf3, 80] {
        assert_eq!(to_mouse(&mut kbc, byte, &mut now), [0xfa]);
    }
    assert_eq!(to_mouse(&mut kbc, 0xf2, &mut now), [0xfa, 0x03]);
    // Reset brings back the standard ID.
    assert_eq!(to_mouse(&mut kbc, 0xff, &mut now), [0xfa, 0xaa, 0x00]);
    assert_eq!(to_mouse(&mut kbc, 0xf2, &mut now), [0xfa, 0x00]);
}

#[test]
fn mouse_settings_and_status() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert_eq!(to_mouse(&mut kbc, 0xe9, &mut now), [0xfa, 0x00, 0x02, 100]);
    for byte in [0xe8, 0x03, 0xf3, 40, 0xe7, 0xf0, 0xf4] {
        assert_eq!(to_mouse(&mut kbc, byte, &mut now), [0xfa]);
    }
    kbc.push_mouse_movement(0, 0, 0, 0b101, now); // left and middle
    assert_eq!(to_mouse(&mut kbc, 0xe9, &mut now), [0xfa, 0x76, 0x03, 40]);
    // Invalid resolution and rate: resend, settings kept.
    assert_eq!(to_mouse(&mut kbc, 0xe8, &mut now), [0xfa]);
    assert_eq!(to_mouse(&mut kbc, 0x04, &mut now), [0xfe]);
    assert_eq!(to_mouse(&mut kbc, 0xf3, &mut now), [0xfa]);
    assert_eq!(to_mouse(&mut kbc, 33, &mut now), [0xfe]);
    // Defaults: stream mode, reporting off, 1:1, 100/s, 4 counts/mm.
    assert_eq!(to_mouse(&mut kbc, 0xf6, &mut now), [0xfa]);
    assert_eq!(to_mouse(&mut kbc, 0xe9, &mut now), [0xfa, 0x06, 0x02, 100]);
    assert_eq!(to_mouse(&mut kbc, 0x01, &mut now), [0xfe]);
    // Resend repeats the last byte.
    assert_eq!(to_mouse(&mut kbc, 0xfe, &mut now), [0xfe]);
}

#[test]
fn mouse_stream_packets() {
    let mut kbc = I8042::new();
    let mut now = 0;
    // Not reporting: nothing is sent.
    kbc.push_mouse_movement(5, -3, 0, 1, now);
    assert_eq!(drain(&mut kbc, &mut now), []);
    assert_eq!(to_mouse(&mut kbc, 0xf4, &mut now), [0xfa]);
    // The accumulated movement goes out with the next one.
    kbc.push_mouse_movement(0, 0, 0, 1, now);
    assert_eq!(drain(&mut kbc, &mut now), [0x29, 0x05, 0xfd]);
    // A long move is split into packets of at most 255.
    kbc.push_mouse_movement(300, 0, 0, 0, now);
    assert_eq!(
        drain(&mut kbc, &mut now),
        [0x08, 0xff, 0x00, 0x08, 45, 0x00]
    );
    // 2:1 scaling in stream mode.
    to_mouse(&mut kbc, 0xe7, &mut now);
    kbc.push_mouse_movement(4, -200, 0, 0, now);
    assert_eq!(drain(&mut kbc, &mut now), [0xa8, 6, 0x00]);
    to_mouse(&mut kbc, 0xe6, &mut now);
    // IntelliMouse: four bytes, the wheel in the last.
    for byte in [0xf3, 200, 0xf3, 100, 0xf3, 80] {
        to_mouse(&mut kbc, byte, &mut now);
    }
    kbc.push_mouse_movement(1, 1, -2, 2, now);
    assert_eq!(drain(&mut kbc, &mut now), [0x0a, 0x01, 0x01, 0xfe]);
}

#[test]
fn mouse_irq12_per_byte() {
    let mut kbc = I8042::new();
    let mut now = 0;
    to_mouse(&mut kbc, 0xf4, &mut now);
    kbc.push_mouse_movement(1, 2, 0, 0, now);
    let mut edges = 0;
    let mut level = false;
    for _ in 0..10 * TRANSFER_NS / 1000 {
        let irq = kbc.irq12(now);
        if irq && !level {
            edges += 1;
            kbc.read(DATA_PORT, now);
        }
        level = kbc.irq12(now);
        now += 1000;
    }
    assert_eq!(edges, 3);
}

#[test]
fn mouse_remote_mode_and_read_data() {
    let mut kbc = I8042::new();
    let mut now = 0;
    to_mouse(&mut kbc, 0xf0, &mut now);
    to_mouse(&mut kbc, 0xf4, &mut now);
    kbc.push_mouse_movement(-1, 3, 0, 0b010, now);
    assert_eq!(drain(&mut kbc, &mut now), []);
    // Read data: the packet (scaling does not apply), movement cleared.
    to_mouse(&mut kbc, 0xe7, &mut now);
    assert_eq!(to_mouse(&mut kbc, 0xeb, &mut now), [0xfa, 0x1a, 0xff, 0x03]);
    assert_eq!(to_mouse(&mut kbc, 0xeb, &mut now), [0xfa, 0x0a, 0x00, 0x00]);
    // Back to stream mode.
    to_mouse(&mut kbc, 0xea, &mut now);
    kbc.push_mouse_movement(1, 0, 0, 0, now);
    assert_eq!(drain(&mut kbc, &mut now), [0x08, 0x01, 0x00]);
}

#[test]
fn mouse_wrap_mode_echoes() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert_eq!(to_mouse(&mut kbc, 0xee, &mut now), [0xfa]);
    for byte in [0x12, 0xf2, 0xe9, 0xee] {
        assert_eq!(to_mouse(&mut kbc, byte, &mut now), [byte]);
    }
    assert_eq!(to_mouse(&mut kbc, 0xec, &mut now), [0xfa]);
    assert_eq!(to_mouse(&mut kbc, 0xf2, &mut now), [0xfa, 0x00]);
    to_mouse(&mut kbc, 0xee, &mut now);
    assert_eq!(to_mouse(&mut kbc, 0xff, &mut now), [0xfa, 0xaa, 0x00]);
    assert!(!kbc.state().mouse.wrap);
}

#[test]
fn controller_aux_writes_and_loopback() {
    let mut kbc = I8042::new();
    let mut now = 0;
    assert_eq!(command_data(&mut kbc, 0xd3, 0x5a, &mut now), [0x5a]);
    assert_eq!(command_data(&mut kbc, 0xd2, 0xa5, &mut now), [0xa5]);
}
