//! The case space: modes, kinds of page, places of the boundary, the
//! warm side, and `Case`, with its byte encoding (the generator of the
//! property test and the re-run key) and its `Display`.

use super::bus::{far_a, far_b, Phys, PAGE, STRIP, STRIP_KINDS};
use super::form::{forms, Acc, Emit, FORMS, L, P, R};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Real mode, no paging: the pages are the physical strip.
    Real,
    /// 32-bit protected mode, 2-level paging, data segments based at
    /// `DATA_BASE`.
    Prot32,
    /// 64-bit mode, 4-level paging.
    Long64,
}

pub(crate) const MODES: [Mode; 3] = [Mode::Real, Mode::Prot32, Mode::Long64];

/// Base of DS and SS in 32-bit protected mode (offsets wrap past 4 GiB to
/// reach the low pages).
pub(super) const DATA_BASE: u64 = 0x1000;

/// The kind of a page as an access sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
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
pub(crate) enum Place {
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
    pub(crate) fn places(self) -> &'static [Place] {
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
    pub(crate) fn kinds(self) -> &'static [Kind] {
        match self {
            Mode::Real => REAL_KINDS,
            _ => PAGED_KINDS,
        }
    }
    pub(super) fn bit(self) -> u8 {
        match self {
            Mode::Real => R,
            Mode::Prot32 => P,
            Mode::Long64 => L,
        }
    }
    /// The access sizes some form has in this mode, ascending.
    pub(crate) fn sizes(self) -> Vec<u32> {
        let mut v: Vec<u32> = FORMS
            .iter()
            .filter(|f| f.modes & self.bit() != 0)
            .map(|f| f.size)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    pub(super) fn name(self) -> &'static str {
        match self {
            Mode::Real => "real",
            Mode::Prot32 => "prot32",
            Mode::Long64 => "long64",
        }
    }
}

/// Which page the instruction runs on before the boundary access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Warm {
    B,
    A,
    None,
}

const WARMS: [Warm; 3] = [Warm::B, Warm::A, Warm::None];

/// Runs of the instruction on the warm page: the first fills the
/// translator's TLB, the second copies the entry into the instruction's
/// micro slot, the third hits it.
pub(super) const WARM_RUNS: u32 = 3;

/// One case. Build with `Case::from_bytes` (any bytes give a valid case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Case {
    pub(crate) mode: Mode,
    pub(crate) place: Place,
    /// Index into `FORMS`.
    pub(crate) form: usize,
    /// First byte of the access relative to the boundary (-16..=15).
    pub(crate) offset: i32,
    pub(crate) kind_a: Kind,
    pub(crate) kind_b: Kind,
    /// A and B on physically neighbouring pages (always in real mode).
    pub(crate) adjacent: bool,
    /// The page asked for; see `Case::warm_side` for the one used.
    pub(crate) warm: Warm,
    pub(crate) cpl3: bool,
    pub(crate) wp: bool,
}

/// Bytes `Case::from_bytes` reads.
pub(crate) const CASE_BYTES: usize = 11;

fn pick<T: Copy + PartialEq>(list: &[T], b: u8) -> T {
    list[usize::from(b) % list.len()]
}

fn index<T: PartialEq>(list: &[T], x: &T) -> u8 {
    list.iter().position(|y| y == x).expect("in the list") as u8
}

impl Case {
    /// A valid case from arbitrary bytes (missing bytes read as 0): the
    /// generator of the property test and of a future fuzz target.
    pub(crate) fn from_bytes(data: &[u8]) -> Case {
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
    pub(crate) fn to_bytes(self) -> [u8; CASE_BYTES] {
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

    pub(crate) fn hex(self) -> String {
        self.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn from_hex(s: &str) -> Option<Case> {
        let s = s.trim();
        let bytes: Option<Vec<u8>> = (0..s.len() / 2)
            .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        Some(Case::from_bytes(&bytes?))
    }

    pub(crate) fn size(&self) -> u32 {
        FORMS[self.form].size
    }

    pub(crate) fn crosses(&self) -> bool {
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
    pub(super) fn warm_side(&self) -> Warm {
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
    pub(super) fn pages(&self) -> (u64, u64) {
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
    pub(super) fn frames(&self) -> (u64, u64) {
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
