//! machine: the PC platform around a `cpu_model::Cpu`.
//!
//! * [`memory`]: the physical address space (RAM in one anonymous mapping,
//!   the BIOS ROM at the top of 4 GiB and aliased below 1 MiB);
//! * [`pio`]: the port I/O bus with its [`pio::PortDevice`] trait;
//! * [`mmio`]: memory-mapped device ranges ([`mmio::MmioDevice`]), which
//!   win over RAM and ROM;
//! * [`devices`]: debug console (0xE9), debug exit (0xF4), POST codes
//!   (0x80, 0x190);
//! * [`engine`]: the interpreter and the translator behind one
//!   [`engine::ExecutionEngine`] interface;
//! * [`Machine`]: wires them to a CPU and owns the run loop, which ends with
//!   a [`RunExit`] value.

pub mod acpi;
pub mod chipset;
pub mod clock;
pub mod devices;
pub mod direct_boot;
pub mod engine;
pub mod memory;
pub mod mmio;
pub mod pio;

#[cfg(test)]
pub(crate) mod testutil;

pub use memory::{parse_size, Bios, MemoryError, MemorySize, PhysMemory};
pub use mmio::{MmioBus, MmioDevice, MmioError};
pub use pio::{PioError, PortBus, PortDevice};

use cpu_model::{Bus, Cpu, CpuModel, PhysAddr, StopReason};
use devices::{DebugCon, DebugExit, ExitSignal, PostCodes, PostLog};
use engine::{ExecutionEngine, Interpreter, SliceEnd, Translator};
use std::fmt;
use std::io::Write;
use thiserror::Error;
use translator::{Jit, JitConfig};

#[derive(Debug, Error)]
pub enum MachineError {
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error(transparent)]
    Pio(#[from] PioError),
    #[error(transparent)]
    Mmio(#[from] MmioError),
    #[error(transparent)]
    Chipset(#[from] chipset::ChipsetError),
    #[error("cannot set up the translator's code cache: {0}")]
    Jit(std::io::Error),
}

/// Steps an engine runs between the machine's checks (the run limit, the
/// debug-exit latch).
const SLICE: u64 = 1 << 20;

/// Device events a halted processor may wait through, one after the
/// other, without taking an interrupt, before the run ends as halted.
const MAX_IDLE_EVENTS: u64 = 1 << 20;

/// How guest code is executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// The reference interpreter (`cpu_model::Cpu::step`).
    Interp,
    /// The dynamic binary translator (`translator::Jit`).
    #[default]
    Jit,
}

/// Why [`Machine::run`] returned. Plain values: the caller decides what
/// they mean for the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunExit {
    /// The guest wrote this value to the debug-exit port.
    DebugExit(u32),
    /// HLT with nothing that can wake the processor: IF = 0 with no NMI
    /// source, or IF = 1 with no interrupt that can come (the PIT's IRQ 0
    /// masked at the PIC, or not taken through many of its events).
    Halted,
    /// A fault while delivering #DF: the processor shut down.
    TripleFault,
    /// The guest used an architectural feature xlat does not model.
    Unsupported(&'static str),
    /// The step limit given to `run` was reached.
    InstructionLimit,
    /// The guest asked for a system reset (the 8042's reset line, port
    /// 0x92 or 0xCF9); xlat stops instead of rebooting (as QEMU with
    /// `-no-reboot`).
    Reset,
    /// The guest powered the machine off (ACPI PM1_CNT.SLP_EN, \_S5).
    PowerOff,
}

impl fmt::Display for RunExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunExit::DebugExit(v) => write!(
                f,
                "debug-exit value {v:#x} ({})",
                devices::debug_exit::status_note(*v)
            ),
            RunExit::Halted => f.write_str("halted with nothing to wake the processor"),
            RunExit::TripleFault => f.write_str("triple fault (shutdown)"),
            RunExit::Unsupported(why) => write!(f, "unsupported: {why}"),
            RunExit::InstructionLimit => f.write_str("instruction limit reached"),
            RunExit::Reset => {
                f.write_str("the guest asked for a system reset (xlat does not reboot)")
            }
            RunExit::PowerOff => f.write_str("the guest powered the machine off"),
        }
    }
}

/// The platform as the CPU sees it: physical memory, MMIO and port I/O.
#[derive(Debug)]
pub struct SystemBus {
    pub memory: PhysMemory,
    /// Device ranges, decoded before memory.
    pub mmio: MmioBus,
    pub ports: PortBus,
    /// The debug-exit latch, so engines can stop right after the write.
    exit: ExitSignal,
    /// The virtual clock the devices read.
    pub clock: clock::Clock,
    /// The PIT and the PIC, wired to INTR.
    pub chipset: chipset::Chipset,
}

impl Bus for SystemBus {
    fn read_phys(&mut self, addr: PhysAddr, buf: &mut [u8]) {
        let mut done = 0usize;
        while done < buf.len() {
            let a = addr.0.wrapping_add(done as u64);
            let rest = &mut buf[done..];
            let n = match self.mmio.claim(a) {
                mmio::Claim::Device {
                    device,
                    offset,
                    len,
                } => {
                    let n = clamp(len, rest.len());
                    device.read(offset, &mut rest[..n]);
                    n
                }
                mmio::Claim::Memory { len } => {
                    let n = clamp(len, rest.len());
                    self.memory.read(a, &mut rest[..n]);
                    n
                }
            };
            done += n;
        }
    }
    fn write_phys(&mut self, addr: PhysAddr, data: &[u8]) {
        let mut done = 0usize;
        while done < data.len() {
            let a = addr.0.wrapping_add(done as u64);
            let rest = &data[done..];
            let n = match self.mmio.claim(a) {
                mmio::Claim::Device {
                    device,
                    offset,
                    len,
                } => {
                    let n = clamp(len, rest.len());
                    device.write(offset, &rest[..n]);
                    n
                }
                mmio::Claim::Memory { len } => {
                    let n = clamp(len, rest.len());
                    self.memory.write(a, &rest[..n]);
                    n
                }
            };
            done += n;
        }
    }
    fn io_in(&mut self, port: u16, size: u32) -> u32 {
        self.ports.read(port, size)
    }
    fn io_out(&mut self, port: u16, size: u32, value: u32) {
        self.ports.write(port, size, value);
    }
    fn stop_requested(&self) -> bool {
        // (Also when the guest reprogrammed the timer or the interrupt
        // controller: the machine schedules the next event again.)
        self.exit.peek().is_some() || self.chipset.reschedule_requested()
    }
    fn interrupt_pending(&self) -> bool {
        self.chipset.intr()
    }
    fn acknowledge_interrupt(&mut self) -> Option<u8> {
        Some(self.chipset.acknowledge())
    }
    fn set_instruction_count(&mut self, icount: u64) {
        self.clock.set_instruction_count(icount);
    }
    fn set_ferr(&mut self, asserted: bool) {
        self.chipset.set_ferr(asserted);
    }
    fn apic_base(&mut self) -> Option<u64> {
        Some(self.chipset.apic_base())
    }
    fn set_apic_base(&mut self, value: u64) -> Option<bool> {
        Some(self.chipset.set_apic_base(value, &mut self.mmio))
    }
    fn cr8(&mut self) -> Option<u64> {
        Some(self.chipset.cr8())
    }
    fn set_cr8(&mut self, value: u64) -> bool {
        self.chipset.set_cr8(value);
        true
    }
    fn ignne(&self) -> bool {
        self.chipset.ignne()
    }
    fn host_page(&mut self, page: PhysAddr, write: bool) -> Option<std::ptr::NonNull<u8>> {
        // A page any device range touches is never direct: every access
        // to it must reach the device.
        if self.mmio.claims_any(page.0, page.0.saturating_add(0x1000)) {
            return None;
        }
        self.memory.host_page(page.0, write)
    }
}

/// `len` bytes, but at most `max`.
fn clamp(len: u64, max: usize) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX).min(max)
}

/// What to build.
pub struct MachineConfig {
    pub memory: MemorySize,
    pub bios: Bios,
    /// Where debug-console (port 0xE9) output goes.
    pub debugcon: Box<dyn Write + Send>,
    /// Where POST-code lines go; `None` drops them.
    pub post_log: Option<Box<dyn Write + Send>>,
    pub engine: Engine,
    /// Capacity of the translation cache in bytes of host code (the JIT
    /// evicts least recently used blocks beyond it).
    pub tcache_bytes: usize,
    /// The processor's CPU model (CPUID and which instructions exist).
    pub cpu: &'static CpuModel,
    /// Where COM1's output goes (COM2's is dropped).
    pub serial: Box<dyn Write + Send>,
    /// The RTC's wall-clock time at virtual time 0, Unix seconds.
    pub rtc_base: i64,
    /// Time follows the host's clock instead of the instruction count
    /// (`clock::Clock::host`).
    pub host_clock: bool,
    /// Bytes for COM1 from the host (e.g. a thread reading stdin); the
    /// channel's closing is the input's end.
    pub serial_input: Option<std::sync::mpsc::Receiver<Vec<u8>>>,
}

impl fmt::Debug for MachineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MachineConfig")
            .field("memory", &self.memory)
            .field("bios", &self.bios)
            .field("post_log", &self.post_log.is_some())
            .field("engine", &self.engine)
            .field("tcache_bytes", &self.tcache_bytes)
            .field("cpu", &self.cpu.name)
            .field("rtc_base", &self.rtc_base)
            .field("host_clock", &self.host_clock)
            .field("serial_input", &self.serial_input.is_some())
            .finish()
    }
}

impl MachineConfig {
    /// Default memory and engine, debug console and COM1 to stdout, no
    /// POST log, the RTC at `DEFAULT_RTC_BASE`.
    pub fn new(bios: Bios) -> MachineConfig {
        MachineConfig {
            memory: MemorySize::DEFAULT,
            bios,
            debugcon: Box::new(std::io::stdout()),
            post_log: None,
            engine: Engine::Interp,
            tcache_bytes: DEFAULT_TCACHE_BYTES,
            cpu: &cpu_model::model::XLAT,
            serial: Box::new(std::io::stdout()),
            rtc_base: DEFAULT_RTC_BASE,
            host_clock: false,
            serial_input: None,
        }
    }
}

/// The RTC's default start, 2026-01-01 00:00:00 UTC: a fixed date, so a
/// run under the virtual clock reads the same time every time.
pub const DEFAULT_RTC_BASE: i64 = 1_767_225_600;

/// The translation cache capacity `MachineConfig::new` and `xlat run` use.
pub const DEFAULT_TCACHE_BYTES: usize = 32 << 20;

/// A PC: one CPU, memory, port devices.
#[derive(Debug)]
pub struct Machine {
    pub cpu: Cpu,
    pub bus: SystemBus,
    engine: Engine,
    /// What runs the guest: `engine`'s implementation.
    runner: Box<dyn ExecutionEngine>,
    exit: ExitSignal,
    /// Steps taken by every `run` so far (instructions executed or faulted,
    /// events delivered).
    steps: u64,
    /// Host input for COM1.
    input: Option<SerialInput>,
}

/// Host bytes on their way to COM1: taken from the channel as the UART's
/// receiver has room (at most `INPUT_BUFFER` held here, so a guest that
/// never reads cannot make the host buffer without bound; the channel
/// is bounded by its sender).
#[derive(Debug)]
struct SerialInput {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    held: std::collections::VecDeque<u8>,
    closed: bool,
}

/// Host input bytes held for COM1 at most.
const INPUT_BUFFER: usize = 1 << 16;

/// Steps in a slice under the host clock, at most: device events are
/// seen at slice ends, so this bounds their lateness (about a
/// millisecond at the translator's speed).
const HOST_SLICE: u64 = 200_000;

impl Machine {
    pub fn new(config: MachineConfig) -> Result<Machine, MachineError> {
        let memory = PhysMemory::new(config.memory, config.bios)?;
        let exit = ExitSignal::new();
        let mut ports = PortBus::new();
        ports.insert(
            devices::debugcon::PORT,
            1,
            Box::new(DebugCon::new(config.debugcon)),
        )?;
        ports.insert(
            devices::debug_exit::PORT,
            devices::debug_exit::LEN,
            Box::new(DebugExit::new(exit.clone())),
        )?;
        let clock = if config.host_clock {
            clock::Clock::host()
        } else {
            clock::Clock::new()
        };
        let cmos = devices::cmos_image(&devices::CmosConfig {
            ram_below_4g: config.memory.bytes(),
            ram_above_4g: 0,
            cpus: 1,
            boot_order: vec![devices::BootDevice::HardDisk],
        });
        let mut mmio = MmioBus::new();
        let chipset = chipset::Chipset::new(
            clock.clone(),
            &mut ports,
            &mut mmio,
            chipset::ChipsetConfig {
                rtc_base: config.rtc_base,
                cmos,
                com: [config.serial, Box::new(std::io::sink())],
            },
        )?;
        let log = PostLog::new(config.post_log);
        for port in devices::post::PORTS {
            ports.insert(port, 1, Box::new(PostCodes::new(port, log.clone())))?;
        }
        let runner: Box<dyn ExecutionEngine> = match config.engine {
            Engine::Interp => Box::new(Interpreter),
            Engine::Jit => Box::new(Translator(
                Jit::new(JitConfig {
                    cache_bytes: config.tcache_bytes,
                    ..JitConfig::default()
                })
                .map_err(MachineError::Jit)?,
            )),
        };
        Ok(Machine {
            cpu: Cpu::with_model(config.cpu),
            runner,
            bus: SystemBus {
                memory,
                mmio,
                ports,
                exit: exit.clone(),
                clock,
                chipset,
            },
            engine: config.engine,
            exit,
            steps: 0,
            input: config.serial_input.map(|rx| SerialInput {
                rx,
                held: std::collections::VecDeque::new(),
                closed: false,
            }),
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The translator's counters, when it is the engine.
    pub fn jit_stats(&self) -> Option<translator::JitStats> {
        self.runner.jit_stats()
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Can anything end a halt now? An NMI that is pending, or with IF = 1
    /// an interrupt request.
    fn can_wake(&self) -> bool {
        let ev = &self.cpu.state.events;
        (ev.nmi_pending && !ev.nmi_blocked)
            || (self.cpu.state.rflags & cpu_model::flags::IF != 0 && self.bus.interrupt_pending())
    }

    /// Move host input into COM1 as far as its receiver takes it.
    fn feed_serial(&mut self) {
        let Some(input) = self.input.as_mut() else {
            return;
        };
        while input.held.len() < INPUT_BUFFER {
            match input.rx.try_recv() {
                Ok(bytes) => input.held.extend(bytes),
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    input.closed = true;
                    break;
                }
            }
        }
        let (a, _) = input.held.as_slices();
        if !a.is_empty() {
            let n = self.bus.chipset.serial_input(0, a);
            input.held.drain(..n);
        }
    }

    /// Halted with nothing to wake the processor now: wait for the next
    /// device event that may (IF = 1 and a timed source unmasked) or for
    /// host input. The virtual clock skips ahead to the event (advancing
    /// the TSC alike) unless host input could come first; the host clock
    /// really waits. False if nothing can come.
    fn wait_for_event(&mut self) -> bool {
        // The guest is idle: what it wrote to its serial ports without a
        // newline yet (a shell's prompt) is shown now. (An output error
        // is kept by the port and reported at the end.)
        let _ = self.bus.chipset.flush();
        let if_set = self.cpu.state.rflags & cpu_model::flags::IF != 0;
        let event = (if_set && self.bus.chipset.timer_can_interrupt())
            .then(|| self.bus.chipset.next_event())
            .flatten();
        let input_open = if_set
            && self.input.as_ref().is_some_and(|i| !i.closed)
            && self.bus.chipset.serial_can_interrupt();
        if self.bus.clock.is_host() {
            let now = self.bus.clock.now_ns();
            let wait = event.map(|t| std::time::Duration::from_nanos(t.saturating_sub(now)));
            match (wait, input_open) {
                (None, false) => return false,
                (Some(d), false) => std::thread::sleep(d),
                (wait, true) => self.wait_for_input(wait),
            }
            self.bus.chipset.update();
            return true;
        }
        match (event, input_open) {
            (Some(t), _) => {
                let d = self.bus.clock.skip_to(t);
                let tsc = &mut self.cpu.state.msr.tsc_offset;
                *tsc = tsc.wrapping_add(d);
            }
            // Nothing in virtual time: only the host can wake the guest.
            (None, true) => self.wait_for_input(None),
            (None, false) => return false,
        }
        self.bus.chipset.update();
        true
    }

    /// Block until host input arrives (or `timeout` passes, or the input
    /// ends), and hold it for COM1.
    fn wait_for_input(&mut self, timeout: Option<std::time::Duration>) {
        let Some(input) = self.input.as_mut() else {
            return;
        };
        let got = match timeout {
            Some(t) => input
                .rx
                .recv_timeout(t)
                .map_err(|e| matches!(e, std::sync::mpsc::RecvTimeoutError::Disconnected)),
            None => input.rx.recv().map_err(|_| true),
        };
        match got {
            Ok(bytes) => input.held.extend(bytes),
            Err(closed) => input.closed |= closed,
        }
        self.feed_serial();
    }

    /// The clock at the processor's count, the interrupt lines at that
    /// time; the steps until the next device event (at least 1).
    fn schedule(&mut self) -> u64 {
        self.bus.clock.set_instruction_count(self.cpu.state.icount);
        if self.bus.clock.is_host() {
            // The TSC follows the host clock too, never going back.
            let s = &mut self.cpu.state;
            let now = self.bus.clock.now_ns().max(s.tsc());
            s.msr.tsc_offset = now.wrapping_sub(s.icount);
        }
        self.feed_serial();
        self.bus.chipset.take_reschedule();
        self.bus.chipset.update();
        // One instruction is one nanosecond, and a step retires at most
        // one: a slice of this many steps cannot pass the event (it may
        // end before it, when steps do not retire; the next one goes on).
        // Under the host clock steps take longer than that: the slice is
        // also cut to `HOST_SLICE`.
        let until = self.bus.chipset.next_event().map_or(u64::MAX, |t| {
            t.saturating_sub(self.bus.clock.now_ns()).max(1)
        });
        if self.bus.clock.is_host() {
            until.min(HOST_SLICE)
        } else {
            until
        }
    }

    /// Run until an exit, or until `limit` steps (instructions executed or
    /// faulted, events delivered) have been taken in this call. A step that
    /// delivers an exception counts, so an endless exception loop also ends.
    pub fn run(&mut self, limit: Option<u64>) -> RunExit {
        let mut taken = 0u64;
        // Device events waited for in a row without a step.
        let mut idle_events = 0u64;
        loop {
            if limit.is_some_and(|l| taken >= l) {
                return RunExit::InstructionLimit;
            }
            let until_event = self.schedule();
            let budget = limit
                .map_or(SLICE, |l| (l - taken).min(SLICE))
                .min(until_event);
            let slice = self.runner.run(&mut self.cpu, &mut self.bus, budget);
            taken += slice.steps;
            self.steps += slice.steps;
            if let Some(v) = self.exit.take() {
                return RunExit::DebugExit(v);
            }
            if self.bus.chipset.reset_requested() {
                return RunExit::Reset;
            }
            if self.bus.chipset.poweroff_requested() {
                return RunExit::PowerOff;
            }
            if self.bus.clock.is_host() {
                // Host time went on during the slice: events that came
                // due meanwhile are taken now.
                self.bus.clock.set_instruction_count(self.cpu.state.icount);
                self.bus.chipset.update();
            }
            match slice.end {
                SliceEnd::Budget => {}
                SliceEnd::Halted => {
                    // A processor that takes no interrupt through many
                    // timer events (IRQ 0 in service and never
                    // acknowledged, say) will never run again: report it
                    // as halted rather than wait forever.
                    idle_events = if slice.steps == 0 { idle_events + 1 } else { 0 };
                    if idle_events > MAX_IDLE_EVENTS || (!self.can_wake() && !self.wait_for_event())
                    {
                        return RunExit::Halted;
                    }
                    // Something should wake the CPU on the next step; count
                    // the wait so a source that never delivers cannot hang
                    // a bounded run.
                    taken += 1;
                }
                SliceEnd::Stopped(StopReason::TripleFault) => return RunExit::TripleFault,
                SliceEnd::Stopped(StopReason::Unsupported(why)) => {
                    return RunExit::Unsupported(why)
                }
            }
        }
    }

    /// Flush device output (debug console, POST log).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.bus.ports.flush()
    }

    /// Where the processor is: `rip=… cs:ip=…:… mode=… cpl=… if=…`.
    pub fn cpu_summary(&self) -> String {
        let s = &self.cpu.state;
        let mode = s.mode();
        let ip = match mode.bitness() {
            16 => s.rip & 0xffff,
            32 => s.rip & 0xffff_ffff,
            _ => s.rip,
        };
        format!(
            "rip={:#x} cs:ip={:04x}:{:x} mode={} cpl={} if={}",
            s.rip,
            s.cs().selector,
            ip,
            mode.name(),
            s.cpl(),
            u8::from(s.rflags & cpu_model::flags::IF != 0)
        )
    }
}

#[cfg(test)]
mod tests;
