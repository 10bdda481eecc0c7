//! Image builders and readers for the loader tests: synthetic kernels
//! written byte by byte from the specifications (independently of the
//! structures the loaders use), and a small random generator.

#![allow(dead_code)]

use boot::{BootPlan, MemoryLayout};

pub fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
pub fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
pub fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
pub fn get16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}
pub fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
pub fn get64(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

/// Recognizable bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(7).wrapping_add(u32::from(seed)) as u8)
        .collect()
}

/// A bzImage's setup header fields (Documentation/arch/x86/boot.rst).
#[derive(Clone, Debug)]
pub struct BzSpec {
    pub protocol: u16,
    pub setup_sects: u8,
    pub kernel_len: usize,
    /// Bytes after the kernel (a signature, as Debian's signed kernels).
    pub trailer: usize,
    pub loadflags: u8,
    pub relocatable: bool,
    pub kernel_alignment: u32,
    pub xloadflags: u16,
    pub cmdline_size: u32,
    pub initrd_addr_max: u32,
    pub pref_address: u64,
    pub init_size: u32,
}

impl Default for BzSpec {
    fn default() -> Self {
        BzSpec {
            protocol: 0x020f,
            setup_sects: 4,
            kernel_len: 0x3000,
            trailer: 0x5c0,
            loadflags: 0x01,
            relocatable: true,
            kernel_alignment: 0x20_0000,
            xloadflags: 0x1,
            cmdline_size: 2047,
            initrd_addr_max: 0x7fff_ffff,
            pref_address: 0x100_0000,
            init_size: 0x80_0000,
        }
    }
}

impl BzSpec {
    pub fn setup_len(&self) -> usize {
        (usize::from(if self.setup_sects == 0 {
            4
        } else {
            self.setup_sects
        }) + 1)
            * 512
    }

    pub fn build(&self) -> Vec<u8> {
        let setup_len = self.setup_len();
        let mut b = vec![0u8; setup_len];
        b[0x1f1] = self.setup_sects;
        put32(&mut b, 0x1f4, (self.kernel_len / 16) as u32);
        put16(&mut b, 0x1fe, 0xaa55);
        b[0x200] = 0xeb; // jmp short over the header, to 0x268
        b[0x201] = 0x66;
        b[0x202..0x206].copy_from_slice(b"HdrS");
        put16(&mut b, 0x206, self.protocol);
        put16(&mut b, 0x20e, 0x1234); // kernel_version: must reach the zero page
        b[0x211] = self.loadflags;
        put32(&mut b, 0x214, 0x10_0000);
        put32(&mut b, 0x22c, self.initrd_addr_max);
        put32(&mut b, 0x230, self.kernel_alignment);
        b[0x234] = u8::from(self.relocatable);
        put16(&mut b, 0x236, self.xloadflags);
        put32(&mut b, 0x238, self.cmdline_size);
        put64(&mut b, 0x250, 0xdead_beef); // setup_data: the loader must clear it
        put64(&mut b, 0x258, self.pref_address);
        put32(&mut b, 0x260, self.init_size);
        b.extend(pattern(self.kernel_len, 1));
        b.extend(vec![0x5a; self.trailer]);
        b
    }
}

/// One PT_LOAD segment: (vaddr, paddr, file bytes, memsz).
pub type Seg = (u64, u64, Vec<u8>, u64);

/// An ELF64 x86-64 executable (ELF-64 Object File Format 1.5).
pub fn elf64(entry: u64, segs: &[Seg]) -> Vec<u8> {
    let phoff = 64;
    let data_start = phoff + 56 * segs.len();
    let mut b = vec![0u8; data_start];
    b[0..4].copy_from_slice(b"\x7fELF");
    b[4] = 2; // ELFCLASS64
    b[5] = 1; // little-endian
    b[6] = 1;
    put16(&mut b, 16, 2); // ET_EXEC
    put16(&mut b, 18, 62); // EM_X86_64
    put32(&mut b, 20, 1);
    put64(&mut b, 24, entry);
    put64(&mut b, 32, phoff as u64);
    put16(&mut b, 52, 64);
    put16(&mut b, 54, 56);
    put16(&mut b, 56, segs.len() as u16);
    put16(&mut b, 58, 64);
    for (i, (vaddr, paddr, data, memsz)) in segs.iter().enumerate() {
        let off = b.len();
        b.extend_from_slice(data);
        let ph = phoff + 56 * i;
        put32(&mut b, ph, 1); // PT_LOAD
        put32(&mut b, ph + 4, 5);
        put64(&mut b, ph + 8, off as u64);
        put64(&mut b, ph + 16, *vaddr);
        put64(&mut b, ph + 24, *paddr);
        put64(&mut b, ph + 32, data.len() as u64);
        put64(&mut b, ph + 40, *memsz);
        put64(&mut b, ph + 48, 0x1000);
    }
    b
}

/// An ELF32 executable for `machine` (System V ABI, i386 supplement).
/// `prefix` goes right after the program headers, before the segments'
/// data; the first segment's data starts at the returned offset.
pub fn elf32(machine: u16, entry: u32, segs: &[Seg]) -> Vec<u8> {
    let phoff = 52;
    let data_start = phoff + 32 * segs.len();
    let mut b = vec![0u8; data_start];
    b[0..4].copy_from_slice(b"\x7fELF");
    b[4] = 1; // ELFCLASS32
    b[5] = 1;
    b[6] = 1;
    put16(&mut b, 16, 2);
    put16(&mut b, 18, machine);
    put32(&mut b, 20, 1);
    put32(&mut b, 24, entry);
    put32(&mut b, 28, phoff as u32);
    put16(&mut b, 40, 52);
    put16(&mut b, 42, 32);
    put16(&mut b, 44, segs.len() as u16);
    put16(&mut b, 46, 40);
    for (i, (vaddr, paddr, data, memsz)) in segs.iter().enumerate() {
        let off = b.len();
        b.extend_from_slice(data);
        let ph = phoff + 32 * i;
        put32(&mut b, ph, 1);
        put32(&mut b, ph + 4, off as u32);
        put32(&mut b, ph + 8, *vaddr as u32);
        put32(&mut b, ph + 12, *paddr as u32);
        put32(&mut b, ph + 16, data.len() as u32);
        put32(&mut b, ph + 20, *memsz as u32);
        put32(&mut b, ph + 24, 5);
        put32(&mut b, ph + 28, 0x1000);
    }
    b
}

/// A Multiboot header (magic, flags, checksum, then the five address
/// fields when given).
pub fn multiboot_header(flags: u32, addresses: Option<[u32; 5]>) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend(0x1bad_b002u32.to_le_bytes());
    h.extend(flags.to_le_bytes());
    h.extend(
        0u32.wrapping_sub(0x1bad_b002)
            .wrapping_sub(flags)
            .to_le_bytes(),
    );
    if let Some(a) = addresses {
        for v in a {
            h.extend(v.to_le_bytes());
        }
    }
    h
}

/// `len` bytes of guest memory at `addr` as the plan fills it.
pub fn read(plan: &BootPlan<'_>, addr: u64, len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| plan.byte_at(addr + i)).collect()
}

/// The NUL-terminated string at `addr`.
pub fn read_cstr(plan: &BootPlan<'_>, addr: u64) -> String {
    let mut s = Vec::new();
    let mut a = addr;
    loop {
        let c = plan.byte_at(a);
        if c == 0 || s.len() > 1 << 16 {
            break;
        }
        s.push(c);
        a += 1;
    }
    String::from_utf8(s).unwrap()
}

/// What every successful plan must satisfy: blobs inside usable RAM, none
/// overlapping, and the entry point inside one of them.
pub fn check_plan_invariants(plan: &BootPlan<'_>, layout: &MemoryLayout) {
    let map = layout.e820();
    let mut ranges: Vec<(u64, u64, &str)> = plan
        .blobs
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| (b.addr, b.addr + b.len(), b.name.as_str()))
        .collect();
    for &(start, end, name) in &ranges {
        assert!(
            map.iter()
                .any(|e| e.kind == boot::E820Kind::Ram && e.addr <= start && end <= e.end()),
            "{name} {start:#x}..{end:#x} outside usable RAM"
        );
    }
    ranges.sort();
    for w in ranges.windows(2) {
        assert!(w[0].1 <= w[1].0, "{} overlaps {}", w[0].2, w[1].2);
    }
    let rip = plan.entry.rip;
    assert!(
        plan.blobs
            .iter()
            .any(|b| rip >= b.addr && rip < b.addr + b.len()),
        "entry {rip:#x} in no blob"
    );
}

/// xorshift64*: deterministic randomness for the mutation tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}
