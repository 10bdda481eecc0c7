//! A PS/2 mouse with the IntelliMouse wheel extension (IBM PS/2 technical
//! reference, "Pointing Device"; Microsoft's IntelliMouse detection
//! sequence; QEMU `hw/input/ps2.c`, Bochs `iodev/keyboard.cc`): it answers
//! the system's commands through its output queue and turns movement the
//! host pushes into 3-byte packets (4 bytes with ID 3).
//!
//! * Movement accumulates; a packet carries at most -256..=255 per axis
//!   (and -8..=7 for the wheel), and what is left goes in further packets
//!   while the queue has room (QEMU), so the overflow bits are never set
//!   for accumulated movement. 2:1 scaling applies to stream packets only
//!   (IBM) and sets an overflow bit if it leaves the 9-bit range.
//! * The IntelliMouse sequence is three consecutive set-sample-rate
//!   commands with 200, 100, 80; any other command in between breaks it.
//!   (The 200, 200, 80 Explorer sequence, ID 4, is not recognized.)
//! * Wrap mode (0xEE) echoes every byte but 0xEC (leave) and 0xFF (reset).
//! * Commands that take a parameter (0xE8 resolution, 0xF3 sample rate)
//!   take the next byte whatever its value; a resolution above 3 or a
//!   sample rate outside 10, 20, 40, 60, 80, 100, 200 answers 0xFE
//!   (IBM lists the valid values; QEMU accepts any).
//! * 0xF6 (set defaults) also returns to stream mode (QEMU and Bochs).
//! * Unknown commands answer 0xFE (Bochs; QEMU answers nothing).
//! * The status byte (0xE9) carries the buttons in bits 2:0 (IBM, Bochs;
//!   QEMU leaves them 0).

use super::keyboard::{ACK, RESEND, SELF_TEST_PASSED};
use super::queue::ByteQueue;

const CMD_SCALING_1_1: u8 = 0xe6;
const CMD_SCALING_2_1: u8 = 0xe7;
const CMD_RESOLUTION: u8 = 0xe8;
const CMD_STATUS: u8 = 0xe9;
const CMD_STREAM: u8 = 0xea;
const CMD_READ_DATA: u8 = 0xeb;
const CMD_RESET_WRAP: u8 = 0xec;
const CMD_WRAP: u8 = 0xee;
const CMD_REMOTE: u8 = 0xf0;
const CMD_GET_ID: u8 = 0xf2;
const CMD_SAMPLE_RATE: u8 = 0xf3;
const CMD_ENABLE: u8 = 0xf4;
const CMD_DISABLE: u8 = 0xf5;
const CMD_SET_DEFAULT: u8 = 0xf6;
const CMD_RESEND: u8 = 0xfe;
const CMD_RESET: u8 = 0xff;

/// The sample rates a PS/2 mouse accepts.
const SAMPLE_RATES: [u8; 7] = [10, 20, 40, 60, 80, 100, 200];
const INTELLIMOUSE_SEQUENCE: [u8; 3] = [200, 100, 80];
/// Device IDs: a standard mouse and an IntelliMouse with a wheel.
pub const ID_STANDARD: u8 = 0;
pub const ID_INTELLIMOUSE: u8 = 3;

/// Packet byte 0: buttons in bits 2:0 (left, right, middle), bit 3 always
/// set, X and Y signs in bits 4 and 5, overflows in bits 6 and 7.
const PACKET_ALWAYS: u8 = 0x08;

/// Everything the mouse holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MouseState {
    pub queue: ByteQueue,
    /// A command (0xE8, 0xF3) waiting for its parameter byte.
    pub awaiting: Option<u8>,
    /// Remote mode (else stream mode).
    pub remote: bool,
    /// Data reporting enabled (stream mode sends packets).
    pub reporting: bool,
    pub scaling_2_1: bool,
    pub wrap: bool,
    /// 0..=3: 1, 2, 4, 8 counts/mm.
    pub resolution: u8,
    pub sample_rate: u8,
    /// 0 or 3.
    pub id: u8,
    /// The sample rates set by consecutive 0xF3 commands, oldest first.
    pub rate_history: [u8; 3],
    /// Movement not yet sent (Y up, wheel down positive as in packets).
    pub dx: i32,
    pub dy: i32,
    pub dz: i32,
    /// Left, right, middle in bits 0..=2.
    pub buttons: u8,
    pub last_sent: u8,
}

impl MouseState {
    /// After power-on or the reset command: stream mode, reporting off,
    /// 100 samples/s, 4 counts/mm, 1:1, standard ID, empty queue.
    pub fn reset() -> MouseState {
        MouseState {
            queue: ByteQueue::default(),
            awaiting: None,
            remote: false,
            reporting: false,
            scaling_2_1: false,
            wrap: false,
            resolution: 2,
            sample_rate: 100,
            id: ID_STANDARD,
            rate_history: [0; 3],
            dx: 0,
            dy: 0,
            dz: 0,
            buttons: 0,
            last_sent: 0,
        }
    }

    /// A byte from the system (the 8042's 0xD4 command).
    pub fn write(&mut self, byte: u8) {
        if let Some(command) = self.awaiting.take() {
            self.parameter(command, byte);
            return;
        }
        if self.wrap && byte != CMD_RESET_WRAP && byte != CMD_RESET {
            self.queue.push_reply(byte);
            return;
        }
        if byte != CMD_SAMPLE_RATE {
            self.rate_history = [0; 3];
        }
        match byte {
            CMD_RESOLUTION | CMD_SAMPLE_RATE => {
                self.ack();
                self.awaiting = Some(byte);
            }
            CMD_SCALING_1_1 | CMD_SCALING_2_1 => {
                self.scaling_2_1 = byte == CMD_SCALING_2_1;
                self.ack();
            }
            CMD_STATUS => {
                self.ack();
                // Byte 1: remote, enable, scaling in bits 6..4, then left,
                // middle, right in bits 2..0.
                let b = self.buttons;
                let buttons = (b & 1) << 2 | (b & 4) >> 1 | (b & 2) >> 1;
                let status = u8::from(self.remote) << 6
                    | u8::from(self.reporting) << 5
                    | u8::from(self.scaling_2_1) << 4
                    | buttons;
                for byte in [status, self.resolution, self.sample_rate] {
                    self.queue.push_reply(byte);
                }
            }
            CMD_STREAM | CMD_REMOTE => {
                self.remote = byte == CMD_REMOTE;
                self.ack();
            }
            CMD_READ_DATA => {
                self.ack();
                let packet = self.take_packet(false);
                for byte in packet.iter().take(self.packet_len()) {
                    self.queue.push_reply(*byte);
                }
            }
            CMD_RESET_WRAP | CMD_WRAP => {
                self.wrap = byte == CMD_WRAP;
                self.ack();
            }
            CMD_GET_ID => {
                self.ack();
                self.queue.push_reply(self.id);
            }
            CMD_ENABLE | CMD_DISABLE => {
                self.reporting = byte == CMD_ENABLE;
                self.ack();
            }
            CMD_SET_DEFAULT => {
                self.set_defaults();
                self.ack();
            }
            CMD_RESEND => self.queue.push_reply(self.last_sent),
            CMD_RESET => {
                let last_sent = self.last_sent;
                *self = MouseState::reset();
                self.last_sent = last_sent;
                for byte in [ACK, SELF_TEST_PASSED, ID_STANDARD] {
                    self.queue.push_reply(byte);
                }
            }
            _ => self.queue.push_reply(RESEND),
        }
    }

    fn ack(&mut self) {
        self.queue.push_reply(ACK);
    }

    /// 0xF6: the reset values but for the ID and the queue: stream mode,
    /// reporting off, 100 samples/s, 4 counts/mm, 1:1.
    fn set_defaults(&mut self) {
        self.remote = false;
        self.reporting = false;
        self.scaling_2_1 = false;
        self.resolution = 2;
        self.sample_rate = 100;
        self.dx = 0;
        self.dy = 0;
        self.dz = 0;
    }

    fn parameter(&mut self, command: u8, value: u8) {
        if command == CMD_RESOLUTION {
            if value <= 3 {
                self.resolution = value;
                self.ack();
            } else {
                self.queue.push_reply(RESEND);
            }
            return;
        }
        // CMD_SAMPLE_RATE
        if !SAMPLE_RATES.contains(&value) {
            self.queue.push_reply(RESEND);
            self.rate_history = [0; 3];
            return;
        }
        self.sample_rate = value;
        self.rate_history = [self.rate_history[1], self.rate_history[2], value];
        if self.rate_history == INTELLIMOUSE_SEQUENCE {
            self.id = ID_INTELLIMOUSE;
        }
        self.ack();
    }

    fn packet_len(&self) -> usize {
        if self.id == ID_INTELLIMOUSE {
            4
        } else {
            3
        }
    }

    /// A packet of the movement accumulated so far (up to one packet's
    /// range; the rest stays), with 2:1 scaling if `scaled`.
    fn take_packet(&mut self, scaled: bool) -> [u8; 4] {
        let x = self.dx.clamp(-256, 255);
        let y = self.dy.clamp(-256, 255);
        let z = self.dz.clamp(-8, 7);
        self.dx -= x;
        self.dy -= y;
        self.dz -= z;
        let (x, x_overflow) = scale(x, scaled && self.scaling_2_1);
        let (y, y_overflow) = scale(y, scaled && self.scaling_2_1);
        let byte0 = PACKET_ALWAYS
            | self.buttons & 7
            | u8::from(x < 0) << 4
            | u8::from(y < 0) << 5
            | u8::from(x_overflow) << 6
            | u8::from(y_overflow) << 7;
        [byte0, x as u8, y as u8, z as u8]
    }

    /// Host input: relative movement (X right, Y up, Z wheel down
    /// positive) and the buttons now pressed (left, right, middle in bits
    /// 0..=2). In stream mode with reporting on, packets are queued while
    /// there is room (at least one per call if it fits); otherwise the
    /// movement accumulates for a read data command.
    pub fn push_movement(&mut self, dx: i32, dy: i32, dz: i32, buttons: u8) {
        self.dx = self.dx.saturating_add(dx);
        self.dy = self.dy.saturating_add(dy);
        self.dz = self.dz.saturating_add(dz);
        self.buttons = buttons & 7;
        if self.remote || !self.reporting || self.wrap {
            return;
        }
        let len = self.packet_len();
        loop {
            if !self.queue.input_room(len) {
                return;
            }
            let packet = self.take_packet(true);
            self.queue.push_input(&packet[..len]);
            if self.dx == 0 && self.dy == 0 && self.dz == 0 {
                return;
            }
        }
    }

    /// The controller clocks in the next byte.
    pub fn pop(&mut self) -> Option<u8> {
        let b = self.queue.pop()?;
        self.last_sent = b;
        Some(b)
    }

    /// Bring restored values into range.
    pub fn sanitize(&mut self) {
        self.queue.sanitize();
        if !matches!(self.awaiting, Some(CMD_RESOLUTION | CMD_SAMPLE_RATE)) {
            self.awaiting = None;
        }
        self.resolution &= 3;
        if !SAMPLE_RATES.contains(&self.sample_rate) {
            self.sample_rate = 100;
        }
        if self.id != ID_INTELLIMOUSE {
            self.id = ID_STANDARD;
        }
        self.buttons &= 7;
    }
}

/// 2:1 scaling (IBM: 1→1, 2→1, 3→3, 4→6, 5→9, n→2n beyond), with the
/// value clamped to 9 bits and whether that overflowed.
fn scale(v: i32, on: bool) -> (i32, bool) {
    if !on {
        return (v, false);
    }
    let m = match v.unsigned_abs() {
        0 => 0,
        1 | 2 => 1,
        3 => 3,
        4 => 6,
        5 => 9,
        n => 2 * n as i32,
    };
    let s = if v < 0 { -m } else { m };
    (s.clamp(-256, 255), !(-256..=255).contains(&s))
}
