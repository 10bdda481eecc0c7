//! One description per instruction encoding (iced-x86 `Code`), read by
//! both engines: the interpreter dispatches through its handler, the
//! translator decides from its flow whether an instruction may sit inside
//! a block and whether the block ends after it, and both see which flags
//! it reads and writes.
//!
//! Handlers are registered per mnemonic (one handler serves every operand
//! form and size, see `operand`) or, where encodings of one mnemonic need
//! different code (MMX and SSE forms of the same mnemonic, x87 memory
//! formats), per `Code`, which takes precedence. The flow and flag facts
//! come from iced-x86's own tables, so they cannot drift from the
//! decoder; the few facts iced does not have (which instructions are
//! software interrupts, HLT's pause) are stated once here.

use super::Handler;
use iced_x86::{Code, FlowControl, Instruction, Mnemonic};

/// What an instruction does to the flow of execution, as the engines need
/// to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Goes on at the next instruction (unless it faults).
    Next,
    /// May go elsewhere, change CS or the mode, or stop (branches, far
    /// transfers, RET/IRET, SYSCALL/SYSRET, HLT, UD0-2): a translated
    /// block ends after it.
    Transfer,
    /// INT n, INT3, INTO, INT1: the interrupt is delivered by
    /// `Cpu::step` (its delivery needs the interpreter's internals), so a
    /// translated block ends before one.
    SoftwareInterrupt,
}

/// The description of one encoding.
#[derive(Clone, Copy, Debug)]
pub struct Desc {
    pub code: Code,
    pub mnemonic: Mnemonic,
    /// The interpreter's handler; `None`: not implemented (#UD, or #NM
    /// where CR0 hands the unit to the OS; counted).
    pub handler: Option<Handler>,
    pub flow: Flow,
    /// RFLAGS bits read (iced-x86 `RflagsBits`).
    pub flags_read: u32,
    /// RFLAGS bits written: modified, set, cleared or left undefined.
    pub flags_written: u32,
}

/// The descriptions of every `Code`, indexed by `Code as usize`.
#[derive(Debug)]
pub struct Descs {
    all: Vec<Desc>,
}

impl Descs {
    /// Descriptions with no handlers yet.
    pub(super) fn new() -> Descs {
        let all = Code::values()
            .map(|code| {
                let mut ins = Instruction::new();
                ins.set_code(code);
                Desc {
                    code,
                    mnemonic: code.mnemonic(),
                    handler: None,
                    flow: flow_of(&ins),
                    flags_read: ins.rflags_read(),
                    flags_written: ins.rflags_modified(),
                }
            })
            .collect();
        Descs { all }
    }

    /// The handler of every encoding of mnemonic `m`. Registering a
    /// mnemonic twice is a programming error (debug assertion).
    pub(super) fn set(&mut self, m: Mnemonic, h: Handler) {
        let mut any = false;
        for d in self.all.iter_mut().filter(|d| d.mnemonic == m) {
            debug_assert!(d.handler.is_none(), "{m:?} registered twice");
            d.handler = Some(h);
            any = true;
        }
        debug_assert!(any, "{m:?} has no encoding");
    }

    /// The handler of one encoding (replacing its mnemonic's): for
    /// mnemonics whose encodings are different instructions (the string
    /// MOVSD/CMPSD and the SSE2 ones) or need different code.
    pub(super) fn set_code(&mut self, code: Code, h: Handler) {
        self.all[code as usize].handler = Some(h);
    }

    pub fn get(&self, code: Code) -> &Desc {
        &self.all[code as usize]
    }
}

fn flow_of(ins: &Instruction) -> Flow {
    let m = ins.mnemonic();
    if matches!(
        m,
        Mnemonic::Int | Mnemonic::Int3 | Mnemonic::Into | Mnemonic::Int1
    ) {
        Flow::SoftwareInterrupt
    } else if ins.flow_control() != FlowControl::Next || m == Mnemonic::Hlt {
        Flow::Transfer
    } else {
        Flow::Next
    }
}

#[cfg(test)]
mod tests {
    use super::super::{desc, implements};
    use super::*;
    use iced_x86::RflagsBits;

    #[test]
    fn flows() {
        assert_eq!(desc(Code::Add_rm32_r32).flow, Flow::Next);
        assert_eq!(desc(Code::Jne_rel8_64).flow, Flow::Transfer);
        assert_eq!(desc(Code::Retnq).flow, Flow::Transfer);
        assert_eq!(desc(Code::Hlt).flow, Flow::Transfer);
        assert_eq!(desc(Code::Syscall).flow, Flow::Transfer);
        assert_eq!(desc(Code::Mov_cr_r64).flow, Flow::Next);
        for c in [Code::Int_imm8, Code::Int3, Code::Into, Code::Int1] {
            assert_eq!(desc(c).flow, Flow::SoftwareInterrupt, "{c:?}");
        }
    }

    #[test]
    fn flags() {
        let adc = desc(Code::Adc_rm32_r32);
        assert_eq!(adc.flags_read, RflagsBits::CF);
        assert!(adc.flags_written & RflagsBits::OF != 0);
        assert_eq!(desc(Code::Mov_r32_rm32).flags_written, 0);
        assert!(desc(Code::Cmovne_r64_rm64).flags_read & RflagsBits::ZF != 0);
    }

    #[test]
    fn handlers_cover_every_encoding_of_an_implemented_mnemonic() {
        for code in Code::values() {
            let d = desc(code);
            assert_eq!(d.code, code);
            if code != Code::INVALID && implements(d.mnemonic) {
                assert!(d.handler.is_some(), "{code:?}");
            }
        }
        // SSE3 and SSSE3 are in, but not MONITOR/MWAIT (CPUID does not
        // advertise MONITOR).
        assert!(desc(Code::Addsubps_xmm_xmmm128).handler.is_some());
        assert!(desc(Code::Palignr_mm_mmm64_imm8).handler.is_some());
        for code in [Code::Monitord, Code::Monitorq, Code::Mwait] {
            assert!(desc(code).handler.is_none(), "{code:?}");
        }
    }
}
