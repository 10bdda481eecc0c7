//! The 8254 programmable interval timer of the PC (Intel 8254 datasheet,
//! order 231164: "Programming the 8254", "Read Operations", "Modes") at ports
//! 0x40..=0x43, and the timer bits of port 0x61 (IBM PC/AT technical
//! reference, "System Timers" and port B).
//!
//! The three counters run from a 1 193 182 Hz clock (QEMU's `PIT_FREQ`), on
//! the machine's virtual time given by the caller as `now` in nanoseconds.
//! CLK edge `k` happens at `ceil(k * 1e9 / PIT_HZ)` ns, so by `now` edges
//! `1..=floor(now * PIT_HZ / 1e9)` have happened; both are exact integer
//! arithmetic on absolute time, so nothing drifts and runs are repeatable.
//!
//! PC wiring: counter 0's OUT is IRQ 0, counter 1 (DRAM refresh) is
//! unconnected here, counter 2's GATE is port 0x61 bit 0 and its OUT is read
//! in port 0x61 bit 5. The GATEs of counters 0 and 1 are tied high.
//!
//! Port 0x61 (read): bits 3:0 as written (bit 0 GATE 2, bit 1 speaker data
//! enable, bits 2 and 3 the parity and channel check enables), bit 4 the
//! refresh-request toggle, which flips every 18 clocks (15.0857 µs, counter 1
//! as every PC BIOS programs it), bit 5 OUT 2, bits 7:6 (parity and channel
//! check errors) 0. A write keeps bits 3:0.

mod counter;
#[cfg(test)]
mod tests;

pub use counter::{ChannelState, LatchedCount, Phase};

/// The PIT's input clock in Hz.
pub const PIT_HZ: u64 = 1_193_182;
/// The PIT's ports: counters 0..=2 and the control word.
pub const PORT_BASE: u16 = 0x40;
/// PC port B (system control port B), shared with the speaker and NMI logic.
pub const PORT_61: u16 = 0x61;
/// PIT clocks per flip of the refresh-request bit (port 0x61 bit 4).
pub const REFRESH_CLOCKS: u64 = 18;

const NS_PER_S: u128 = 1_000_000_000;

/// The number of CLK edges by time `now` (ns).
pub fn clocks_at(now: u64) -> u64 {
    (u128::from(now) * u128::from(PIT_HZ) / NS_PER_S) as u64
}

/// The time (ns) of CLK edge `k`: the first `now` with `clocks_at(now) >= k`,
/// or None past the end of a u64 clock.
pub fn clock_time(k: u64) -> Option<u64> {
    u64::try_from((u128::from(k) * NS_PER_S).div_ceil(u128::from(PIT_HZ))).ok()
}

/// Everything the PIT holds; enough to resume it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PitState {
    pub channels: [ChannelState; 3],
    /// Port 0x61 bits 3:0 as last written.
    pub port61: u8,
}

#[derive(Debug)]
pub struct Pit {
    state: PitState,
}

impl Default for Pit {
    fn default() -> Pit {
        Pit::new()
    }
}

impl Pit {
    /// The power-on state, at time 0.
    pub fn new() -> Pit {
        Pit {
            state: Pit::reset_state(0),
        }
    }

    fn reset_state(now: u64) -> PitState {
        let at = clocks_at(now);
        PitState {
            channels: [
                ChannelState::reset(at, true),
                ChannelState::reset(at, true),
                ChannelState::reset(at, false),
            ],
            port61: 0,
        }
    }

    /// A machine reset at `now`: every counter in mode 3 with a count of
    /// 65536 starting on the next clock (as QEMU), GATE 2 low, port 0x61 0.
    pub fn reset(&mut self, now: u64) {
        self.state = Pit::reset_state(now);
    }

    /// Channel `i`, brought up to `now`.
    fn channel_at(&mut self, i: usize, now: u64) -> &mut ChannelState {
        let c = &mut self.state.channels[i];
        c.advance(clocks_at(now));
        c
    }

    pub fn read(&mut self, port: u16, now: u64) -> u8 {
        match port {
            0x40..=0x42 => self
                .channel_at(usize::from(port - PORT_BASE), now)
                .read_byte(),
            // The control word register cannot be read; QEMU returns 0 and
            // MAME measured 0 on a chip.
            0x43 => 0,
            PORT_61 => {
                let refresh = (clocks_at(now) / REFRESH_CLOCKS) & 1 != 0;
                self.state.port61 & 0x0f | u8::from(refresh) << 4 | u8::from(self.out(2, now)) << 5
            }
            _ => 0xff,
        }
    }

    pub fn write(&mut self, port: u16, value: u8, now: u64) {
        match port {
            0x40..=0x42 => self
                .channel_at(usize::from(port - PORT_BASE), now)
                .write_count_byte(value),
            0x43 => self.write_control(value, now),
            PORT_61 => {
                self.state.port61 = value & 0x0f;
                self.channel_at(2, now).set_gate(value & 1 != 0);
            }
            _ => {}
        }
    }

    /// A control word: counter select in bits 7:6 (3 is the read-back
    /// command), RW in 5:4 (0 is the counter latch command), mode in 3:1,
    /// BCD in 0.
    fn write_control(&mut self, value: u8, now: u64) {
        let select = usize::from(value >> 6);
        if select == 3 {
            // Read-back: bit 5 low latches the counts, bit 4 low the
            // statuses, of the counters whose bits 3:1 are set.
            for i in 0..3 {
                if value & (2 << i) == 0 {
                    continue;
                }
                let c = self.channel_at(i, now);
                if value & 0x20 == 0 {
                    c.latch_count();
                }
                if value & 0x10 == 0 {
                    c.latch_status();
                }
            }
            return;
        }
        let c = self.channel_at(select, now);
        if value & 0x30 == 0 {
            c.latch_count();
        } else {
            c.program(value);
        }
    }

    /// The OUT pin of counter `channel` (0..=2; no other counter exists, and
    /// its OUT reads low) at `now` (an earlier `now` than the last access
    /// sees the state of that access).
    pub fn out(&self, channel: usize, now: u64) -> bool {
        self.state.channels.get(channel).is_some_and(|c| {
            let mut c = c.clone();
            c.advance(clocks_at(now));
            c.out
        })
    }

    /// The first time after `now` at which channel 0's OUT changes, None if
    /// it never will without a new write.
    pub fn next_out0_change(&self, now: u64) -> Option<u64> {
        let mut c = self.state.channels[0].clone();
        let at = clocks_at(now).max(c.at);
        c.advance(at);
        let edges = c.edges_to_out_change()?;
        clock_time(at.checked_add(edges)?)
    }

    pub fn state(&self) -> PitState {
        self.state.clone()
    }

    /// Resume from `s`. A state no PIT can be in (a damaged snapshot) is
    /// made consistent rather than trusted: a counter with an impossible
    /// phase stops, as after a control word.
    pub fn restore(&mut self, s: &PitState) {
        self.state = s.clone();
        self.state.port61 &= 0x0f;
        for c in &mut self.state.channels {
            c.sanitize();
        }
    }
}

/// The PIT on the port bus: one adapter for ports 0x40..=0x43 and one for
/// port 0x61, both over the same shared [`Pit`], at the time of the
/// machine's [`Clock`](crate::clock::Clock). A wider access is split into
/// byte accesses of consecutive ports, as the ISA bus splits it for an
/// 8-bit device; bytes beyond the adapter's range read as all-ones.
#[derive(Debug)]
pub struct PitPorts {
    pit: std::sync::Arc<std::sync::Mutex<Pit>>,
    clock: crate::clock::Clock,
    base: u16,
    len: u16,
}

impl PitPorts {
    /// The counters and control word (0x40..=0x43).
    pub fn counters(
        pit: std::sync::Arc<std::sync::Mutex<Pit>>,
        clock: crate::clock::Clock,
    ) -> PitPorts {
        PitPorts {
            pit,
            clock,
            base: PORT_BASE,
            len: 4,
        }
    }

    /// Port B (0x61).
    pub fn port_b(
        pit: std::sync::Arc<std::sync::Mutex<Pit>>,
        clock: crate::clock::Clock,
    ) -> PitPorts {
        PitPorts {
            pit,
            clock,
            base: PORT_61,
            len: 1,
        }
    }

    fn with_pit<R>(&self, f: impl FnOnce(&mut Pit, u64) -> R) -> R {
        // (No device code panics while holding the lock; a poisoned lock
        // still holds a consistent PIT.)
        let mut pit = self.pit.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut pit, self.clock.now_ns())
    }
}

impl crate::pio::PortDevice for PitPorts {
    fn name(&self) -> &str {
        if self.base == PORT_61 {
            "port-b"
        } else {
            "pit"
        }
    }

    fn read(&mut self, offset: u16, size: u32) -> u32 {
        let (base, len) = (self.base, self.len);
        self.with_pit(|pit, now| {
            crate::pio::read_bytes(offset, size, len, |o| pit.read(base + o, now))
        })
    }

    fn write(&mut self, offset: u16, size: u32, value: u32) {
        let (base, len) = (self.base, self.len);
        self.with_pit(|pit, now| {
            crate::pio::write_bytes(offset, size, len, value, |o, b| pit.write(base + o, b, now))
        });
    }
}
