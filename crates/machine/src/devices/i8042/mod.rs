//! The PC's 8042 keyboard controller with a PS/2 keyboard and mouse
//! attached (IBM Personal System/2 Hardware Interface Technical Reference,
//! "Keyboard and Auxiliary Device Controller": status register, command
//! byte, controller commands, input and output ports), at ports 0x60
//! (data) and 0x64 (status on read, command on write), taken here as
//! absolute port numbers like the PIT and PIC. The devices are in
//! `keyboard.rs` and `mouse.rs`, the set 2 → set 1 translation in
//! `translate.rs`, ports 0x92 and 0xCF9 in `system_control.rs`.
//!
//! Outputs: IRQ 1 is high while the output buffer holds a byte from the
//! keyboard side (a keyboard byte or a controller reply) and command byte
//! bit 0 is set; IRQ 12 likewise for a mouse byte and bit 1. They are
//! levels on the controller's pins (P24, P25), wired to edge-triggered
//! ISA inputs: the PIC latches their rising edges. The output port's A20
//! gate (bit 1) and reset line (bit 0, active low) are [`I8042::a20`] and
//! [`I8042::reset_requested`].
//!
//! Time: a byte moves into the output buffer when the buffer is empty,
//! but not sooner than [`TRANSFER_NS`] after the buffer was last read. A
//! PS/2 byte takes about 1 ms on the wire; the gap is what makes IRQ 1 and
//! IRQ 12 fall and rise again between two bytes, so the PIC sees an edge
//! for each. Everything is computed from `now`; [`I8042::next_event`]
//! says when the next byte arrives.
//!
//! Choices where the reference leaves a gap or QEMU (`hw/input/pckbd.c`)
//! and Bochs (`iodev/keyboard.cc`) differ:
//!
//! * The gap between bytes: 250 µs, Bochs's default serial delay. QEMU
//!   loads the next byte at once and pulses the IRQ within the read.
//! * Order: a controller reply goes first, then keyboard bytes, then mouse
//!   bytes (QEMU). A controller reply not yet read is replaced by a newer
//!   one (QEMU; a real 8042 would wait with IBF set).
//! * While the command byte disables an interface (bit 4 keyboard, bit 5
//!   mouse) that device's bytes wait in its queue (the controller holds
//!   its clock line low); a byte already in the output buffer stays and
//!   still raises its IRQ, which follows only the buffer and the
//!   interrupt bits. QEMU does not hold the devices' bytes back but
//!   withholds IRQ 1 while the keyboard is disabled. A byte written to
//!   the keyboard enables its interface again (Bochs: the controller
//!   releases the clock to send); 0xD4 leaves the mouse's as it is
//!   (Bochs).
//! * Translation (command byte bit 6) applies to every keyboard byte as it
//!   enters the output buffer, replies included; bytes the system writes
//!   with 0xD2 are not translated. A break prefix waits in the keyboard's
//!   queue until its code arrives.
//! * Status: IBF (bit 1) is always 0 (a write is processed at once); the
//!   system flag (bit 2) is set by self-test 0xAA and follows command
//!   byte bit 2 when that is written (Bochs; QEMU sets it only on 0xAA);
//!   bit 3 says whether port 0x64 (1) or 0x60 (0) was written last; bit
//!   4 (keyboard not inhibited) is 1: there is no keylock; timeout and
//!   parity errors (bits 6, 7) cannot happen with these devices.
//! * Controller RAM: 0x20..=0x3F read and 0x60..=0x7F write its 32 bytes,
//!   byte 0 being the command byte (IBM; QEMU has only 0x20/0x60).
//! * Input port (0xC0): 0x80, keyboard not inhibited (QEMU).
//! * Output port: power-on value 0xCF (reset high, A20 on, unused lines
//!   high, as QEMU); bits 4 and 5 read the IRQ 1 and IRQ 12 outputs'
//!   "buffer full" conditions. 0xD1 with bit 0 clear asserts the reset
//!   line; 0xF0..=0xFF pulse the output bits whose command bits 3:0 are 0,
//!   of which only bit 0 (reset) has a lasting effect; a 6 µs pulse of
//!   A20 is not modelled. 0xDD/0xDF switch A20 off/on (HP Vectra
//!   commands QEMU also accepts).
//! * Other controller commands, and data bytes after a command that
//!   takes none, are ignored (QEMU logs them). A command that takes a
//!   data byte is abandoned by a new command.
//! * System reset (RESET#) resets the controller and, as QEMU does, both
//!   devices; nothing is queued (a real keyboard would send 0xAA after its
//!   own power-on test).

mod keyboard;
mod mouse;
mod queue;
mod system_control;
mod translate;

pub use keyboard::KeyboardState;
pub use mouse::MouseState;
pub use queue::{ByteQueue, CAPACITY as QUEUE_CAPACITY};
pub use system_control::{
    ResetControl, ResetControlState, ResetKind, SystemControlA, SystemControlAState, PORT_92,
    PORT_CF9,
};

pub const DATA_PORT: u16 = 0x60;
/// Status on read, command on write.
pub const STATUS_PORT: u16 = 0x64;
/// The minimum time between reading the output buffer and the next byte
/// entering it.
pub const TRANSFER_NS: u64 = 250_000;

// Status register bits.
pub const STATUS_OBF: u8 = 0x01;
pub const STATUS_IBF: u8 = 0x02;
pub const STATUS_SYSTEM: u8 = 0x04;
pub const STATUS_COMMAND: u8 = 0x08;
pub const STATUS_NOT_INHIBITED: u8 = 0x10;
pub const STATUS_AUX_OBF: u8 = 0x20;
pub const STATUS_TIMEOUT: u8 = 0x40;
pub const STATUS_PARITY: u8 = 0x80;

// Command byte bits.
pub const CMD_BYTE_KBD_INT: u8 = 0x01;
pub const CMD_BYTE_AUX_INT: u8 = 0x02;
pub const CMD_BYTE_SYSTEM: u8 = 0x04;
pub const CMD_BYTE_KBD_DISABLE: u8 = 0x10;
pub const CMD_BYTE_AUX_DISABLE: u8 = 0x20;
pub const CMD_BYTE_TRANSLATE: u8 = 0x40;
/// After reset: both interrupts enabled (QEMU).
pub const CMD_BYTE_RESET: u8 = CMD_BYTE_KBD_INT | CMD_BYTE_AUX_INT;

// Output port bits.
pub const OUTPUT_RESET: u8 = 0x01;
pub const OUTPUT_A20: u8 = 0x02;
pub const OUTPUT_KBD_FULL: u8 = 0x10;
pub const OUTPUT_AUX_FULL: u8 = 0x20;
pub const OUTPUT_PORT_RESET: u8 = 0xcf;

/// What the input port reads (0xC0).
pub const INPUT_PORT: u8 = 0x80;
/// The self-test and interface-test results.
pub const SELF_TEST_OK: u8 = 0x55;
pub const INTERFACE_TEST_OK: u8 = 0x00;

/// Which output line a byte in the output buffer raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// IRQ 1: the keyboard or the controller.
    Keyboard,
    /// IRQ 12: the mouse (or 0xD3).
    Aux,
}

/// Everything the controller and its devices hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct I8042State {
    /// The controller's RAM; byte 0 is the command byte.
    pub ram: [u8; 32],
    /// The output buffer (OBF set while it holds a byte).
    pub output: Option<(u8, Source)>,
    /// The last byte the output buffer held: what 0x60 reads when empty.
    pub last_output: u8,
    /// A reply of the controller's own waiting for the output buffer.
    pub reply: Option<(u8, Source)>,
    /// No byte enters the output buffer before this time (ns).
    pub ready_at: u64,
    /// A controller command waiting for its data byte at port 0x60.
    pub pending_command: Option<u8>,
    /// Status bit 3.
    pub last_write_was_command: bool,
    /// Status bit 2.
    pub system_flag: bool,
    /// The output port but bits 4 and 5, which are read from the buffer.
    pub output_port: u8,
    /// The output port's reset line went low (0xD1 or a pulse).
    pub reset_requested: bool,
    pub keyboard: KeyboardState,
    pub mouse: MouseState,
}

#[derive(Debug)]
pub struct I8042 {
    state: I8042State,
}

impl Default for I8042 {
    fn default() -> I8042 {
        I8042::new()
    }
}

/// What enters the output buffer next, and from where.
enum Load {
    Reply(u8, Source),
    /// A (translated) keyboard byte using this many queued bytes.
    Keyboard(u8, usize),
    Aux(u8),
}

impl I8042 {
    /// Power-on at time 0: the reset state.
    pub fn new() -> I8042 {
        I8042 {
            state: I8042::reset_state(0),
        }
    }

    fn reset_state(now: u64) -> I8042State {
        let mut ram = [0; 32];
        ram[0] = CMD_BYTE_RESET;
        I8042State {
            ram,
            output: None,
            last_output: 0,
            reply: None,
            ready_at: now,
            pending_command: None,
            last_write_was_command: true,
            system_flag: false,
            output_port: OUTPUT_PORT_RESET,
            reset_requested: false,
            keyboard: KeyboardState::reset(),
            mouse: MouseState::reset(),
        }
    }

    /// The system reset at `now`: controller and devices to their reset
    /// state, reset line high again, A20 on.
    pub fn reset(&mut self, now: u64) {
        self.state = I8042::reset_state(now);
    }

    /// A byte read from port 0x60 or 0x64 (other ports read 0xFF: not
    /// decoded here).
    pub fn read(&mut self, port: u16, now: u64) -> u8 {
        self.advance(now);
        match port {
            DATA_PORT => {
                let s = &mut self.state;
                if s.output.take().is_some() {
                    s.ready_at = now.saturating_add(TRANSFER_NS);
                }
                s.last_output
            }
            STATUS_PORT => self.status(),
            _ => 0xff,
        }
    }

    /// A byte written to port 0x60 (data) or 0x64 (command); other ports
    /// are ignored.
    pub fn write(&mut self, port: u16, value: u8, now: u64) {
        self.advance(now);
        match port {
            DATA_PORT => {
                self.state.last_write_was_command = false;
                match self.state.pending_command.take() {
                    Some(command) => self.command_data(command, value),
                    None => {
                        // Sending to the keyboard releases its clock line:
                        // the interface is enabled again (Bochs).
                        self.state.ram[0] &= !CMD_BYTE_KBD_DISABLE;
                        self.state.keyboard.write(value);
                    }
                }
            }
            STATUS_PORT => {
                self.state.last_write_was_command = true;
                self.state.pending_command = None;
                self.command(value);
            }
            _ => {}
        }
        self.advance(now);
    }

    fn status(&self) -> u8 {
        let s = &self.state;
        let bit = |on: bool, mask: u8| if on { mask } else { 0 };
        bit(s.output.is_some(), STATUS_OBF)
            | bit(s.system_flag, STATUS_SYSTEM)
            | bit(s.last_write_was_command, STATUS_COMMAND)
            | STATUS_NOT_INHIBITED
            | bit(matches!(s.output, Some((_, Source::Aux))), STATUS_AUX_OBF)
    }

    /// A controller command (a write to port 0x64).
    fn command(&mut self, command: u8) {
        let s = &mut self.state;
        match command {
            0x20..=0x3f => {
                let value = s.ram[usize::from(command & 0x1f)];
                self.reply(value);
            }
            0x60..=0x7f | 0xd1..=0xd4 => s.pending_command = Some(command),
            0xa7 => s.ram[0] |= CMD_BYTE_AUX_DISABLE,
            0xa8 => s.ram[0] &= !CMD_BYTE_AUX_DISABLE,
            0xa9 | 0xab => self.reply(INTERFACE_TEST_OK),
            0xaa => {
                s.system_flag = true;
                self.reply(SELF_TEST_OK);
            }
            0xad => s.ram[0] |= CMD_BYTE_KBD_DISABLE,
            0xae => s.ram[0] &= !CMD_BYTE_KBD_DISABLE,
            0xc0 => self.reply(INPUT_PORT),
            0xd0 => {
                let port = self.output_port();
                self.reply(port);
            }
            0xdd => s.output_port &= !OUTPUT_A20,
            0xdf => s.output_port |= OUTPUT_A20,
            // 0xF0..=0xFF pulse the output bits whose bits 3:0 are 0;
            // only the reset line's pulse lasts (it resets the processor).
            0xf0..=0xff if command & OUTPUT_RESET == 0 => s.reset_requested = true,
            _ => {}
        }
    }

    /// The data byte of `command` (a write to port 0x60 after it).
    fn command_data(&mut self, command: u8, value: u8) {
        let s = &mut self.state;
        match command {
            0x60..=0x7f => {
                s.ram[usize::from(command & 0x1f)] = value;
                if command == 0x60 {
                    s.system_flag = value & CMD_BYTE_SYSTEM != 0;
                }
            }
            0xd1 => {
                s.output_port = value & !(OUTPUT_KBD_FULL | OUTPUT_AUX_FULL);
                if value & OUTPUT_RESET == 0 {
                    s.reset_requested = true;
                }
            }
            0xd2 => s.reply = Some((value, Source::Keyboard)),
            0xd3 => s.reply = Some((value, Source::Aux)),
            // 0xD4
            _ => s.mouse.write(value),
        }
    }

    /// A reply of the controller's, for the keyboard side.
    fn reply(&mut self, value: u8) {
        self.state.reply = Some((value, Source::Keyboard));
    }

    /// The output port as 0xD0 reads it.
    fn output_port(&self) -> u8 {
        let s = &self.state;
        let (kbd, aux) = match s.output {
            Some((_, Source::Keyboard)) => (true, false),
            Some((_, Source::Aux)) => (false, true),
            None => (false, false),
        };
        let bit = |on: bool, mask: u8| if on { mask } else { 0 };
        s.output_port | bit(kbd, OUTPUT_KBD_FULL) | bit(aux, OUTPUT_AUX_FULL)
    }

    /// What would enter the empty output buffer next, if anything.
    fn next_load(&self) -> Option<Load> {
        let s = &self.state;
        if let Some((b, src)) = s.reply {
            return Some(Load::Reply(b, src));
        }
        let command = s.ram[0];
        if command & CMD_BYTE_KBD_DISABLE == 0 {
            let q = &s.keyboard.queue;
            let load = if command & CMD_BYTE_TRANSLATE != 0 {
                translate::translate_front(q.iter())
            } else {
                q.iter().next().map(|b| (b, 1))
            };
            if let Some((b, used)) = load {
                return Some(Load::Keyboard(b, used));
            }
        }
        if command & CMD_BYTE_AUX_DISABLE == 0 {
            if let Some(b) = s.mouse.queue.iter().next() {
                return Some(Load::Aux(b));
            }
        }
        None
    }

    /// The output buffer as it is at `now` (a byte may have arrived since
    /// the last access).
    fn output_at(&self, now: u64) -> Option<(u8, Source)> {
        let s = &self.state;
        if s.output.is_some() || now < s.ready_at {
            return s.output;
        }
        self.next_load().map(|load| match load {
            Load::Reply(b, src) => (b, src),
            Load::Keyboard(b, _) => (b, Source::Keyboard),
            Load::Aux(b) => (b, Source::Aux),
        })
    }

    /// Move the next byte into the output buffer if it has arrived by
    /// `now` (at most one byte arrives between two reads).
    fn advance(&mut self, now: u64) {
        if self.state.output.is_some() || now < self.state.ready_at {
            return;
        }
        let Some(load) = self.next_load() else {
            return;
        };
        let s = &mut self.state;
        let entry = match load {
            Load::Reply(b, src) => {
                s.reply = None;
                (b, src)
            }
            Load::Keyboard(b, used) => {
                for _ in 0..used {
                    s.keyboard.pop();
                }
                (b, Source::Keyboard)
            }
            Load::Aux(b) => {
                s.mouse.pop();
                (b, Source::Aux)
            }
        };
        s.output = Some(entry);
        s.last_output = entry.0;
    }

    /// IRQ 1 at `now`: a keyboard-side byte in the output buffer, with
    /// command byte bit 0 set.
    pub fn irq1(&self, now: u64) -> bool {
        self.state.ram[0] & CMD_BYTE_KBD_INT != 0
            && matches!(self.output_at(now), Some((_, Source::Keyboard)))
    }

    /// IRQ 12 at `now`: a mouse byte in the output buffer, with command
    /// byte bit 1 set.
    pub fn irq12(&self, now: u64) -> bool {
        self.state.ram[0] & CMD_BYTE_AUX_INT != 0
            && matches!(self.output_at(now), Some((_, Source::Aux)))
    }

    /// The first time after `now` at which a byte enters the output
    /// buffer on its own (raising OBF and perhaps an IRQ), if any.
    pub fn next_event(&self, now: u64) -> Option<u64> {
        let s = &self.state;
        (s.output.is_none() && s.ready_at > now && self.next_load().is_some()).then_some(s.ready_at)
    }

    /// The A20 gate (output port bit 1).
    pub fn a20(&self) -> bool {
        self.state.output_port & OUTPUT_A20 != 0
    }

    /// Has the guest pulled the processor's reset line (output port bit 0
    /// low, by 0xD1 or a pulse command such as 0xFE)? It stays set until
    /// [`I8042::reset`], which the machine does as part of the system
    /// reset it answers with.
    pub fn reset_requested(&self) -> bool {
        self.state.reset_requested
    }

    /// Host input: one key event as set 2 bytes at `now`. Returns whether
    /// the keyboard took it (not while its scanning is disabled or its
    /// queue is too full).
    pub fn push_key_scancode(&mut self, set2: &[u8], now: u64) -> bool {
        self.advance(now);
        let taken = self.state.keyboard.push_scancode(set2);
        self.advance(now);
        taken
    }

    /// Host input: mouse movement and buttons at `now` (see
    /// [`MouseState::push_movement`]).
    pub fn push_mouse_movement(&mut self, dx: i32, dy: i32, dz: i32, buttons: u8, now: u64) {
        self.advance(now);
        self.state.mouse.push_movement(dx, dy, dz, buttons);
        self.advance(now);
    }

    pub fn state(&self) -> I8042State {
        self.state.clone()
    }

    /// Resume from `s`. Values no controller can hold are brought into
    /// range: a pending command that takes no data byte is dropped, the
    /// output port's buffer bits are not stored, and the devices' values
    /// go to their defaults where out of range.
    pub fn restore(&mut self, s: &I8042State) {
        self.state = s.clone();
        let st = &mut self.state;
        if !matches!(st.pending_command, Some(0x60..=0x7f | 0xd1..=0xd4)) {
            st.pending_command = None;
        }
        st.output_port &= !(OUTPUT_KBD_FULL | OUTPUT_AUX_FULL);
        st.keyboard.sanitize();
        st.mouse.sanitize();
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_devices;
#[cfg(test)]
mod tests_random;
#[cfg(test)]
mod tests_system;
