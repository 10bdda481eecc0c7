//! A PS/2 keyboard as the 8042 sees it (IBM PS/2 technical reference,
//! "Keyboard": "Commands from the System" and "Commands to the System";
//! QEMU `hw/input/ps2.c`, Bochs `iodev/keyboard.cc`): it answers the
//! system's commands and sends scan codes the host pushes, through its
//! output queue.
//!
//! * Commands that take a parameter (0xED LEDs, 0xF0 scan code set, 0xF3
//!   typematic) acknowledge, then take the next byte as the parameter
//!   whatever its value (QEMU; IBM keyboards would end the command if the
//!   byte were a command).
//! * 0xF4 (enable), 0xF5 (default disable), 0xF6 (set default) and 0xFF
//!   (reset) clear the output queue before acknowledging (IBM reference);
//!   other commands queue their reply behind what is there (QEMU).
//! * Scan code sets: the host pushes set 2 codes. In set 1 the keyboard
//!   converts them with the controller's table (set 1 is what that table
//!   produces); set 3 can be selected and is reported, but keys are still
//!   sent in set 2 codes (no host input source exists yet to need it).
//! * Unknown commands, and the set 3 key-type commands 0xF7..=0xFD,
//!   answer 0xFE (resend), as does a scan code set above 3 (Bochs answers
//!   that with 0xFF).
//! * Power-on and system reset do not queue the 0xAA a keyboard sends
//!   after its power-on self-test (QEMU); the 0xFF command does.

use super::queue::ByteQueue;
use super::translate::{set2_to_set1, translate_front};

pub const ACK: u8 = 0xfa;
pub const RESEND: u8 = 0xfe;
pub const SELF_TEST_PASSED: u8 = 0xaa;
pub const ECHO: u8 = 0xee;
/// The MF2 keyboard's ID after the acknowledge of 0xF2.
pub const ID: [u8; 2] = [0xab, 0x83];
/// The default typematic byte: 10.9 characters/s after 500 ms.
pub const DEFAULT_TYPEMATIC: u8 = 0x2b;

const CMD_SET_LEDS: u8 = 0xed;
const CMD_ECHO: u8 = 0xee;
const CMD_SCANCODE_SET: u8 = 0xf0;
const CMD_IDENTIFY: u8 = 0xf2;
const CMD_TYPEMATIC: u8 = 0xf3;
const CMD_ENABLE: u8 = 0xf4;
const CMD_DEFAULT_DISABLE: u8 = 0xf5;
const CMD_SET_DEFAULT: u8 = 0xf6;
const CMD_RESEND: u8 = 0xfe;
const CMD_RESET: u8 = 0xff;

/// Everything the keyboard holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyboardState {
    pub queue: ByteQueue,
    /// A command (0xED, 0xF0, 0xF3) waiting for its parameter byte.
    pub awaiting: Option<u8>,
    /// Scanning enabled: keys are sent.
    pub scanning: bool,
    /// 1, 2 or 3.
    pub scancode_set: u8,
    /// Scroll, Num and Caps Lock in bits 0..=2.
    pub leds: u8,
    /// Typematic rate and delay (bits 6:0 of the 0xF3 parameter).
    pub typematic: u8,
    /// The last byte sent to the controller (for 0xFE).
    pub last_sent: u8,
}

impl KeyboardState {
    /// The state after power-on or the reset command, with an empty queue.
    pub fn reset() -> KeyboardState {
        KeyboardState {
            queue: ByteQueue::default(),
            awaiting: None,
            scanning: true,
            scancode_set: 2,
            leds: 0,
            typematic: DEFAULT_TYPEMATIC,
            last_sent: 0,
        }
    }

    /// The defaults of 0xF5/0xF6: typematic, LEDs and scan code set
    /// (IBM: "resets all conditions to the power-on default state").
    fn set_defaults(&mut self) {
        self.scancode_set = 2;
        self.leds = 0;
        self.typematic = DEFAULT_TYPEMATIC;
        self.queue.clear();
    }

    /// A byte from the system (through the controller).
    pub fn write(&mut self, byte: u8) {
        if let Some(command) = self.awaiting.take() {
            self.parameter(command, byte);
            return;
        }
        let q = &mut self.queue;
        match byte {
            CMD_SET_LEDS | CMD_TYPEMATIC | CMD_SCANCODE_SET => {
                q.push_reply(ACK);
                self.awaiting = Some(byte);
            }
            CMD_ECHO => q.push_reply(ECHO),
            CMD_IDENTIFY => {
                q.push_reply(ACK);
                q.push_reply(ID[0]);
                q.push_reply(ID[1]);
            }
            CMD_ENABLE => {
                q.clear();
                self.scanning = true;
                self.queue.push_reply(ACK);
            }
            CMD_DEFAULT_DISABLE => {
                self.set_defaults();
                self.scanning = false;
                self.queue.push_reply(ACK);
            }
            CMD_SET_DEFAULT => {
                self.set_defaults();
                self.scanning = true;
                self.queue.push_reply(ACK);
            }
            CMD_RESEND => q.push_reply(self.last_sent),
            CMD_RESET => {
                let last_sent = self.last_sent;
                *self = KeyboardState::reset();
                self.last_sent = last_sent;
                self.queue.push_reply(ACK);
                self.queue.push_reply(SELF_TEST_PASSED);
            }
            _ => q.push_reply(RESEND),
        }
    }

    fn parameter(&mut self, command: u8, value: u8) {
        let q = &mut self.queue;
        match command {
            CMD_SET_LEDS => {
                self.leds = value & 7;
                q.push_reply(ACK);
            }
            CMD_TYPEMATIC => {
                self.typematic = value & 0x7f;
                q.push_reply(ACK);
            }
            // CMD_SCANCODE_SET
            _ => match value {
                0 => {
                    q.push_reply(ACK);
                    q.push_reply(self.scancode_set);
                }
                1..=3 => {
                    self.scancode_set = value;
                    q.push_reply(ACK);
                }
                _ => q.push_reply(RESEND),
            },
        }
    }

    /// Host input: one key event as set 2 bytes (e.g. `[0xF0, 0x1C]` for
    /// the release of A). Dropped while scanning is disabled or if the
    /// queue has no room for all of it. Returns whether it was taken.
    pub fn push_scancode(&mut self, set2: &[u8]) -> bool {
        if !self.scanning || set2.is_empty() {
            return false;
        }
        if self.scancode_set != 1 {
            return self.queue.push_input(set2);
        }
        let mut set1 = Vec::with_capacity(set2.len());
        let mut rest = set2;
        while let Some((byte, used)) = translate_front(rest.iter().copied()) {
            set1.push(byte);
            rest = &rest[used..];
        }
        // A trailing lone break prefix has nothing to apply to.
        if let [byte] = rest {
            set1.push(set2_to_set1(*byte));
        }
        self.queue.push_input(&set1)
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
        if !matches!(
            self.awaiting,
            Some(CMD_SET_LEDS | CMD_TYPEMATIC | CMD_SCANCODE_SET)
        ) {
            self.awaiting = None;
        }
        if !(1..=3).contains(&self.scancode_set) {
            self.scancode_set = 2;
        }
        self.leds &= 7;
        self.typematic &= 0x7f;
    }
}
