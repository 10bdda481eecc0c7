//! The machine as a whole: runs under both engines, exits, the wiring
//! seen from guest code.

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
            host_clock: false,
            serial_input: None,
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
        host_clock: false,
        serial_input: None,
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
        // The local APIC off (IA32_APIC_BASE.EN = 0, SDM Vol. 3
        // §11.4.3): LINT0 is the plain INTR pin, as before APICs.
        let bus = &mut m.bus;
        assert!(bus.chipset.set_apic_base(0xfee0_0100, &mut bus.mmio));
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
                host_clock: false,
                serial_input: None,
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

/// COM1 input from the host: a guest that sleeps in HLT with COM1's
/// received-data interrupt on IRQ 4 echoes every byte and stops at `q`.
/// Under the virtual clock with no timer running, the halted machine
/// waits for the host's bytes (arriving later, from another thread); the
/// echo is the input, under both engines, with the same instruction count.
#[test]
fn com1_input_wakes_a_halted_guest_and_is_echoed() {
    // test-roms-style source, assembled with nasm -f bin (org 0 at
    // 0900:0000): IVT[0x0C] -> handler; PIC base 8 with only IRQ 4; the
    // local APIC off (LINT0 = INTR); COM1 8N1 with IER = 1 and OUT2;
    // `again: sti; hlt; cmp bl,'q'; jne again; cli; hlt`; the handler reads
    // RBR into BL, writes it back to THR, sends the PIC an EOI, IRET.
    #[rustfmt::skip]
    let code: [u8; 95] = [
        0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0xc7, 0x06, 0x30, 0x00, 0x4f, 0x00, 0xc7, 0x06, 0x32,
        0x00, 0x00, 0x09, 0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x08, 0xe6, 0x21, 0xb0, 0x04, 0xe6,
        0x21, 0xb0, 0x01, 0xe6, 0x21, 0xb0, 0xef, 0xe6, 0x21, 0x66, 0xb9, 0x1b, 0x00, 0x00,
        0x00, 0x0f, 0x32, 0x80, 0xe4, 0xf7, 0x0f, 0x30, 0xba, 0xfb, 0x03, 0xb0, 0x03, 0xee,
        0xba, 0xf9, 0x03, 0xb0, 0x01, 0xee, 0xba, 0xfc, 0x03, 0xb0, 0x08, 0xee, 0x31, 0xdb,
        0xfb, 0xf4, 0x80, 0xfb, 0x71, 0x75, 0xf9, 0xfa, 0xf4, 0x50, 0x52, 0xba, 0xf8, 0x03,
        0xec, 0x88, 0xc3, 0xee, 0xb0, 0x20, 0xe6, 0x20, 0x5a, 0x58, 0xcf,
    ];
    let mut results = Vec::new();
    for engine in [Engine::Interp, Engine::Jit] {
        let serial = SharedBuf::default();
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        let mut m = Machine::new(MachineConfig {
            memory: MemorySize::new(1 << 20).unwrap(),
            bios: bios_with(&[]),
            debugcon: Box::new(std::io::sink()),
            post_log: None,
            engine,
            tcache_bytes: 1 << 20,
            cpu: &cpu_model::model::XLAT,
            serial: Box::new(serial.clone()),
            rtc_base: DEFAULT_RTC_BASE,
            host_clock: false,
            serial_input: Some(rx),
        })
        .unwrap();
        m.cpu.state.rip = 0;
        let cs = m.cpu.state.segment_mut(cpu_model::state::SegReg::Cs);
        cs.base = 0x9000;
        cs.selector = 0x900;
        m.cpu.state.segment_mut(cpu_model::state::SegReg::Ss).base = 0x7000;
        m.cpu.state.gpr[4] = 0xfffe;
        m.bus.memory.ram_mut()[0x9000..0x9000 + code.len()].copy_from_slice(&code);
        let sender = std::thread::spawn(move || {
            for chunk in [&b"he"[..], b"llo", b"q"] {
                std::thread::sleep(std::time::Duration::from_millis(20));
                tx.send(chunk.to_vec()).unwrap();
            }
        });
        assert_eq!(m.run(Some(100_000)), RunExit::Halted, "{engine:?}");
        sender.join().unwrap();
        m.flush().unwrap();
        assert_eq!(serial.contents(), b"helloq", "{engine:?}");
        results.push(m.cpu.state.icount);
    }
    assert_eq!(results[0], results[1], "the engines differ");
}

/// ACPI power-off: PM1_CNT (0x604) := SLP_EN with sleep type 0 (\_S5)
/// ends the run under both engines; the PM timer (0x608) read before it
/// counts at 3.579545 MHz of the clock (0 at the second nanosecond).
#[test]
fn acpi_pm1_cnt_slp_en_powers_off() {
    let code = [
        0xba, 0x08, 0x06, // mov dx, 0x608
        0x66, 0xed, // in eax, dx
        0x66, 0x89, 0xc3, // mov ebx, eax
        0xba, 0x04, 0x06, // mov dx, 0x604
        0xb8, 0x00, 0x20, // mov ax, 0x2000
        0xef, // out dx, ax
    ];
    for engine in [Engine::Interp, Engine::Jit] {
        let mut m = Machine::new(MachineConfig {
            engine,
            ..MachineConfig::new(bios_with(&code))
        })
        .unwrap();
        assert_eq!(m.run(Some(100)), RunExit::PowerOff, "{engine:?}");
        assert_eq!(m.cpu.state.gpr[3], 0, "{engine:?}");
    }
}
