//! An independent reader for the tests, written from the specifications
//! (ACPI 6.5 chapters 5 and 20, MP 1.4 chapter 4) and sharing nothing with
//! the builders: it finds the RSDP by scanning memory as Linux does, follows
//! the pointers, checks every length and checksum, and parses the subset
//! of AML the DSDT uses into a flat namespace. (The rust-osdev `acpi` and
//! `aml` crates would be the natural readers, but both need a nightly
//! compiler, and `acpi`'s handler is `unsafe` to implement.)

use super::FirmwareTables;
use std::collections::BTreeMap;

/// Guest memory as the built blobs fill it.
pub struct Memory<'a>(pub &'a FirmwareTables);

impl Memory<'_> {
    /// `len` bytes at `addr`, which must lie inside one blob.
    pub fn bytes(&self, addr: u64, len: usize) -> &[u8] {
        for blob in self.0.blobs() {
            if addr >= blob.addr && addr + len as u64 <= blob.end() {
                let start = (addr - blob.addr) as usize;
                return &blob.bytes[start..start + len];
            }
        }
        panic!("{len} bytes at {addr:#x} are in no table blob");
    }

    pub fn u32_at(&self, addr: u64) -> u32 {
        u32::from_le_bytes(self.bytes(addr, 4).try_into().unwrap())
    }

    /// Scan 16-byte boundaries of `range` for an RSDP with good checksums.
    pub fn scan_rsdp(&self, range: std::ops::Range<u64>) -> Option<u64> {
        range.step_by(16).find(|&a| {
            self.0.blobs().any(|b| a >= b.addr && a + 36 <= b.end())
                && self.bytes(a, 8) == b"RSD PTR "
                && checksum(self.bytes(a, 20)) == 0
                && checksum(self.bytes(a, 36)) == 0
        })
    }

    /// The table at `addr`, its length and checksum checked.
    pub fn table(&self, addr: u64) -> Table<'_> {
        let len = self.u32_at(addr + 4) as usize;
        assert!(len >= 36, "table at {addr:#x} is {len} bytes");
        let bytes = self.bytes(addr, len);
        assert_eq!(checksum(bytes), 0, "checksum of {:?}", sig(bytes));
        Table { bytes }
    }

    /// The tables the XSDT points to, and the RSDT's pointers, which must
    /// be the same.
    pub fn root_tables(&self, rsdp: u64) -> Vec<(String, u64)> {
        let r = self.bytes(rsdp, 36);
        assert_eq!(r[15], 2, "RSDP revision");
        assert_eq!(u32::from_le_bytes(r[20..24].try_into().unwrap()), 36);
        let rsdt = self.table(u32::from_le_bytes(r[16..20].try_into().unwrap()).into());
        let xsdt = self.table(u64::from_le_bytes(r[24..32].try_into().unwrap()));
        assert_eq!(rsdt.signature(), "RSDT");
        assert_eq!(xsdt.signature(), "XSDT");
        let from_x: Vec<u64> = xsdt
            .body()
            .chunks(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let from_r: Vec<u64> = rsdt
            .body()
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()).into())
            .collect();
        assert_eq!(from_x, from_r, "RSDT and XSDT disagree");
        from_x
            .into_iter()
            .map(|a| (self.table(a).signature(), a))
            .collect()
    }
}

pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

fn sig(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..4]).into_owned()
}

pub struct Table<'a> {
    pub bytes: &'a [u8],
}

impl Table<'_> {
    pub fn signature(&self) -> String {
        sig(self.bytes)
    }
    pub fn revision(&self) -> u8 {
        self.bytes[8]
    }
    pub fn body(&self) -> &[u8] {
        &self.bytes[36..]
    }
    pub fn u8(&self, off: usize) -> u8 {
        self.bytes[off]
    }
    pub fn u16(&self, off: usize) -> u16 {
        u16::from_le_bytes(self.bytes[off..off + 2].try_into().unwrap())
    }
    pub fn u32(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.bytes[off..off + 4].try_into().unwrap())
    }
    pub fn u64(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.bytes[off..off + 8].try_into().unwrap())
    }
    /// A generic address structure at `off`: (space, bit width, address).
    pub fn gas(&self, off: usize) -> (u8, u8, u64) {
        (self.bytes[off], self.bytes[off + 1], self.u64(off + 4))
    }
    /// The MADT's interrupt controller structures (type, bytes).
    pub fn madt_entries(&self) -> Vec<(u8, &[u8])> {
        let mut out = Vec::new();
        let mut rest = &self.bytes[44..];
        while !rest.is_empty() {
            let len = rest[1] as usize;
            assert!(len >= 2 && len <= rest.len(), "MADT entry length {len}");
            out.push((rest[0], &rest[..len]));
            rest = &rest[len..];
        }
        out
    }
}

/// An AML data object, as far as the DSDT uses them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(u64),
    Str(String),
    Buffer(Vec<u8>),
    Package(Vec<Value>),
}

/// Parse a term list into `names`: every Name and Device, by full path.
pub fn parse_aml(aml: &[u8], names: &mut BTreeMap<String, Option<Value>>) {
    let mut p = Parser { aml, pos: 0 };
    p.term_list(aml.len(), "\\", names);
}

struct Parser<'a> {
    aml: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.aml[self.pos];
        self.pos += 1;
        b
    }

    fn le(&mut self, n: usize) -> u64 {
        let v = (0..n).fold(0u64, |v, i| {
            v | u64::from(self.aml[self.pos + i]) << (8 * i)
        });
        self.pos += n;
        v
    }

    /// PkgLength (§20.2.4): returns the end offset it covers.
    fn pkg_end(&mut self) -> usize {
        let start = self.pos;
        let lead = self.byte();
        let follow = usize::from(lead >> 6);
        let mut len = if follow == 0 {
            usize::from(lead & 0x3f)
        } else {
            usize::from(lead & 0x0f)
        };
        for i in 0..follow {
            len |= usize::from(self.byte()) << (4 + 8 * i);
        }
        let end = start + len;
        assert!(end <= self.aml.len(), "PkgLength past the table");
        end
    }

    /// NameString (§20.2.2): root and parent prefixes, dual and multi names.
    fn name(&mut self) -> String {
        let mut s = String::new();
        while self.aml[self.pos] == b'\\' || self.aml[self.pos] == b'^' {
            s.push(self.byte() as char);
        }
        let segs = match self.aml[self.pos] {
            0x2e => {
                self.pos += 1;
                2
            }
            0x2f => {
                self.pos += 1;
                usize::from(self.byte())
            }
            0 => {
                self.pos += 1;
                0
            }
            _ => 1,
        };
        let parts: Vec<String> = (0..segs)
            .map(|_| {
                let seg = &self.aml[self.pos..self.pos + 4];
                assert!(
                    seg.iter()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_'),
                    "bad name segment {seg:?}"
                );
                self.pos += 4;
                String::from_utf8_lossy(seg).into_owned()
            })
            .collect();
        s + &parts.join(".")
    }

    fn data(&mut self) -> Value {
        match self.byte() {
            0x00 => Value::Int(0),
            0x01 => Value::Int(1),
            0xff => Value::Int(u64::MAX),
            0x0a => Value::Int(self.le(1)),
            0x0b => Value::Int(self.le(2)),
            0x0c => Value::Int(self.le(4)),
            0x0e => Value::Int(self.le(8)),
            0x0d => {
                let start = self.pos;
                while self.byte() != 0 {}
                Value::Str(String::from_utf8_lossy(&self.aml[start..self.pos - 1]).into_owned())
            }
            0x11 => {
                let end = self.pkg_end();
                let Value::Int(size) = self.data() else {
                    panic!("buffer size is not an integer")
                };
                let bytes = self.aml[self.pos..end].to_vec();
                assert_eq!(bytes.len() as u64, size, "buffer size");
                self.pos = end;
                Value::Buffer(bytes)
            }
            0x12 => {
                let end = self.pkg_end();
                let count = self.byte();
                let items: Vec<Value> = (0..count).map(|_| self.data()).collect();
                assert_eq!(self.pos, end, "package length");
                Value::Package(items)
            }
            op => panic!("unexpected data opcode {op:#x} at {}", self.pos - 1),
        }
    }

    fn term_list(&mut self, end: usize, scope: &str, names: &mut BTreeMap<String, Option<Value>>) {
        let join = |scope: &str, name: &str| {
            if name.starts_with('\\') {
                name.to_string()
            } else if scope == "\\" {
                format!("\\{name}")
            } else {
                format!("{scope}.{name}")
            }
        };
        while self.pos < end {
            match self.byte() {
                0x08 => {
                    let path = join(scope, &self.name());
                    let value = self.data();
                    assert!(
                        names.insert(path.clone(), Some(value)).is_none(),
                        "{path} twice"
                    );
                }
                0x10 => {
                    let end = self.pkg_end();
                    let path = join(scope, &self.name());
                    self.term_list(end, &path, names);
                }
                0x5b if self.aml[self.pos] == 0x82 => {
                    self.pos += 1;
                    let end = self.pkg_end();
                    let path = join(scope, &self.name());
                    names.insert(path.clone(), None);
                    self.term_list(end, &path, names);
                }
                op => panic!("unexpected opcode {op:#x} at {}", self.pos - 1),
            }
        }
        assert_eq!(self.pos, end, "term list overruns its package");
    }
}

/// A resource template's descriptors (§6.4): (tag byte, body bytes); the
/// end tag must come last with a zero (or correct) checksum.
pub fn resources(buffer: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let tag = buffer[i];
        let (len, head) = if tag & 0x80 != 0 {
            (
                usize::from(u16::from_le_bytes([buffer[i + 1], buffer[i + 2]])),
                3,
            )
        } else {
            (usize::from(tag & 7), 1)
        };
        let body = buffer[i + head..i + head + len].to_vec();
        i += head + len;
        if tag == 0x79 {
            assert_eq!(i, buffer.len(), "end tag is not last");
            assert!(body[0] == 0 || checksum(buffer) == 0, "resource checksum");
            return out;
        }
        out.push((tag, body));
    }
}
