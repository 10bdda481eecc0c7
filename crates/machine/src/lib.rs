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
}

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
        let clock = clock::Clock::new();
        let cmos = devices::cmos_image(&devices::CmosConfig {
            ram_below_4g: config.memory.bytes(),
            ram_above_4g: 0,
            cpus: 1,
            boot_order: vec![devices::BootDevice::HardDisk],
        });
        let chipset = chipset::Chipset::new(
            clock.clone(),
            &mut ports,
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
                mmio: MmioBus::new(),
                ports,
                exit: exit.clone(),
                clock,
                chipset,
            },
            engine: config.engine,
            exit,
            steps: 0,
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

    /// Halted with nothing to wake the processor now: skip the clock to
    /// the next device event that may (IF = 1 and the timer unmasked),
    /// advancing the TSC alike; false if there is none.
    fn wait_for_event(&mut self) -> bool {
        if self.cpu.state.rflags & cpu_model::flags::IF == 0
            || !self.bus.chipset.timer_can_interrupt()
        {
            return false;
        }
        let Some(t) = self.bus.chipset.next_event() else {
            return false;
        };
        let d = self.bus.clock.skip_to(t);
        let tsc = &mut self.cpu.state.msr.tsc_offset;
        *tsc = tsc.wrapping_add(d);
        self.bus.chipset.update();
        true
    }

    /// The clock at the processor's count, the interrupt lines at that
    /// time; the steps until the next device event (at least 1).
    fn schedule(&mut self) -> u64 {
        self.bus.clock.set_instruction_count(self.cpu.state.icount);
        self.bus.chipset.take_reschedule();
        self.bus.chipset.update();
        // One instruction is one nanosecond, and a step retires at most
        // one: a slice of this many steps cannot pass the event (it may
        // end before it, when steps do not retire; the next one goes on).
        self.bus.chipset.next_event().map_or(u64::MAX, |t| {
            t.saturating_sub(self.bus.clock.now_ns()).max(1)
        })
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
mod tests {
    use super::*;
    use crate::testutil::SharedBuf;

    /// A 64 KiB BIOS whose reset vector (offset 0xFFF0) holds `code`.
    fn bios_with(code: &[u8]) -> Bios {
        let mut img = vec![0xf4u8; 64 << 10]; // HLT everywhere else
        img[0xfff0..0xfff0 + code.len()].copy_from_slice(code);
        Bios::from_bytes("test", &img).unwrap()
    }

    /// COM1 and the RTC on their ports under both engines: register A
    /// of the RTC (0x26 from the CMOS image) and a byte, written to COM1
    /// without programming the UART, reach its sink whole.
    #[test]
    fn com1_and_rtc_answer_on_their_ports() {
        let code = [
            0xb0, 0x0a, // mov al, 0x0a
            0xe6, 0x70, // out 0x70, al
            0xe4, 0x71, // in al, 0x71
            0xba, 0xf8, 0x03, // mov dx, 0x3f8
            0xee, // out dx, al
            0xb0, b'k', // mov al, 'k'
            0xee, // out dx, al
            0xf4, // hlt
        ];
        for engine in [Engine::Interp, Engine::Jit] {
            let serial = SharedBuf::default();
            let mut m = Machine::new(MachineConfig {
                memory: MemorySize::new(1 << 20).unwrap(),
                bios: bios_with(&code),
                debugcon: Box::new(std::io::sink()),
                post_log: None,
                engine,
                tcache_bytes: 1 << 20,
                cpu: &cpu_model::model::XLAT,
                serial: Box::new(serial.clone()),
                rtc_base: DEFAULT_RTC_BASE,
            })
            .unwrap();
            assert_eq!(m.run(Some(100)), RunExit::Halted);
            m.flush().unwrap();
            assert_eq!(serial.contents(), [0x26, b'k'], "{engine:?}");
        }
    }

    fn machine(code: &[u8]) -> (Machine, SharedBuf, SharedBuf) {
        let con = SharedBuf::default();
        let post = SharedBuf::default();
        let m = Machine::new(MachineConfig {
            memory: MemorySize::new(1 << 20).unwrap(),
            bios: bios_with(code),
            debugcon: Box::new(con.clone()),
            post_log: Some(Box::new(post.clone())),
            engine: Engine::Interp,
            tcache_bytes: 1 << 20,
            cpu: &cpu_model::model::XLAT,
            serial: Box::new(std::io::sink()),
            rtc_base: DEFAULT_RTC_BASE,
        })
        .unwrap();
        (m, con, post)
    }

    #[test]
    fn reset_vector_fetches_from_top_of_4g() {
        let (mut m, _, _) = machine(&[0xaa, 0xbb]);
        let mut b = [0u8; 2];
        m.bus.read_phys(PhysAddr(0xffff_fff0), &mut b);
        assert_eq!(b, [0xaa, 0xbb]);
        m.bus.read_phys(PhysAddr(0xf_fff0), &mut b);
        assert_eq!(b, [0xaa, 0xbb]);
    }

    #[test]
    fn ports_are_wired() {
        let (mut m, con, post) = machine(&[]);
        assert_eq!(m.bus.io_in(0xe9, 1), 0xe9);
        m.bus.io_out(0xe9, 1, u32::from(b'A'));
        m.bus.io_out(0x80, 1, 0x55);
        m.bus.io_out(0x190, 1, 0xaa);
        assert_eq!(m.bus.io_in(0x81, 2), 0xffff);
        assert_eq!(m.bus.io_in(0xf4, 4), 0);
        m.flush().unwrap();
        assert_eq!(con.contents(), b"A");
        assert_eq!(
            String::from_utf8(post.contents()).unwrap(),
            "port=0x80 value=0x55\nport=0x190 value=0xaa\n"
        );
    }

    #[test]
    fn debug_exit_stops_after_the_current_step() {
        // The instruction at the reset vector is not implemented (or is):
        // either way one step is taken, then the pending exit is seen.
        let (mut m, _, _) = machine(&[0x90]);
        m.bus.io_out(0xf5, 1, 0x21);
        assert_eq!(m.run(Some(100)), RunExit::DebugExit(0x21));
        assert_eq!(m.steps(), 1);
    }

    #[test]
    fn instruction_limit_counts_steps() {
        // With IDTR pointing at zeroed RAM, an unimplemented or #UD
        // instruction loops through exception delivery forever; the limit
        // still ends it.
        let (mut m, _, _) = machine(&[0x0f, 0x0b]); // UD2
        assert_eq!(m.run(Some(50)), RunExit::InstructionLimit);
        assert_eq!(m.steps(), 50);
        assert_eq!(m.run(Some(0)), RunExit::InstructionLimit);
    }

    #[test]
    fn halted_cpu_with_nothing_to_wake_it() {
        let (mut m, _, _) = machine(&[]);
        m.cpu.state.events.halted = true;
        assert_eq!(m.run(Some(10)), RunExit::Halted);
        // IF = 1 with every PIC input masked: the timer cannot wake it.
        m.bus.io_out(0x21, 1, 0xff);
        m.cpu.state.rflags |= cpu_model::flags::IF;
        assert_eq!(m.run(None), RunExit::Halted);
        assert_eq!(m.steps(), 0);
    }

    /// A program that waits for IRQ 0 with STI; HLT: the PIC set up as a
    /// BIOS does (vector 8), the PIT at 1 kHz, a handler that counts and
    /// sends EOI. Ten interrupts, then CLI; HLT: the same instruction count
    /// under both engines, and the halts skipped the clock ahead (about
    /// 10 ms of virtual time in far fewer instructions).
    #[test]
    fn pit_irq0_wakes_sti_hlt_under_both_engines() {
        #[rustfmt::skip]
        let code: &[u8] = &[
            0xfa,                   // cli
            0x31, 0xc0,             // xor ax,ax
            0x8e, 0xd8,             // mov ds,ax
            0xc7, 0x06, 0x20, 0x00, 0x40, 0x00, // mov word [0x20],0x40 (IVT 8: 9000:0040)
            0xc7, 0x06, 0x22, 0x00, 0x00, 0x09, // mov word [0x22],0x0900
            0xb0, 0x11, 0xe6, 0x20, // ICW1
            0xb0, 0x08, 0xe6, 0x21, // ICW2: vector 8
            0xb0, 0x04, 0xe6, 0x21, // ICW3
            0xb0, 0x01, 0xe6, 0x21, // ICW4
            0xb0, 0xfe, 0xe6, 0x21, // only IRQ 0
            0xb0, 0x34, 0xe6, 0x43, // PIT channel 0, mode 2
            0xb0, 0xa9, 0xe6, 0x40, // 1193 = 0x04a9
            0xb0, 0x04, 0xe6, 0x40,
            0x31, 0xdb,             // xor bx,bx
            // wait (0x33):
            0xfb,                   // sti
            0xf4,                   // hlt
            0x83, 0xfb, 0x0a,       // cmp bx,10
            0x72, 0xf9,             // jb wait
            0xfa,                   // cli
            0xf4,                   // hlt
            0x90, 0x90, 0x90, 0x90, // pad to 0x40
            // handler (0x40):
            0x43,                   // inc bx
            0x50,                   // push ax
            0xb0, 0x20, 0xe6, 0x20, // EOI
            0x58,                   // pop ax
            0xcf,                   // iret
        ];
        assert_eq!(code[0x40], 0x43, "the handler at 9000:0040");
        let mut results = Vec::new();
        for engine in [Engine::Interp, Engine::Jit] {
            let (mut m, _, _) = machine(&[]);
            if engine == Engine::Jit {
                m.runner = Box::new(Translator(Jit::new(JitConfig::default()).unwrap()));
                m.engine = Engine::Jit;
            }
            m.cpu.state.rip = 0;
            m.cpu.state.segment_mut(cpu_model::state::SegReg::Cs).base = 0x9000;
            m.cpu
                .state
                .segment_mut(cpu_model::state::SegReg::Cs)
                .selector = 0x900;
            m.cpu.state.segment_mut(cpu_model::state::SegReg::Ss).base = 0x7000;
            m.cpu.state.gpr[4] = 0xfffe;
            m.bus.memory.ram_mut()[0x9000..0x9000 + code.len()].copy_from_slice(code);
            assert_eq!(m.run(Some(100_000)), RunExit::Halted, "{engine:?}");
            let s = &m.cpu.state;
            results.push((s.gpr[3] & 0xffff, s.icount, s.tsc(), m.bus.clock.now_ns()));
        }
        assert_eq!(results[0], results[1], "the engines differ");
        let (irqs, icount, tsc, now) = results[0];
        assert_eq!(irqs, 10);
        assert!(icount < 1000, "{icount} instructions");
        let period = devices::pit::clock_time(1193).unwrap();
        assert!(now.abs_diff(10 * period) < period, "{now} ns");
        assert_eq!(tsc, now, "the TSC counts the skipped time too");
    }

    #[test]
    fn pending_nmi_wakes_a_halted_cpu() {
        let (mut m, _, _) = machine(&[]);
        m.cpu.state.events.halted = true;
        m.cpu.state.events.nmi_pending = true;
        // The NMI is delivered through IVT entry 2 (zeroed RAM: 0000:0000)
        // and execution goes on until the limit.
        assert_eq!(m.run(Some(5)), RunExit::InstructionLimit);
        assert!(!m.cpu.state.events.halted);
        assert_eq!(m.cpu.state.seg[cpu_model::SegReg::Cs as usize].selector, 0);
    }

    #[test]
    fn triple_fault() {
        // UD2 with an IVT limit too small for any vector: #UD -> #GP ->
        // #DF -> shutdown.
        let (mut m, _, _) = machine(&[0x0f, 0x0b]);
        m.cpu.state.idtr.limit = 0;
        assert_eq!(m.run(Some(10)), RunExit::TripleFault);
    }

    /// A triple fault inside a translated block (UD2 as a monitor call)
    /// ends the run after the same number of steps as the interpreter:
    /// the step that shut down is not counted by either.
    #[test]
    fn triple_fault_steps_agree_between_engines() {
        let code = [0x90, 0x40, 0x43, 0x0f, 0x0b]; // nop; inc ax; inc bx; ud2
        let mut steps = Vec::new();
        for engine in [Engine::Interp, Engine::Jit] {
            let (mut m, _, _) = machine(&code);
            if engine == Engine::Jit {
                m.runner = Box::new(Translator(Jit::new(JitConfig::default()).unwrap()));
                m.engine = Engine::Jit;
            }
            m.cpu.state.idtr.limit = 0;
            assert_eq!(m.run(Some(100)), RunExit::TripleFault, "{engine:?}");
            steps.push(m.steps());
        }
        assert_eq!(steps, [3, 3]);
    }

    /// A register file at 0x8000..0x8010, over RAM: reads return
    /// 0xa0 + offset, writes are recorded.
    struct Regs(WriteLog);

    /// (offset, bytes) of each write.
    type WriteLog = std::sync::Arc<std::sync::Mutex<Vec<(u64, Vec<u8>)>>>;

    impl MmioDevice for Regs {
        fn name(&self) -> &str {
            "regs"
        }
        fn read(&mut self, offset: u64, data: &mut [u8]) {
            for (i, b) in data.iter_mut().enumerate() {
                *b = 0xa0 + offset as u8 + i as u8;
            }
        }
        fn write(&mut self, offset: u64, data: &[u8]) {
            self.0.lock().unwrap().push((offset, data.to_vec()));
        }
    }

    /// MMIO wins over RAM under both engines (the translator's fast path
    /// never gets the page), an access is split at the range's end, and
    /// the page stays out of `host_page`.
    #[test]
    fn mmio_is_decoded_before_ram_under_both_engines() {
        // mov ax,[0x800e]  (2 bytes from the device, then RAM 0x8010..)
        // mov word [0x8004],0x1234 ; mov word [0x800f],0x5678 (split)
        // mov bx,[0x8010]  (RAM) ; repeated 3 times so blocks are hot; hlt
        let once: &[u8] = &[
            0xa1, 0x0e, 0x80, // mov ax,[0x800e]
            0xc7, 0x06, 0x04, 0x80, 0x34, 0x12, // mov word [0x8004],0x1234
            0xc7, 0x06, 0x0f, 0x80, 0x78, 0x56, // mov word [0x800f],0x5678
            0x8b, 0x1e, 0x10, 0x80, // mov bx,[0x8010]
        ];
        let mut code = Vec::new();
        for _ in 0..3 {
            code.extend_from_slice(once);
        }
        code.push(0xf4);
        let mut results = Vec::new();
        for engine in [Engine::Interp, Engine::Jit] {
            // The code runs from the BIOS alias at 0xf0000: IP 0xfff0 is
            // the reset vector, so jump to the start of the image first.
            let (mut m, _, _) = machine(&[]);
            let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            m.bus
                .mmio
                .insert(0x8000, 0x10, Box::new(Regs(log.clone())))
                .unwrap();
            m.bus.memory.ram_mut()[0x8000..0x8012].fill(0x55);
            if engine == Engine::Jit {
                m.runner = Box::new(Translator(Jit::new(JitConfig::default()).unwrap()));
                m.engine = Engine::Jit;
            }
            m.cpu.state.rip = 0;
            m.cpu.state.segment_mut(cpu_model::state::SegReg::Cs).base = 0x9000;
            m.bus.memory.ram_mut()[0x9000..0x9000 + code.len()].copy_from_slice(&code);
            m.cpu.state.segment_mut(cpu_model::state::SegReg::Ds).base = 0;
            assert_eq!(m.run(Some(100)), RunExit::Halted, "{engine:?}");
            assert!(m.bus.host_page(PhysAddr(0x8000), false).is_none());
            assert!(m.bus.host_page(PhysAddr(0x9000), false).is_some());
            let regs = &m.cpu.state.gpr;
            let ram = m.bus.memory.ram()[0x8000..0x8012].to_vec();
            results.push((
                regs[0] & 0xffff,
                regs[3] & 0xffff,
                log.lock().unwrap().clone(),
                ram,
            ));
        }
        assert_eq!(results[0], results[1], "the engines differ");
        let (ax, bx, log, ram) = &results[0];
        assert_eq!(*ax, 0xafae, "ax: the device's bytes 14, 15");
        assert_eq!(
            *bx, 0x5556,
            "bx: RAM 0x8010 written by the split store's high byte"
        );
        assert_eq!(log.len(), 6);
        assert_eq!(log[0], (4, vec![0x34, 0x12]));
        assert_eq!(log[1], (0xf, vec![0x78]));
        assert_eq!(
            &ram[..0x10],
            &[0x55; 0x10],
            "RAM under the device untouched"
        );
        assert_eq!(ram[0x10], 0x56);
    }

    /// The PIT runs on the virtual clock: Linux's calibration loop (gate
    /// channel 2, mode 0, poll OUT 2 in port 0x61) counts the same passes
    /// under both engines, and the latched channel 0 count read after it
    /// is the same too; the passes match the time the count takes at one
    /// instruction per nanosecond.
    #[test]
    fn pit_time_is_the_same_under_both_engines() {
        let code: &[u8] = &[
            0xe4, 0x61, // in al,0x61
            0x24, 0xfc, // and al,0xfc
            0x0c, 0x01, // or al,1 (gate 2 on, speaker off)
            0xe6, 0x61, // out 0x61,al
            0xb0, 0xb0, // mov al,0xb0 (channel 2, lobyte/hibyte, mode 0)
            0xe6, 0x43, // out 0x43,al
            0xb0, 0x77, // mov al,0x77 (count 0x77 = 119: about 100 us)
            0xe6, 0x42, // out 0x42,al
            0x30, 0xc0, // xor al,al
            0xe6, 0x42, // out 0x42,al
            0x31, 0xc9, // xor cx,cx
            // poll:
            0x41, // inc cx
            0xe4, 0x61, // in al,0x61
            0xa8, 0x20, // test al,0x20
            0x74, 0xf9, // jz poll
            0x30, 0xc0, // xor al,al (latch channel 0)
            0xe6, 0x43, // out 0x43,al
            0xe4, 0x40, // in al,0x40
            0x88, 0xc3, // mov bl,al
            0xe4, 0x40, // in al,0x40
            0x88, 0xc7, // mov bh,al
            0xf4, // hlt
        ];
        let mut results = Vec::new();
        for engine in [Engine::Interp, Engine::Jit] {
            let (mut m, _, _) = machine(&[]);
            if engine == Engine::Jit {
                m.runner = Box::new(Translator(Jit::new(JitConfig::default()).unwrap()));
                m.engine = Engine::Jit;
            }
            m.cpu.state.rip = 0;
            m.cpu.state.segment_mut(cpu_model::state::SegReg::Cs).base = 0x9000;
            m.bus.memory.ram_mut()[0x9000..0x9000 + code.len()].copy_from_slice(code);
            assert_eq!(m.run(Some(1_000_000)), RunExit::Halted, "{engine:?}");
            let g = &m.cpu.state.gpr;
            results.push((g[1] & 0xffff, g[3] & 0xffff, m.cpu.state.icount));
        }
        assert_eq!(results[0], results[1], "the engines differ");
        let (passes, count0, icount) = results[0];
        // 120 clocks (the count loads on the first edge) of 838 ns, at 4
        // instructions a pass: about 25 000 passes.
        let ns = devices::pit::clock_time(120).unwrap();
        assert!(passes.abs_diff(ns / 4) < 20, "{passes} passes for {ns} ns");
        // Channel 0 counts down from 65536 at power-on in mode 3, by two
        // a clock: the latch holds what is left at that instruction.
        let clocks = devices::pit::clocks_at(icount);
        assert!(
            (65536 - count0).abs_diff(2 * clocks) <= 4,
            "{count0} after {clocks} clocks"
        );
    }

    #[test]
    fn summary_names_the_place() {
        let (m, _, _) = machine(&[]);
        assert_eq!(
            m.cpu_summary(),
            "rip=0xfff0 cs:ip=f000:fff0 mode=real cpl=0 if=0"
        );
    }

    #[test]
    fn exit_display() {
        assert_eq!(
            RunExit::DebugExit(0x10).to_string(),
            "debug-exit value 0x10 (exit status 33)"
        );
        assert_eq!(
            RunExit::Unsupported("task switch").to_string(),
            "unsupported: task switch"
        );
    }

    /// Random BIOS images (hostile code: anything may happen, including
    /// self-modifying code, faults and triple faults) run under both
    /// engines to the same exit, step count, CPU state and debug-console
    /// output.
    #[test]
    fn random_images_run_alike_under_both_engines() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..24 {
            let mut img: Vec<u8> = (0..0x10000).map(|_| next() as u8).collect();
            // Reset vector: a far jump to a random offset of the image.
            let off = (next() % 0xff00) as u16;
            img[0xfff0..0xfff5].copy_from_slice(&[0xea, off as u8, (off >> 8) as u8, 0x00, 0xf0]);
            let run = |engine: Engine| {
                let con = SharedBuf::default();
                let mut m = Machine::new(MachineConfig {
                    memory: MemorySize::new(1 << 20).unwrap(),
                    bios: Bios::from_bytes("random", &img).unwrap(),
                    debugcon: Box::new(con.clone()),
                    post_log: None,
                    engine,
                    tcache_bytes: 1 << 20,
                    cpu: &cpu_model::model::XLAT,
                    serial: Box::new(std::io::sink()),
                    rtc_base: DEFAULT_RTC_BASE,
                })
                .unwrap();
                let exit = m.run(Some(40_000));
                (exit, m.steps(), m.cpu.state.clone(), con.contents())
            };
            let (a, b) = (run(Engine::Interp), run(Engine::Jit));
            assert_eq!(a.0, b.0, "round {round}: exit");
            assert_eq!(a.1, b.1, "round {round}: steps");
            assert!(a.2 == b.2, "round {round}: state");
            assert_eq!(a.3, b.3, "round {round}: debug console");
        }
    }
}
