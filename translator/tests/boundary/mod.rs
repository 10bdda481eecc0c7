//! Page-boundary differential cases (issue #16): the case space, a test
//! bus with RAM, ROM and unbacked physical pages, the program each case
//! runs, and the comparison of the interpreter with two translators.
//!
//! A case is one memory instruction whose access starts within 16 bytes
//! of the boundary between two linearly neighbouring pages A (below) and
//! B (above), after the same instruction (same RIP, so the same micro-TLB
//! slot) ran a few times wholly inside A or B to warm its fast path:
//!
//! ```text
//!         mov ebp, WARM
//! top:    mov rSI/rSP, <address wholly inside the warm page>
//!         test ebp, ebp
//!         jnz go
//!         mov rSI/rSP, <boundary + offset>
//! go:     <the instruction on [rSI] or on the stack>
//!         dec ebp
//!         jns top
//!         ud2                      ; the end: #UD
//! f:      ret                      ; for CALL/RET
//! ```
//!
//! Exceptions are not delivered (`deliver_exceptions: false`): every run
//! ends with the exception of the boundary access, or #UD at the end, and
//! the engines must agree on it (vector, error code, #PF address), on the
//! whole `CpuState` and on every byte of the bus's host memory (RAM, ROM
//! and the guard bytes around each of them).
//!
//! Written to be included by a fuzz target too (issue #12):
//! `#[path = ".../translator/tests/boundary/mod.rs"] mod boundary;` next
//! to `common`, then `boundary::check(&boundary::Case::from_bytes(data))`.

use crate::common::clone_cpu;
use cpu_model::exception::{Exception, Fault, SoftwareInterrupt, StopReason};
use cpu_model::state::{attr, cr0, cr4, efer, CpuState, SegReg, Segment};
use cpu_model::{Bus, Cpu, PhysAddr};
use iced_x86::code_asm::*;
use iced_x86::IcedError;
use std::fmt;
use std::ptr::NonNull;
use std::sync::OnceLock;
use translator::{Jit, JitConfig, JitExit};

pub const PAGE: u64 = 0x1000;

// ---------------------------------------------------------------------
// Physical memory
// ---------------------------------------------------------------------

/// What a physical page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phys {
    Ram,
    /// Reads give the ROM bytes, writes are dropped; a host page for
    /// reads only.
    Rom,
    /// Nothing there: reads all-ones, writes dropped, no host page.
    Unbacked,
    // MMIO (a later issue) goes here: a device page, no host page, reads
    // and writes logged by the bus, with its own strip position and
    // far page below.
}

/// Low RAM: code at `CODE`, page tables in `TABLES..TABLES_END`, then
/// RAM pages for non-neighbouring mappings (`far_a`, `far_b`).
const LOW_RAM: u64 = 0x1_6000;
pub const CODE: u64 = 0x1000;
const TABLES: u64 = 0x4000;
const TABLES_END: u64 = 0x1_0000;

/// Physically neighbouring pages of every ordered pair of kinds: page
/// `i` and `i + 1` of the strip (real mode uses them as they are).
const STRIP: u64 = 0x8_0000;
const STRIP_KINDS: [Phys; 10] = {
    use Phys::*;
    [
        Ram, Ram, Unbacked, Unbacked, Rom, Rom, Ram, Rom, Unbacked, Ram,
    ]
};

/// The page A (`far_a`) and B (`far_b`) of a non-neighbouring mapping
/// are mapped to: never A + 4 KiB, and B's physical predecessor holds
/// other bytes than A.
fn far_a(p: Phys) -> u64 {
    match p {
        Phys::Ram => 0x1_4000,
        Phys::Rom => STRIP + 7 * PAGE,
        Phys::Unbacked => 0x10_0000,
    }
}
fn far_b(p: Phys) -> u64 {
    match p {
        Phys::Ram => 0x1_1000,
        Phys::Rom => STRIP + 4 * PAGE,
        Phys::Unbacked => 0x20_0000,
    }
}

/// Bytes of host memory before and after every region, filled with
/// `CANARY`: an access that lands outside a region's host pages changes
/// or reads them.
const GUARD: usize = 0x1000;
const CANARY: u8 = 0xcc;

/// A contiguous physical range of one kind, backed by contiguous host
/// bytes at `host` in `TestBus::mem`.
#[derive(Clone, Copy, Debug)]
struct Region {
    start: u64,
    len: u64,
    rom: bool,
    host: usize,
}

/// RAM, ROM and unbacked space (see `Phys`), with a host page for RAM
/// (read and write) and ROM (read only). Self-contained: its own bytes.
#[derive(Clone)]
pub struct TestBus {
    mem: Vec<u8>,
    regions: Vec<Region>,
}

impl fmt::Debug for TestBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestBus")
            .field("regions", &self.regions)
            .finish()
    }
}

impl TestBus {
    /// The layout above, RAM and ROM filled with pseudo-random bytes (the
    /// same every time), guards with `CANARY`.
    pub fn new() -> TestBus {
        static TEMPLATE: OnceLock<TestBus> = OnceLock::new();
        TEMPLATE.get_or_init(TestBus::build).clone()
    }

    fn build() -> TestBus {
        let mut ranges = vec![(0, LOW_RAM, false)];
        let mut i = 0;
        while i < STRIP_KINDS.len() {
            let k = STRIP_KINDS[i];
            let mut j = i;
            while j < STRIP_KINDS.len() && STRIP_KINDS[j] == k {
                j += 1;
            }
            if k != Phys::Unbacked {
                let start = STRIP + i as u64 * PAGE;
                ranges.push((start, (j - i) as u64 * PAGE, k == Phys::Rom));
            }
            i = j;
        }
        let mut regions = Vec::new();
        let mut host = GUARD;
        for (start, len, rom) in ranges {
            regions.push(Region {
                start,
                len,
                rom,
                host,
            });
            host += len as usize + GUARD;
        }
        let mut mem = vec![CANARY; host];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for r in &regions {
            for b in &mut mem[r.host..r.host + r.len as usize] {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = (x >> 24) as u8;
            }
        }
        TestBus { mem, regions }
    }

    fn region(&self, addr: u64) -> Option<&Region> {
        self.regions
            .iter()
            .find(|r| addr >= r.start && addr - r.start < r.len)
    }

    /// The host bytes of `len` bytes of RAM at `addr` (for setting up).
    fn ram(&mut self, addr: u64, len: usize) -> &mut [u8] {
        let r = *self.region(addr).filter(|r| !r.rom).expect("RAM");
        let at = r.host + (addr - r.start) as usize;
        &mut self.mem[at..at + len]
    }

    fn write_entry(&mut self, addr: u64, value: u64, width: usize) {
        self.ram(addr, width)
            .copy_from_slice(&value.to_le_bytes()[..width]);
    }

    /// Where host byte `i` of `mem` is, for messages.
    fn describe(&self, i: usize) -> String {
        for r in &self.regions {
            let kind = if r.rom { "ROM" } else { "RAM" };
            if i >= r.host && i < r.host + r.len as usize {
                let phys = r.start + (i - r.host) as u64;
                let what = match phys {
                    _ if (CODE..CODE + PAGE).contains(&phys) => ", the code",
                    _ if (TABLES..TABLES_END).contains(&phys) => ", a page table",
                    _ => "",
                };
                return format!("phys {phys:#x} ({kind}{what})");
            }
            if i < r.host {
                return format!(
                    "host guard, {} bytes before the host page of {kind} phys {:#x}",
                    r.host - i,
                    r.start
                );
            }
        }
        "host guard after the last region".into()
    }
}

impl Default for TestBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus for TestBus {
    fn read_phys(&mut self, addr: PhysAddr, buf: &mut [u8]) {
        match self.region(addr.0) {
            Some(r) => {
                let at = r.host + (addr.0 - r.start) as usize;
                buf.copy_from_slice(&self.mem[at..at + buf.len()]);
            }
            None => buf.fill(0xff),
        }
    }
    fn write_phys(&mut self, addr: PhysAddr, data: &[u8]) {
        if let Some(r) = self.region(addr.0).filter(|r| !r.rom) {
            let at = r.host + (addr.0 - r.start) as usize;
            self.mem[at..at + data.len()].copy_from_slice(data);
        }
    }
    fn io_in(&mut self, _port: u16, size: u32) -> u32 {
        cpu_model::flags::mask(size) as u32
    }
    fn io_out(&mut self, _port: u16, _size: u32, _value: u32) {}
    fn host_page(&mut self, page: PhysAddr, write: bool) -> Option<NonNull<u8>> {
        let r = *self.region(page.0)?;
        if r.rom && write {
            return None;
        }
        let at = r.host + (page.0 - r.start) as usize;
        NonNull::new(self.mem[at..at + PAGE as usize].as_mut_ptr())
    }
}

// ---------------------------------------------------------------------
// The case space
// ---------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Real mode, no paging: the pages are the physical strip.
    Real,
    /// 32-bit protected mode, 2-level paging, data segments based at
    /// `DATA_BASE`.
    Prot32,
    /// 64-bit mode, 4-level paging.
    Long64,
}

pub const MODES: [Mode; 3] = [Mode::Real, Mode::Prot32, Mode::Long64];

/// Base of DS and SS in 32-bit protected mode (offsets wrap past 4 GiB to
/// reach the low pages).
const DATA_BASE: u64 = 0x1000;

/// The kind of a page as an access sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ram,
    Rom,
    Unbacked,
    /// P = 0.
    NotPresent,
    /// R/W = 0 (writes fault at CPL 3, and at CPL 0 with CR0.WP).
    ReadOnly,
    /// U/S = 0 (every access faults at CPL 3).
    Supervisor,
    /// The non-canonical side of a canonical boundary (64-bit mode).
    NonCanonical,
    // MMIO goes here (with `Phys::Mmio`), and into `PAGED_KINDS` /
    // `REAL_KINDS`.
}

const REAL_KINDS: &[Kind] = &[Kind::Ram, Kind::Rom, Kind::Unbacked];
const PAGED_KINDS: &[Kind] = &[
    Kind::Ram,
    Kind::Rom,
    Kind::Unbacked,
    Kind::NotPresent,
    Kind::ReadOnly,
    Kind::Supervisor,
];

/// Where the boundary is in the linear address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Real mode: the strip boundary between the two kinds.
    Strip,
    /// A and B in the same page table.
    Ordinary,
    /// A and B under different entries of a higher table (4 MiB in
    /// 32-bit paging, 512 GiB in 4-level paging).
    TableEdge,
    /// A is the last page of the linear space (2^32 or 2^64), B page 0.
    Wrap,
    /// A = 0x00007fff_fffff000 (canonical), B = 0x00008000_00000000 (not).
    CanonLow,
    /// A = 0xffff7fff_fffff000 (not canonical), B = 0xffff8000_00000000.
    CanonHigh,
}

impl Mode {
    pub fn places(self) -> &'static [Place] {
        match self {
            Mode::Real => &[Place::Strip],
            Mode::Prot32 => &[Place::Ordinary, Place::TableEdge, Place::Wrap],
            Mode::Long64 => &[
                Place::Ordinary,
                Place::TableEdge,
                Place::Wrap,
                Place::CanonLow,
                Place::CanonHigh,
            ],
        }
    }
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Mode::Real => REAL_KINDS,
            _ => PAGED_KINDS,
        }
    }
    fn bit(self) -> u8 {
        match self {
            Mode::Real => R,
            Mode::Prot32 => P,
            Mode::Long64 => L,
        }
    }
    /// The access sizes some form has in this mode, ascending.
    pub fn sizes(self) -> Vec<u32> {
        let mut v: Vec<u32> = FORMS
            .iter()
            .filter(|f| f.modes & self.bit() != 0)
            .map(|f| f.size)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    fn name(self) -> &'static str {
        match self {
            Mode::Real => "real",
            Mode::Prot32 => "prot32",
            Mode::Long64 => "long64",
        }
    }
}

/// How an instruction accesses its operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acc {
    Read,
    Write,
    /// Read and write (RMW, CMPXCHG, CALL then RET).
    ReadWrite,
}

pub type EmitFn = fn(&mut CodeAssembler, AsmMemoryOperand) -> Result<(), IcedError>;
pub type StackFn = fn(&mut CodeAssembler) -> Result<(), IcedError>;

#[derive(Clone, Copy)]
pub enum Emit {
    /// An instruction on `[rSI]` (DS).
    Mem(EmitFn),
    /// PUSH: the access is the `size` bytes below rSP.
    Push(StackFn),
    /// POP: the access is the `size` bytes at rSP.
    Pop(StackFn),
    /// CALL to a RET: both access the `size` bytes below rSP.
    CallRet,
}

/// Modes a form exists in.
const R: u8 = 1;
const P: u8 = 2;
const L: u8 = 4;
const ALL: u8 = R | P | L;

/// One instruction form: `size` bytes accessed.
#[derive(Clone, Copy)]
pub struct Form {
    pub name: &'static str,
    pub size: u32,
    modes: u8,
    pub acc: Acc,
    emit: Emit,
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

const fn mem(name: &'static str, size: u32, modes: u8, acc: Acc, e: EmitFn) -> Form {
    Form {
        name,
        size,
        modes,
        acc,
        emit: Emit::Mem(e),
    }
}

const fn stack(name: &'static str, size: u32, modes: u8, acc: Acc, emit: Emit) -> Form {
    Form {
        name,
        size,
        modes,
        acc,
        emit,
    }
}

use Acc::{Read as Rd, ReadWrite as RW, Write as Wr};

/// Every instruction form, one line each: a new access size (x87 m80,
/// SSE m128, ...) is one more line here.
pub static FORMS: &[Form] = &[
    mem("mov al,[m]", 1, ALL, Rd, |a, m| a.mov(al, byte_ptr(m))),
    mem("mov [m],dl", 1, ALL, Wr, |a, m| a.mov(byte_ptr(m), dl)),
    mem("add [m],dl", 1, ALL, RW, |a, m| a.add(byte_ptr(m), dl)),
    mem("inc byte [m]", 1, ALL, RW, |a, m| a.inc(byte_ptr(m))),
    mem("cmp [m],dl", 1, ALL, Rd, |a, m| a.cmp(byte_ptr(m), dl)),
    mem("movzx eax,byte [m]", 1, ALL, Rd, |a, m| {
        a.movzx(eax, byte_ptr(m))
    }),
    mem("mov ax,[m]", 2, ALL, Rd, |a, m| a.mov(ax, word_ptr(m))),
    mem("mov [m],dx", 2, ALL, Wr, |a, m| a.mov(word_ptr(m), dx)),
    mem("add [m],dx", 2, ALL, RW, |a, m| a.add(word_ptr(m), dx)),
    mem("inc word [m]", 2, ALL, RW, |a, m| a.inc(word_ptr(m))),
    mem("cmp [m],dx", 2, ALL, Rd, |a, m| a.cmp(word_ptr(m), dx)),
    mem("movzx eax,word [m]", 2, ALL, Rd, |a, m| {
        a.movzx(eax, word_ptr(m))
    }),
    mem("cmovae ax,[m]", 2, ALL, Rd, |a, m| {
        a.cmovae(ax, word_ptr(m))
    }),
    mem("imul ax,[m],0x1234", 2, ALL, Rd, |a, m| {
        a.imul_3(ax, word_ptr(m), 0x1234)
    }),
    stack("push dx", 2, ALL, Wr, Emit::Push(|a| a.push(dx))),
    stack("pop ax", 2, ALL, Rd, Emit::Pop(|a| a.pop(ax))),
    stack("call/ret", 2, R, RW, Emit::CallRet),
    mem("mov eax,[m]", 4, ALL, Rd, |a, m| a.mov(eax, dword_ptr(m))),
    mem("mov [m],edx", 4, ALL, Wr, |a, m| a.mov(dword_ptr(m), edx)),
    mem("add [m],edx", 4, ALL, RW, |a, m| a.add(dword_ptr(m), edx)),
    mem("inc dword [m]", 4, ALL, RW, |a, m| a.inc(dword_ptr(m))),
    mem("cmp [m],edx", 4, ALL, Rd, |a, m| a.cmp(dword_ptr(m), edx)),
    mem("cmovb eax,[m]", 4, ALL, Rd, |a, m| {
        a.cmovb(eax, dword_ptr(m))
    }),
    mem("imul eax,[m],-99", 4, ALL, Rd, |a, m| {
        a.imul_3(eax, dword_ptr(m), -99)
    }),
    stack("push edx", 4, R | P, Wr, Emit::Push(|a| a.push(edx))),
    stack("pop eax", 4, R | P, Rd, Emit::Pop(|a| a.pop(eax))),
    stack("call/ret", 4, P, RW, Emit::CallRet),
    mem("sgdt [m]", 6, R | P, Wr, |a, m| a.sgdt(m)),
    mem("sidt [m]", 6, R | P, Wr, |a, m| a.sidt(m)),
    mem("lgdt [m]", 6, R | P, Rd, |a, m| a.lgdt(m)),
    mem("mov rax,[m]", 8, L, Rd, |a, m| a.mov(rax, qword_ptr(m))),
    mem("mov [m],rdx", 8, L, Wr, |a, m| a.mov(qword_ptr(m), rdx)),
    mem("add [m],rdx", 8, L, RW, |a, m| a.add(qword_ptr(m), rdx)),
    mem("inc qword [m]", 8, L, RW, |a, m| a.inc(qword_ptr(m))),
    mem("cmp [m],rdx", 8, L, Rd, |a, m| a.cmp(qword_ptr(m), rdx)),
    mem("cmovae rax,[m]", 8, L, Rd, |a, m| {
        a.cmovae(rax, qword_ptr(m))
    }),
    mem("imul rax,[m],7", 8, L, Rd, |a, m| {
        a.imul_3(rax, qword_ptr(m), 7)
    }),
    mem("cmpxchg8b [m]", 8, ALL, RW, |a, m| {
        a.cmpxchg8b(qword_ptr(m))
    }),
    stack("push rdx", 8, L, Wr, Emit::Push(|a| a.push(rdx))),
    stack("pop rax", 8, L, Rd, Emit::Pop(|a| a.pop(rax))),
    stack("call/ret", 8, L, RW, Emit::CallRet),
    mem("sgdt [m]", 10, L, Wr, |a, m| a.sgdt(m)),
    mem("sidt [m]", 10, L, Wr, |a, m| a.sidt(m)),
    mem("lgdt [m]", 10, L, Rd, |a, m| a.lgdt(m)),
    mem("cmpxchg16b [m]", 16, L, RW, |a, m| {
        a.cmpxchg16b(xmmword_ptr(m))
    }),
];

/// The forms of `size` bytes in `mode` (indices into `FORMS`).
pub fn forms(mode: Mode, size: u32) -> Vec<usize> {
    (0..FORMS.len())
        .filter(|&i| FORMS[i].size == size && FORMS[i].modes & mode.bit() != 0)
        .collect()
}

/// Which page the instruction runs on before the boundary access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warm {
    B,
    A,
    None,
}

const WARMS: [Warm; 3] = [Warm::B, Warm::A, Warm::None];

/// Runs of the instruction on the warm page: the first fills the
/// translator's TLB, the second copies the entry into the instruction's
/// micro slot, the third hits it.
const WARM_RUNS: u32 = 3;

/// One case. Build with `Case::from_bytes` (any bytes give a valid case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Case {
    pub mode: Mode,
    pub place: Place,
    /// Index into `FORMS`.
    pub form: usize,
    /// First byte of the access relative to the boundary (-16..=15).
    pub offset: i32,
    pub kind_a: Kind,
    pub kind_b: Kind,
    /// A and B on physically neighbouring pages (always in real mode).
    pub adjacent: bool,
    /// The page asked for; see `Case::warm_side` for the one used.
    pub warm: Warm,
    pub cpl3: bool,
    pub wp: bool,
}

/// Bytes `Case::from_bytes` reads.
pub const CASE_BYTES: usize = 11;

fn pick<T: Copy + PartialEq>(list: &[T], b: u8) -> T {
    list[usize::from(b) % list.len()]
}

fn index<T: PartialEq>(list: &[T], x: &T) -> u8 {
    list.iter().position(|y| y == x).expect("in the list") as u8
}

impl Case {
    /// A valid case from arbitrary bytes (missing bytes read as 0): the
    /// generator of the property test and of a future fuzz target.
    pub fn from_bytes(data: &[u8]) -> Case {
        let b = |i: usize| data.get(i).copied().unwrap_or(0);
        let mode = pick(&MODES, b(0));
        let place = pick(mode.places(), b(1));
        let size = pick(&mode.sizes(), b(2));
        let form = pick(&forms(mode, size), b(3));
        let offset = i32::from(b(4) % 32) - 16;
        let paged = mode != Mode::Real;
        Case {
            mode,
            place,
            form,
            offset,
            kind_a: if place == Place::CanonHigh {
                Kind::NonCanonical
            } else {
                pick(mode.kinds(), b(5))
            },
            kind_b: if place == Place::CanonLow {
                Kind::NonCanonical
            } else {
                pick(mode.kinds(), b(6))
            },
            adjacent: !paged || b(7) & 1 == 0,
            warm: pick(&WARMS, b(8)),
            cpl3: paged && b(9) & 1 != 0,
            wp: paged && b(10) & 1 != 0,
        }
    }

    /// The bytes `from_bytes` turns into this case.
    pub fn to_bytes(self) -> [u8; CASE_BYTES] {
        let m = self.mode;
        let size = FORMS[self.form].size;
        let kind = |k: Kind| {
            if k == Kind::NonCanonical {
                0
            } else {
                index(m.kinds(), &k)
            }
        };
        [
            index(&MODES, &m),
            index(m.places(), &self.place),
            index(&m.sizes(), &size),
            index(&forms(m, size), &self.form),
            (self.offset + 16) as u8,
            kind(self.kind_a),
            kind(self.kind_b),
            u8::from(!self.adjacent && m != Mode::Real),
            index(&WARMS, &self.warm),
            u8::from(self.cpl3),
            u8::from(self.wp),
        ]
    }

    pub fn hex(self) -> String {
        self.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<Case> {
        let s = s.trim();
        let bytes: Option<Vec<u8>> = (0..s.len() / 2)
            .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        Some(Case::from_bytes(&bytes?))
    }

    pub fn size(&self) -> u32 {
        FORMS[self.form].size
    }

    pub fn crosses(&self) -> bool {
        self.offset < 0 && self.offset + self.size() as i32 > 0
    }

    fn kind(&self, side: Warm) -> Kind {
        if side == Warm::A {
            self.kind_a
        } else {
            self.kind_b
        }
    }

    /// Does a run of the instruction wholly inside a page of `kind` stop
    /// the program: a fault, or a RET that reads a return address the
    /// CALL could not write (ROM, unbacked) and goes elsewhere?
    fn stops_on(&self, kind: Kind) -> bool {
        let form = &FORMS[self.form];
        let writes = form.acc != Acc::Read;
        match kind {
            Kind::NotPresent | Kind::NonCanonical => true,
            Kind::Supervisor => self.cpl3,
            Kind::ReadOnly => writes && (self.cpl3 || self.wp),
            Kind::Rom | Kind::Unbacked => matches!(form.emit, Emit::CallRet),
            Kind::Ram => false,
        }
    }

    /// The page the instruction warms up on: the one asked for if the
    /// program goes on after running there, else the other one if it
    /// does, else none.
    pub fn warm_side(&self) -> Warm {
        let other = match self.warm {
            Warm::A => Warm::B,
            Warm::B => Warm::A,
            Warm::None => return Warm::None,
        };
        [self.warm, other]
            .into_iter()
            .find(|&s| !self.stops_on(self.kind(s)))
            .unwrap_or(Warm::None)
    }

    /// Linear addresses of pages A and B.
    fn pages(&self) -> (u64, u64) {
        let b = match self.place {
            Place::Strip => STRIP + (strip_index(self.phys_a(), self.phys_b()) + 1) * PAGE,
            Place::Ordinary if self.mode == Mode::Long64 => 0x0000_2468_ace0_1000,
            Place::Ordinary => 0x4000_1000,
            Place::TableEdge if self.mode == Mode::Long64 => 0x0000_0080_0000_0000,
            Place::TableEdge => 0x0080_0000,
            Place::Wrap => 0,
            Place::CanonLow => 0x0000_8000_0000_0000,
            Place::CanonHigh => 0xffff_8000_0000_0000,
        };
        let a = if self.mode == Mode::Long64 {
            b.wrapping_sub(PAGE)
        } else {
            b.wrapping_sub(PAGE) & 0xffff_ffff
        };
        (a, b)
    }

    fn phys_a(&self) -> Phys {
        phys_of(self.kind_a)
    }
    fn phys_b(&self) -> Phys {
        phys_of(self.kind_b)
    }

    /// Physical pages A and B map to.
    fn frames(&self) -> (u64, u64) {
        let (a, b) = (self.phys_a(), self.phys_b());
        if self.adjacent {
            let i = strip_index(a, b);
            (STRIP + i * PAGE, STRIP + (i + 1) * PAGE)
        } else {
            (far_a(a), far_b(b))
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = |k: Kind| format!("{k:?}").to_lowercase();
        write!(
            f,
            "{} {:?} size={} offset={}{} A={} B={} {} warm={:?}",
            self.mode.name(),
            self.place,
            self.size(),
            self.offset,
            if self.crosses() { " (crosses)" } else { "" },
            k(self.kind_a),
            k(self.kind_b),
            if self.adjacent {
                "neighbouring"
            } else {
                "non-neighbouring"
            },
            self.warm_side(),
        )?;
        if self.warm_side() != self.warm {
            write!(f, " (asked {:?})", self.warm)?;
        }
        write!(
            f,
            " form=\"{}\" cpl={} wp={}",
            FORMS[self.form].name,
            if self.cpl3 { 3 } else { 0 },
            u8::from(self.wp)
        )
    }
}

fn phys_of(k: Kind) -> Phys {
    match k {
        Kind::Rom => Phys::Rom,
        Kind::Unbacked => Phys::Unbacked,
        _ => Phys::Ram,
    }
}

/// The strip page `i` with `STRIP_KINDS[i] == a` and `[i + 1] == b`.
fn strip_index(a: Phys, b: Phys) -> u64 {
    STRIP_KINDS
        .windows(2)
        .position(|w| w == [a, b])
        .expect("every pair is in the strip") as u64
}

// ---------------------------------------------------------------------
// Setting a case up
// ---------------------------------------------------------------------

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

/// The program of the case (module comment), at `CODE`.
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
pub fn setup(case: &Case) -> (Cpu, TestBus) {
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
                s.cr4 = cr4::PAE;
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

// ---------------------------------------------------------------------
// Running and comparing
// ---------------------------------------------------------------------

/// Steps before a run is cut short (a program takes about 30).
const BUDGET: u64 = 500;

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    Exception(Exception),
    SoftwareInterrupt(SoftwareInterrupt),
    Stop(StopReason),
    /// HLT (stray code after a RET that read a random return address).
    Halted,
    Other(JitExit),
    Budget,
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::Exception(e) => write!(f, "{e}"),
            End::SoftwareInterrupt(t) => write!(f, "{t}"),
            End::Stop(s) => write!(f, "stop: {s}"),
            End::Halted => write!(f, "halted"),
            End::Other(x) => write!(f, "{x:?}"),
            End::Budget => write!(f, "budget exhausted"),
        }
    }
}

/// What a run left behind.
#[derive(Debug)]
pub struct Outcome {
    pub end: End,
    pub state: CpuState,
    bus: TestBus,
    /// Memory operands the translator accessed through the interpreter.
    pub helper_calls: u64,
}

fn run_interpreter(mut cpu: Cpu, mut bus: TestBus) -> Outcome {
    let mut end = End::Budget;
    for _ in 0..BUDGET {
        // Nothing is delivered, so nothing wakes a halted processor: the
        // translator ends its run there too.
        if cpu.state.events.halted {
            end = End::Halted;
            break;
        }
        // As a translator that does not deliver exceptions: a single-step
        // trap ends the run once the instruction retired.
        let tf = cpu.state.rflags & cpu_model::flags::TF != 0;
        match cpu.execute(&mut bus) {
            Ok(_) if tf => end = End::Exception(Exception::DB),
            Ok(_) => {}
            Err(Fault::Exception(e)) => end = End::Exception(e),
            Err(Fault::Trap(t)) => end = End::SoftwareInterrupt(t),
            Err(Fault::Stop(s)) => end = End::Stop(s),
        }
        if end != End::Budget {
            break;
        }
    }
    Outcome {
        end,
        state: cpu.state,
        bus,
        helper_calls: 0,
    }
}

fn run_translator(cfg: JitConfig, mut cpu: Cpu, mut bus: TestBus) -> Outcome {
    let mut jit = Jit::new(cfg).expect("jit");
    let end = match jit.run(&mut cpu, &mut bus, BUDGET) {
        Ok(JitExit::Exception(e)) => End::Exception(e),
        Ok(JitExit::SoftwareInterrupt(t)) => End::SoftwareInterrupt(t),
        Ok(JitExit::BudgetExhausted) => End::Budget,
        Ok(JitExit::Halted) => End::Halted,
        Ok(other) => End::Other(other),
        Err(s) => End::Stop(s),
    };
    Outcome {
        end,
        state: cpu.state,
        bus,
        helper_calls: jit.stats().memory_helper_calls,
    }
}

/// The translators compared with the interpreter: the default
/// configuration and a 64 KiB code cache, both returning exceptions
/// instead of delivering them.
pub fn engines() -> [(&'static str, JitConfig); 2] {
    let base = JitConfig {
        deliver_exceptions: false,
        ..JitConfig::default()
    };
    [
        ("translator (default config)", base),
        (
            "translator (64 KiB cache)",
            JitConfig {
                cache_bytes: 64 << 10,
                ..base
            },
        ),
    ]
}

const GPR_NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

/// The fields in which two states differ: registers by name, then any
/// other field as the lines of their `Debug` forms that differ.
fn state_differences(want: &CpuState, got: &CpuState) -> Vec<String> {
    let mut d = Vec::new();
    let mut named = |name: &str, w: u64, g: u64| {
        if w != g {
            d.push(format!("{name}: interpreter {w:#x}, translator {g:#x}"));
        }
    };
    for (i, n) in GPR_NAMES.iter().enumerate() {
        named(n, want.gpr[i], got.gpr[i]);
    }
    named("rip", want.rip, got.rip);
    named("rflags", want.rflags, got.rflags);
    named("cr2", want.cr2, got.cr2);
    named("icount", want.icount, got.icount);
    // The rest, with the fields above made equal.
    let mut g = got.clone();
    g.gpr = want.gpr;
    g.rip = want.rip;
    g.rflags = want.rflags;
    g.cr2 = want.cr2;
    g.icount = want.icount;
    if g != *want {
        let (w, g) = (format!("{want:#?}"), format!("{g:#?}"));
        let mut field = "";
        for (x, y) in w.lines().zip(g.lines()) {
            if x.trim_end().ends_with(": {") || x.trim_end().ends_with(": [") {
                field = x.trim().trim_end_matches(['{', '[', ' ', ':']);
            }
            if x != y {
                d.push(format!(
                    "{field}: interpreter {} / translator {}",
                    x.trim(),
                    y.trim()
                ));
            }
        }
    }
    d
}

/// What differs between two outcomes, if anything.
fn differences(want: &Outcome, got: &Outcome) -> Vec<String> {
    let mut d = Vec::new();
    if want.end != got.end {
        d.push(format!(
            "end: interpreter {}, translator {}",
            want.end, got.end
        ));
    }
    if want.state != got.state {
        d.extend(state_differences(&want.state, &got.state));
    }
    let (wm, gm) = (&want.bus.mem, &got.bus.mem);
    let diff: Vec<usize> = if wm == gm {
        Vec::new()
    } else {
        (0..wm.len()).filter(|&i| wm[i] != gm[i]).collect()
    };
    if let (Some(&first), Some(&last)) = (diff.first(), diff.last()) {
        d.push(format!(
            "memory: {} bytes differ, first at {} (interpreter {:#04x}, translator {:#04x}), last at {}",
            diff.len(),
            want.bus.describe(first),
            wm[first],
            gm[first],
            want.bus.describe(last),
        ));
    }
    d
}

/// How to run one case again.
pub fn rerun_hint(case: &Case) -> String {
    format!(
        "PAGE_BOUNDARY_CASE={} cargo test -p translator --test page_boundary one_case -- --nocapture",
        case.hex()
    )
}

/// Run `case` on the interpreter and the translators: Ok with the
/// interpreter's outcome and the translators' helper calls if all agree,
/// else a message naming the case and what differed.
pub fn check(case: &Case) -> Result<(Outcome, u64), String> {
    let (cpu, bus) = setup(case);
    let want = run_interpreter(clone_cpu(&cpu), bus.clone());
    let mut helper_calls = 0;
    for (name, cfg) in engines() {
        let got = run_translator(cfg, clone_cpu(&cpu), bus.clone());
        helper_calls += got.helper_calls;
        let d = differences(&want, &got);
        if !d.is_empty() {
            return Err(format!(
                "case {case}\n  {name} differs from the interpreter:\n    {}\n  rerun: {}",
                d.join("\n    "),
                rerun_hint(case)
            ));
        }
    }
    Ok((want, helper_calls))
}

// ---------------------------------------------------------------------
// The deterministic sweep
// ---------------------------------------------------------------------

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Every size x offset x (kind of A, kind of B) of `mode` (and every
/// kind of the canonical side of the canonical boundaries); for an
/// access that crosses the boundary also both warm sides and (with
/// paging) both physical placements. The rest (place among the
/// two-sided ones, form of the size, CPL, CR0.WP, and the warm side and
/// placement of accesses that do not cross) rotates.
pub fn sweep(mode: Mode) -> Vec<Case> {
    let mut cases = Vec::new();
    let paged = mode != Mode::Real;
    let two_sided: Vec<Place> = mode
        .places()
        .iter()
        .copied()
        .filter(|p| !matches!(p, Place::CanonLow | Place::CanonHigh))
        .collect();
    let kinds = mode.kinds();
    let mut groups: Vec<(Option<Place>, Kind, Kind)> = Vec::new();
    for &ka in kinds {
        for &kb in kinds {
            groups.push((None, ka, kb));
        }
    }
    if mode == Mode::Long64 {
        for &k in kinds {
            groups.push((Some(Place::CanonLow), k, Kind::NonCanonical));
            groups.push((Some(Place::CanonHigh), Kind::NonCanonical, k));
        }
    }
    let mut n = 0u64;
    for size in mode.sizes() {
        let forms = forms(mode, size);
        for offset in -16..16 {
            for &(place, kind_a, kind_b) in &groups {
                let crosses = offset < 0 && offset + size as i32 > 0;
                let one_sided = place.is_some();
                let warms: &[Warm] = if crosses && !one_sided {
                    &[Warm::B, Warm::A]
                } else {
                    &[Warm::B]
                };
                let adjacency: &[bool] = if crosses && paged && !one_sided {
                    &[true, false]
                } else {
                    &[true]
                };
                for &warm in warms {
                    for &adjacent in adjacency {
                        n += 1;
                        let h = mix(n ^ ((mode as u64) << 56));
                        let rotate = |bits: u32, len: usize| ((h >> bits) % len as u64) as usize;
                        let warm = if crosses || rotate(0, 4) != 0 {
                            warm
                        } else {
                            Warm::A
                        };
                        let adjacent = if crosses || !paged {
                            adjacent
                        } else {
                            rotate(8, 2) == 0
                        };
                        cases.push(Case {
                            mode,
                            place: place.unwrap_or(two_sided[rotate(16, two_sided.len())]),
                            form: forms[rotate(24, forms.len())],
                            offset,
                            kind_a,
                            kind_b,
                            adjacent,
                            warm,
                            cpl3: paged && rotate(32, 2) == 1,
                            wp: paged && rotate(40, 2) == 1,
                        });
                    }
                }
            }
        }
    }
    cases
}

/// Run `cases`, returning the failure messages (all of them) and
/// counters for the report.
pub fn run_all(cases: &[Case]) -> (Vec<(Case, String)>, Tally) {
    let mut fails = Vec::new();
    let mut t = Tally::default();
    for c in cases {
        t.cases += 1;
        match check(c) {
            Ok((out, helper_calls)) => {
                t.helper_calls += helper_calls;
                match out.end {
                    End::Exception(Exception::UD) => t.completed += 1,
                    End::Exception(_) => t.faulted += 1,
                    _ => t.other += 1,
                }
            }
            Err(msg) => fails.push((*c, msg)),
        }
    }
    (fails, t)
}

/// Counters of a run of cases.
#[derive(Debug, Default)]
pub struct Tally {
    pub cases: u64,
    /// Ran to the final UD2.
    pub completed: u64,
    /// Ended with a fault of the access.
    pub faulted: u64,
    pub other: u64,
    pub helper_calls: u64,
}

/// A summary of failures: how many, by mode/place/kinds/warm side/
/// placement, then the first few messages.
pub fn report(fails: &[(Case, String)]) -> String {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for (c, _) in fails {
        let key = format!(
            "{} {:?} A={:?} B={:?} warm={:?} {}",
            c.mode.name(),
            c.place,
            c.kind_a,
            c.kind_b,
            c.warm_side(),
            if c.adjacent {
                "neighbouring"
            } else {
                "non-neighbouring"
            }
        );
        *by.entry(key).or_default() += 1;
    }
    let mut s = format!("{} cases failed; by group:\n", fails.len());
    for (k, n) in by.iter().take(40) {
        s += &format!("  {n:5}  {k}\n");
    }
    if by.len() > 40 {
        s += &format!("  ... and {} more groups\n", by.len() - 40);
    }
    s += "first failures:\n";
    for (_, m) in fails.iter().take(8) {
        s += m;
        s += "\n";
    }
    s
}
