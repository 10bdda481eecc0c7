//! Setting a case up: the page tables, the segments and control
//! registers of its mode, and the program it runs (the `boundary` module
//! comment).

use super::bus::{TestBus, CODE, PAGE, TABLES, TABLES_END};
use super::case::{Case, Kind, Mode, Warm, DATA_BASE, WARM_RUNS};
use super::form::{Emit, FORMS};
use cpu_model::state::{attr, cr0, cr4, efer, SegReg, Segment};
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use iced_x86::IcedError;

const PTE_P: u64 = 1;
const PTE_RW: u64 = 2;
const PTE_US: u64 = 4;

/// Page tables built in RAM from `TABLES` on.
struct Pager {
    long: bool,
    root: u64,
    next: u64,
}

impl Pager {
    fn new(bus: &mut TestBus, long: bool) -> Pager {
        let mut p = Pager {
            long,
            root: 0,
            next: TABLES,
        };
        p.root = p.alloc(bus);
        p
    }

    fn alloc(&mut self, bus: &mut TestBus) -> u64 {
        let t = self.next;
        assert!(t < TABLES_END, "out of page-table pages");
        self.next += PAGE;
        bus.ram(t, PAGE as usize).fill(0);
        t
    }

    fn map(&mut self, bus: &mut TestBus, lin: u64, leaf: u64) {
        let (width, shifts): (usize, &[u32]) = if self.long {
            (8, &[39, 30, 21, 12])
        } else {
            (4, &[22, 12])
        };
        let mask = (PAGE / width as u64) - 1;
        let mut table = self.root;
        for (i, &s) in shifts.iter().enumerate() {
            let at = table + ((lin >> s) & mask) * width as u64;
            if i == shifts.len() - 1 {
                bus.write_entry(at, leaf, width);
                return;
            }
            let mut e = [0u8; 8];
            e[..width].copy_from_slice(bus.ram(at, width));
            let e = u64::from_le_bytes(e);
            table = if e & PTE_P != 0 {
                e & !0xfff
            } else {
                let t = self.alloc(bus);
                bus.write_entry(at, t | PTE_P | PTE_RW | PTE_US, width);
                t
            };
        }
    }
}

fn leaf(kind: Kind, frame: u64) -> u64 {
    frame
        | match kind {
            Kind::NotPresent | Kind::NonCanonical => PTE_RW | PTE_US,
            Kind::ReadOnly => PTE_P | PTE_US,
            Kind::Supervisor => PTE_P | PTE_RW,
            Kind::Ram | Kind::Rom | Kind::Unbacked => PTE_P | PTE_RW | PTE_US,
        }
}

/// The linear address of the access's first byte in each run: on the
/// warm page (away from its edges), or at the boundary.
fn addresses(case: &Case) -> (Option<u64>, u64) {
    let (a, b) = case.pages();
    let warm = match case.warm_side() {
        Warm::A => Some(a + 0x800),
        Warm::B => Some(b + 0x400),
        Warm::None => None,
    };
    let at = if case.mode == Mode::Long64 {
        b.wrapping_add(case.offset as u64)
    } else {
        b.wrapping_add(case.offset as u64) & 0xffff_ffff
    };
    (warm, at)
}

/// The program of the case (the `boundary` module comment), at `CODE`.
fn program(case: &Case, seg_base: u64) -> Vec<u8> {
    let form = &FORMS[case.form];
    let bits = match case.mode {
        Mode::Real => 16,
        Mode::Prot32 => 32,
        Mode::Long64 => 64,
    };
    let (warm, at) = addresses(case);
    // The address register's value for first byte `lin`.
    let reg_value = |lin: u64| {
        let x = match form.emit {
            Emit::Push(_) | Emit::CallRet => lin.wrapping_add(u64::from(form.size)),
            Emit::Pop(_) | Emit::Mem(_) => lin,
        };
        let x = x.wrapping_sub(seg_base);
        match bits {
            16 => x & 0xffff,
            32 => x & 0xffff_ffff,
            _ => x,
        }
    };
    let stack = !matches!(form.emit, Emit::Mem(_));
    let set = |a: &mut CodeAssembler, v: u64| -> Result<(), IcedError> {
        match (bits, stack) {
            (16, false) => a.mov(si, v as u32),
            (16, true) => a.mov(sp, v as u32),
            (32, false) => a.mov(esi, v as u32),
            (32, true) => a.mov(esp, v as u32),
            (_, false) => a.mov(rsi, v),
            (_, true) => a.mov(rsp, v),
        }
    };
    let m: AsmMemoryOperand = match bits {
        16 => ptr(si),
        32 => ptr(esi),
        _ => ptr(rsi),
    };
    let build = || -> Result<Vec<u8>, IcedError> {
        let mut a = CodeAssembler::new(bits)?;
        let mut top = a.create_label();
        let mut go = a.create_label();
        let mut f = a.create_label();
        let runs = if warm.is_some() { WARM_RUNS } else { 0 };
        a.mov(ebp, runs)?;
        a.set_label(&mut top)?;
        set(&mut a, reg_value(warm.unwrap_or(at)))?;
        a.test(ebp, ebp)?;
        a.jnz(go)?;
        set(&mut a, reg_value(at))?;
        a.set_label(&mut go)?;
        match form.emit {
            Emit::Mem(e) => e(&mut a, m)?,
            Emit::Push(e) | Emit::Pop(e) => e(&mut a)?,
            Emit::CallRet => a.call(f)?,
        }
        a.dec(ebp)?;
        a.jns(top)?;
        a.ud2()?;
        a.set_label(&mut f)?;
        a.ret()?;
        a.assemble(CODE)
    };
    build().expect("assembles")
}

/// The processor and bus at the start of `case`.
pub(super) fn setup(case: &Case) -> (Cpu, TestBus) {
    let mut bus = TestBus::new();
    let mut cpu = Cpu::new();
    let s = &mut cpu.state;
    s.rflags = cpu_model::flags::FIXED;
    let values: [u64; 4] = [
        0x0123_4567_89ab_cdef,
        0x1111_2222_3333_4444,
        0xfedc_ba98_7654_3210,
        0x5555_6666_7777_8888,
    ];
    for (i, v) in values.into_iter().enumerate() {
        s.gpr[i] = if case.mode == Mode::Long64 {
            v
        } else {
            v & 0xffff_ffff
        };
    }
    // SSE enabled in every mode (the SSE forms), XMM0/XMM1 not zero.
    s.cr4 |= cr4::OSFXSR;
    for (i, x) in s.fx.xmm.iter_mut().take(2).enumerate() {
        for (j, byte) in x.iter_mut().enumerate() {
            *byte = (0x31 + 16 * i + j) as u8;
        }
    }
    // The x87 after FNINIT (every exception masked: the x87 forms are
    // native) with ST0..ST2 holding values (stores store them; loads
    // push onto a stack with room).
    s.fx.fcw = 0x037f;
    s.fx.ftw = 0x07;
    for (i, (signif, sign_exp)) in [
        (0xc000_0000_0000_0000u64, 0x3fffu16),
        (0x8000_0000_0000_0000, 0xc005),
        (0xb504_f333_f9de_6484, 0x3ffe),
    ]
    .into_iter()
    .enumerate()
    {
        s.fx.st[i].signif = signif;
        s.fx.st[i].sign_exp = sign_exp;
    }
    let (a, b) = case.pages();
    let seg_base = match case.mode {
        Mode::Real => {
            // DS = SS: the boundary at offset 0x8000.
            let sel = ((b - 0x8000) >> 4) as u16;
            for sr in [SegReg::Ds, SegReg::Es, SegReg::Ss] {
                s.seg[sr as usize] = Segment::real_mode(sel);
            }
            s.seg[SegReg::Cs as usize] = Segment::real_mode(0);
            u64::from(sel) << 4
        }
        Mode::Prot32 | Mode::Long64 => {
            let long = case.mode == Mode::Long64;
            let dpl: u16 = if case.cpl3 { 3 } else { 0 };
            let base = if long { 0 } else { DATA_BASE };
            let common = attr::P | attr::S | attr::RW | attr::ACCESSED | attr::G | (dpl << 5);
            s.seg[SegReg::Cs as usize] = Segment {
                base: 0,
                limit: 0xffff_ffff,
                selector: 0x08 | dpl,
                attrs: common | attr::CODE | if long { attr::L } else { attr::DB },
            };
            for sr in [SegReg::Ds, SegReg::Es, SegReg::Ss, SegReg::Fs, SegReg::Gs] {
                s.seg[sr as usize] = Segment {
                    base,
                    limit: 0xffff_ffff,
                    selector: 0x10 | dpl,
                    attrs: common | attr::DB,
                };
            }
            let mut pager = Pager::new(&mut bus, long);
            for p in [CODE, CODE + PAGE] {
                pager.map(&mut bus, p, p | PTE_P | PTE_RW | PTE_US);
            }
            let (fa, fb) = case.frames();
            if case.kind_a != Kind::NonCanonical {
                pager.map(&mut bus, a, leaf(case.kind_a, fa));
            }
            if case.kind_b != Kind::NonCanonical {
                pager.map(&mut bus, b, leaf(case.kind_b, fb));
            }
            s.cr3 = pager.root;
            s.cr0 = cr0::ET | cr0::PE | cr0::PG | if case.wp { cr0::WP } else { 0 };
            if long {
                s.cr4 |= cr4::PAE;
                s.efer = efer::LME | efer::LMA;
            }
            base
        }
    };
    s.rip = CODE;
    let code = program(case, seg_base);
    bus.ram(CODE, code.len()).copy_from_slice(&code);
    (cpu, bus)
}
