//! Case generation with proptest: instruction sequences drawn from every
//! 64-bit-legal encoding (iced-x86 `Code`) of the user-level integer
//! mnemonics the interpreter implements, operands of every kind the
//! encoding allows, and initial states biased to edge values.
//!
//! A case spec is plain numbers so that proptest can shrink it; [`build`]
//! turns it into bytes. Memory operands stay inside the data buffer: the
//! base and index registers of a case are reserved (no instruction of the
//! case may write them), as are RSP (stack instructions aside), RSI/RDI and,
//! when the case has a string instruction, RCX.

mod encode;
mod fp;
mod menu;

use crate::{Case, Regs, CODE_ADDR, DATA_ADDR, DATA_SIZE};
use encode::{encode_all, is_branch};
use iced_x86::{
    Code, Instruction, InstructionInfoFactory, Mnemonic, OpAccess, OpCodeOperandKind as K, OpKind,
    Register,
};
use menu::{templates, Template};
use proptest::prelude::*;

/// One instruction of a case, as shrinkable numbers.
#[derive(Clone, Debug)]
pub struct InsnSpec {
    pub pick: u32,
    pub regs: [u8; 3],
    pub use_mem: bool,
    /// Addressing form: 0 [base], 1 [base+disp], 2 [base+index*s+disp],
    /// 3 [index*s+disp32], 4 [rip+disp32], 5 [abs], 6 32-bit address size.
    pub form: u8,
    pub disp: i16,
    pub scale: u8,
    pub imm: u64,
    pub target: u8,
    /// Redundant segment-override prefix (0 = none) and REP forms.
    pub prefix: u8,
}

/// A whole case, as shrinkable numbers.
#[derive(Clone, Debug)]
pub struct CaseSpec {
    pub insns: Vec<InsnSpec>,
    pub gpr: [u64; 16],
    pub flags: u64,
    pub base: u8,
    pub index: u8,
    pub base_off: u16,
    pub index_val: u8,
    pub data_seed: u64,
    /// 32-bit code run in compatibility mode (else 64-bit code).
    pub compat: bool,
    /// An x87/SSE case (64-bit code): instructions from the floating-point
    /// menu, special values in the data buffer and the initial x87/SSE
    /// state drawn from `fx_seed`.
    pub fp: bool,
    pub fx_seed: u64,
    /// FP cases: leave memory operands unaligned (else 16-byte aligned).
    pub misalign: bool,
}

/// Values near the boundaries of every operand size, and powers of two.
fn edge_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => prop::sample::select(vec![
            0u64, 1, 2, 3, u64::MAX, u64::MAX - 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000,
            0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000,
            0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, 0xffff_ffff_ffff_ff80,
            0xffff_ffff_8000_0000, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40,
        ]),
        1 => (0u32..64).prop_map(|b| 1u64 << b),
        1 => (0u32..64).prop_map(|b| (1u64 << b).wrapping_sub(1)),
        1 => 0u64..0x40,
        2 => any::<u64>(),
    ]
}

fn insn_spec() -> impl Strategy<Value = InsnSpec> {
    (
        any::<u32>(),
        any::<[u8; 3]>(),
        any::<bool>(),
        0u8..7,
        -0x300i16..0x300,
        0u8..4,
        edge_value(),
        any::<u8>(),
        prop_oneof![3 => Just(0u8), 1 => any::<u8>()],
    )
        .prop_map(
            |(pick, regs, use_mem, form, disp, scale, imm, target, prefix)| InsnSpec {
                pick,
                regs,
                use_mem,
                form,
                disp,
                scale,
                imm,
                target,
                prefix,
            },
        )
}

/// The strategy for whole cases: 1–16 instructions.
///
/// `fp`: the fraction of x87/SSE cases (64-bit code). With 0 no value is
/// drawn for them, so integer-only campaigns keep their cases seed for seed.
pub fn case_spec(fp: f64) -> impl Strategy<Value = CaseSpec> {
    let fp_part = if fp > 0.0 {
        (
            prop::bool::weighted(fp.min(1.0)),
            any::<u64>(),
            prop::bool::weighted(0.1),
        )
            .boxed()
    } else {
        Just((false, 0u64, false)).boxed()
    };
    (
        prop::collection::vec(insn_spec(), 1..=16),
        prop::array::uniform16(edge_value()),
        any::<u64>(),
        0u8..6,
        0u8..6,
        0u16..0x100,
        0u8..0x40,
        any::<u64>(),
        prop::bool::weighted(0.25),
        fp_part,
    )
        .prop_map(
            |(
                insns,
                gpr,
                flags,
                base,
                index,
                base_off,
                index_val,
                data_seed,
                compat,
                (fp, fx_seed, misalign),
            )| CaseSpec {
                insns,
                gpr,
                flags,
                base,
                index,
                base_off,
                index_val,
                data_seed,
                compat,
                fp,
                fx_seed,
                misalign,
            },
        )
}

const R8: [Register; 20] = [
    Register::AL,
    Register::CL,
    Register::DL,
    Register::BL,
    Register::AH,
    Register::CH,
    Register::DH,
    Register::BH,
    Register::SPL,
    Register::BPL,
    Register::SIL,
    Register::DIL,
    Register::R8L,
    Register::R9L,
    Register::R10L,
    Register::R11L,
    Register::R12L,
    Register::R13L,
    Register::R14L,
    Register::R15L,
];

/// Register number `n` of `size` bytes; 32-bit code has no REX, so only
/// the first eight (AL..BH for bytes).
fn gpr(size: u32, n: u8, bits: u32) -> Register {
    let regs = if bits == 32 { 8 } else { 16 };
    let n = u32::from(n) % regs;
    let base = match size {
        1 => return R8[(n % if bits == 32 { 8 } else { 20 }) as usize],
        2 => Register::AX,
        4 => Register::EAX,
        _ => Register::RAX,
    };
    // SAFETY-free arithmetic on iced's contiguous register numbering.
    Register::values()
        .nth(base as usize + n as usize)
        .unwrap_or(base)
}

/// Reserved pointer registers of a case (full 64-bit names).
struct Layout {
    bits: u32,
    base: Register,
    index: Register,
    strings: bool,
    /// Keep displacements 16-byte aligned (FP cases).
    align: bool,
    menu: &'static [Template],
}

/// The 32-bit name of a 64-bit register.
fn low32(r: Register) -> Register {
    Register::values()
        .nth(Register::EAX as usize + (r as usize - Register::RAX as usize))
        .unwrap_or(Register::EBX)
}

const BASES: [Register; 6] = [
    Register::RBX,
    Register::RBP,
    Register::R12,
    Register::R13,
    Register::R14,
    Register::R15,
];
const INDEXES: [Register; 6] = [
    Register::R8,
    Register::R9,
    Register::R10,
    Register::R11,
    Register::RDX,
    Register::RAX,
];
/// In 32-bit code only the first eight registers exist.
const BASES32: [Register; 2] = [Register::RBX, Register::RBP];
const INDEXES32: [Register; 2] = [Register::RDX, Register::RAX];
const BASE_VALUE: u64 = DATA_ADDR + 0x800;

impl Layout {
    fn reserved(&self, r: Register) -> bool {
        let r = r.full_register();
        r == self.base
            || r == self.index
            || r == Register::RSI
            || r == Register::RDI
            || r == Register::RSP
            || (self.strings && r == Register::RCX)
    }
}

fn set_memory(ins: &mut Instruction, op: u32, s: &InsnSpec, lay: &Layout, offs: bool) {
    ins.set_op_kind(op, OpKind::Memory);
    let disp = i64::from(if lay.align { s.disp & !0xf } else { s.disp });
    let scale = 1u32 << s.scale;
    let wide = if lay.bits == 32 { 4 } else { 8 };
    let (base, index, displ, size) = if offs {
        (
            Register::None,
            Register::None,
            BASE_VALUE as i64 + disp,
            wide,
        )
    } else if lay.bits == 32 {
        let (b, i) = (low32(lay.base), low32(lay.index));
        match s.form {
            0 => (b, Register::None, 0, 0),
            1 | 4 | 6 => (b, Register::None, disp, 1),
            2 => (b, i, disp, 1),
            3 => (Register::None, i, BASE_VALUE as i64 + disp, 4),
            _ => (Register::None, Register::None, BASE_VALUE as i64 + disp, 4),
        }
    } else {
        match s.form {
            0 => (lay.base, Register::None, 0, 0),
            1 => (lay.base, Register::None, disp, 1),
            2 => (lay.base, lay.index, disp, 1),
            3 => (Register::None, lay.index, BASE_VALUE as i64 + disp, 4),
            4 => (Register::RIP, Register::None, BASE_VALUE as i64 + disp, 8),
            5 => (Register::None, Register::None, BASE_VALUE as i64 + disp, 8),
            // 32-bit address size: the E-form of the base register.
            _ => (low32(lay.base), Register::None, disp, 1),
        }
    };
    ins.set_memory_base(base);
    ins.set_memory_index(index);
    ins.set_memory_index_scale(if index == Register::None { 1 } else { scale });
    ins.set_memory_displacement64(displ as u64);
    ins.set_memory_displ_size(size);
    // Redundant segment overrides: ignored in 64-bit mode (FS/GS are not,
    // and the host's FS base is its TLS block, so they are not used).
    let seg = match s.prefix % 8 {
        1 => Register::ES,
        2 => Register::CS,
        3 => Register::SS,
        4 => Register::DS,
        _ => Register::None,
    };
    ins.set_segment_prefix(seg);
}

/// Build one instruction; `None` if the spec does not give a usable one.
fn build_insn(s: &InsnSpec, lay: &Layout) -> Option<Instruction> {
    let menu = lay.menu;
    let t = menu[s.pick as usize % menu.len()];
    let code = match t {
        Template::Str(op, size) => return build_string(op, size, s, lay.bits),
        Template::Code(c) => c,
    };
    let info = code.op_code();
    let mut ins = Instruction::default();
    ins.set_code(code);
    for (k, kind) in info.op_kinds().iter().enumerate() {
        let op = k as u32;
        let r = s.regs[k.min(2)];
        match *kind {
            K::r8_or_mem
            | K::r16_or_mem
            | K::r32_or_mem
            | K::r64_or_mem
            | K::xmm_or_mem
            | K::mm_or_mem
                if s.use_mem =>
            {
                set_memory(&mut ins, op, s, lay, false)
            }
            K::mem => set_memory(&mut ins, op, s, lay, false),
            K::mem_offs => set_memory(&mut ins, op, s, lay, true),
            K::r8_or_mem | K::r8_reg | K::r8_opcode => reg(&mut ins, op, gpr(1, r, lay.bits)),
            K::r16_or_mem | K::r16_reg | K::r16_rm | K::r16_opcode => {
                reg(&mut ins, op, gpr(2, r, lay.bits))
            }
            K::r32_or_mem | K::r32_reg | K::r32_rm | K::r32_opcode | K::r32_vvvv => {
                reg(&mut ins, op, gpr(4, r, lay.bits))
            }
            K::r64_or_mem | K::r64_reg | K::r64_rm | K::r64_opcode | K::r64_vvvv => {
                reg(&mut ins, op, gpr(8, r, lay.bits))
            }
            K::xmm_or_mem | K::xmm_reg | K::xmm_rm => {
                reg(&mut ins, op, nth(Register::XMM0, r % 16))
            }
            K::mm_or_mem | K::mm_reg | K::mm_rm => reg(&mut ins, op, nth(Register::MM0, r % 8)),
            K::st0 => reg(&mut ins, op, Register::ST0),
            K::sti_opcode => reg(&mut ins, op, nth(Register::ST0, r % 8)),
            K::al => reg(&mut ins, op, Register::AL),
            K::cl => reg(&mut ins, op, Register::CL),
            K::ax => reg(&mut ins, op, Register::AX),
            K::dx => reg(&mut ins, op, Register::DX),
            K::eax => reg(&mut ins, op, Register::EAX),
            K::rax => reg(&mut ins, op, Register::RAX),
            // The target is chosen and set when the case is encoded.
            K::br64_1 | K::br64_4 => ins.set_op_kind(op, OpKind::NearBranch64),
            K::br32_1 | K::br32_4 => ins.set_op_kind(op, OpKind::NearBranch32),
            K::seg_rBX_al => {
                if lay.base != Register::RBX {
                    return None;
                }
                ins.set_op_kind(op, OpKind::Memory);
                ins.set_memory_base(if lay.bits == 32 {
                    Register::EBX
                } else {
                    Register::RBX
                });
                ins.set_memory_index(Register::AL);
                ins.set_memory_index_scale(1);
                ins.set_memory_displ_size(0);
            }
            imm => {
                let (kind, value) = match imm {
                    K::imm8 | K::imm8_const_1 if k == 1 && code == Code::Enterq_imm16_imm8 => {
                        (OpKind::Immediate8_2nd, 0)
                    }
                    K::imm8_const_1 => (OpKind::Immediate8, 1),
                    K::imm8 => (OpKind::Immediate8, s.imm & 0xff),
                    K::imm8sex16 => (OpKind::Immediate8to16, s.imm as i8 as i64 as u64),
                    K::imm8sex32 => (OpKind::Immediate8to32, s.imm as i8 as i64 as u64),
                    K::imm8sex64 => (OpKind::Immediate8to64, s.imm as i8 as i64 as u64),
                    K::imm16 if code == Code::Enterq_imm16_imm8 => {
                        (OpKind::Immediate16, s.imm & 0x38)
                    }
                    K::imm16 => (OpKind::Immediate16, s.imm & 0xffff),
                    K::imm32 => (OpKind::Immediate32, s.imm & 0xffff_ffff),
                    K::imm32sex64 => (OpKind::Immediate32to64, s.imm as i32 as i64 as u64),
                    _ => (OpKind::Immediate64, s.imm),
                };
                ins.set_op_kind(op, kind);
                if kind == OpKind::Immediate8_2nd {
                    ins.set_immediate8_2nd(value as u8);
                } else {
                    ins.try_set_immediate_u64(op, value).ok()?;
                }
            }
        }
    }
    // BT/BTS/BTR/BTC with a memory operand and a register bit offset reach
    // memory up to 2^(size*8)/8 bytes away: take the offset from the index
    // register, whose value is small.
    let bt = matches!(
        code.mnemonic(),
        Mnemonic::Bt | Mnemonic::Bts | Mnemonic::Btr | Mnemonic::Btc
    );
    if bt && ins.op0_kind() == OpKind::Memory && ins.op1_kind() == OpKind::Register {
        let size = ins.op1_register().size() as u32;
        let idx = lay.index as u8 - Register::RAX as u8;
        ins.set_op1_register(gpr(size, idx, lay.bits));
    }
    Some(ins)
}

/// The register `n` places after `base` in iced's numbering.
fn nth(base: Register, n: u8) -> Register {
    Register::values()
        .nth(base as usize + n as usize)
        .unwrap_or(base)
}

fn reg(ins: &mut Instruction, op: u32, r: Register) {
    ins.set_op_kind(op, OpKind::Register);
    ins.set_op_register(op, r);
}

fn build_string(op: u8, size: u32, s: &InsnSpec, bits: u32) -> Option<Instruction> {
    // (16-bit addressing would put SI/DI below the data buffer.)
    let addr = if bits == 64 && s.form.is_multiple_of(2) {
        64
    } else {
        32
    };
    let rep = s.prefix % 3; // 0 none, 1 REP/REPE, 2 REPNE
    use iced_x86::RepPrefixKind as R;
    let rp = match rep {
        0 => R::None,
        1 => R::Repe,
        _ => R::Repne,
    };
    let seg = Register::None;
    let r = match (op, size) {
        (0, 1) => Instruction::with_movsb(addr, seg, rp),
        (0, 2) => Instruction::with_movsw(addr, seg, rp),
        (0, 4) => Instruction::with_movsd(addr, seg, rp),
        (0, _) => Instruction::with_movsq(addr, seg, rp),
        (1, 1) => Instruction::with_cmpsb(addr, seg, rp),
        (1, 2) => Instruction::with_cmpsw(addr, seg, rp),
        (1, 4) => Instruction::with_cmpsd(addr, seg, rp),
        (1, _) => Instruction::with_cmpsq(addr, seg, rp),
        (2, 1) => Instruction::with_stosb(addr, rp),
        (2, 2) => Instruction::with_stosw(addr, rp),
        (2, 4) => Instruction::with_stosd(addr, rp),
        (2, _) => Instruction::with_stosq(addr, rp),
        (3, 1) => Instruction::with_lodsb(addr, seg, rp),
        (3, 2) => Instruction::with_lodsw(addr, seg, rp),
        (3, 4) => Instruction::with_lodsd(addr, seg, rp),
        (3, _) => Instruction::with_lodsq(addr, seg, rp),
        (_, 1) => Instruction::with_scasb(addr, rp),
        (_, 2) => Instruction::with_scasw(addr, rp),
        (_, 4) => Instruction::with_scasd(addr, rp),
        (_, _) => Instruction::with_scasq(addr, rp),
    };
    r.ok()
}

/// Does `ins` write a register the case reserves?
fn writes_reserved(f: &mut InstructionInfoFactory, ins: &Instruction, lay: &Layout) -> bool {
    let stack = ins.code().op_code().is_stack_instruction();
    let explicit_rsp = (0..ins.op_count()).any(|k| {
        ins.op_kind(k) == OpKind::Register && ins.op_register(k).full_register() == Register::RSP
    });
    f.info(ins).used_registers().iter().any(|u| {
        let written = matches!(
            u.access(),
            OpAccess::Write | OpAccess::ReadWrite | OpAccess::CondWrite | OpAccess::ReadCondWrite
        );
        let r = u.register().full_register();
        let implicit_stack = r == Register::RSP && stack && !explicit_rsp;
        let string_ptr =
            is_string(ins) && matches!(r, Register::RSI | Register::RDI | Register::RCX);
        written && lay.reserved(r) && !implicit_stack && !string_ptr
    })
}

fn is_string(ins: &Instruction) -> bool {
    ins.op_kinds().any(|k| {
        matches!(
            k,
            OpKind::MemorySegRSI | OpKind::MemorySegESI | OpKind::MemoryESRDI | OpKind::MemoryESEDI
        )
    })
}

/// Turn a spec into a runnable case. Instructions the spec cannot make
/// valid are dropped; a final NOP is the landing pad for forward branches.
pub fn build(spec: &CaseSpec) -> Case {
    let fp = spec.fp && !spec.compat;
    let bits = if spec.compat { 32 } else { 64 };
    let menu = if fp { fp::templates() } else { templates(bits) };
    let strings = spec
        .insns
        .iter()
        .any(|s| matches!(menu[s.pick as usize % menu.len()], Template::Str(..)));
    let (bases, indexes): (&[Register], &[Register]) = if bits == 32 {
        (&BASES32, &INDEXES32)
    } else {
        (&BASES, &INDEXES)
    };
    let lay = Layout {
        bits,
        base: bases[spec.base as usize % bases.len()],
        index: indexes[spec.index as usize % indexes.len()],
        strings,
        align: fp && !spec.misalign,
        menu,
    };
    let n = spec.insns.len();
    let mut f = InstructionInfoFactory::new();
    // (instruction, index of its branch target in the spec, if a branch)
    let mut list: Vec<(Instruction, Option<usize>)> = Vec::with_capacity(n);
    for (i, s) in spec.insns.iter().enumerate() {
        let Some(ins) = build_insn(s, &lay) else {
            continue;
        };
        if writes_reserved(&mut f, &ins, &lay) {
            continue;
        }
        let target = is_branch(&ins).then(|| i + 1 + s.target as usize % (n - i));
        list.push((ins, target));
    }
    let code = encode_all(list, n, bits);
    let mut gpr = spec.gpr;
    let (base_off, index_val) = if lay.align {
        (spec.base_off & !0xf, spec.index_val & !0xf)
    } else {
        (spec.base_off, spec.index_val)
    };
    gpr[lay.base as usize - Register::RAX as usize] = BASE_VALUE + u64::from(base_off);
    gpr[lay.index as usize - Register::RAX as usize] = u64::from(index_val);
    gpr[6] = DATA_ADDR + 0x1000; // RSI
    gpr[7] = DATA_ADDR + 0x1800; // RDI
    gpr[4] = DATA_ADDR + 0x1e00; // RSP
    if strings {
        gpr[1] &= 0xf; // RCX: small counts
    }
    let mut data = vec![0u8; DATA_SIZE];
    let mut x = spec.data_seed | 1;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    if fp {
        fp::data(spec.data_seed, &mut data);
    }
    use cpu_model::flags as fl;
    let flags = (spec.flags & (fl::STATUS | fl::DF)) | fl::IF | fl::FIXED;
    Case {
        bits,
        code,
        regs: Regs {
            gpr,
            rflags: flags,
            rip: CODE_ADDR,
        },
        data,
        fx: if fp {
            fp::initial_state(spec.fx_seed)
        } else {
            crate::initial_fx()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_covers_the_integer_set() {
        let t = templates(64);
        assert!(t.len() > 500, "only {} templates", t.len());
        for m in [
            Mnemonic::Add,
            Mnemonic::Shld,
            Mnemonic::Cmpxchg16b,
            Mnemonic::Pdep,
            Mnemonic::Jne,
        ] {
            assert!(
                t.iter()
                    .any(|x| matches!(x, Template::Code(c) if c.mnemonic() == m)),
                "{m:?} missing"
            );
        }
    }

    #[test]
    fn fp_menu_covers_x87_and_sse() {
        let t = fp::templates();
        for m in [
            Mnemonic::Fld,
            Mnemonic::Fdivr,
            Mnemonic::Fucomip,
            Mnemonic::Fcmovnbe,
            Mnemonic::Fldcw,
            Mnemonic::Addps,
            Mnemonic::Cvttsd2si,
            Mnemonic::Ucomisd,
            Mnemonic::Shufps,
            Mnemonic::Ldmxcsr,
            Mnemonic::Dpps,
            Mnemonic::Blendvps,
            Mnemonic::Pextrw,
            Mnemonic::Pinsrq,
            Mnemonic::Movntdqa,
            Mnemonic::Ptest,
            Mnemonic::Pmovzxbq,
            Mnemonic::Roundsd,
            Mnemonic::Pcmpestri64,
            Mnemonic::Pcmpistrm,
            Mnemonic::Pcmpgtq,
            Mnemonic::Haddps,
            Mnemonic::Movddup,
            Mnemonic::Lddqu,
            Mnemonic::Pshufb,
            Mnemonic::Palignr,
        ] {
            assert!(
                t.iter()
                    .any(|x| matches!(x, Template::Code(c) if c.mnemonic() == m)),
                "{m:?} missing"
            );
        }
        // SSSE3's MMX forms too.
        for c in [Code::Pshufb_mm_mmm64, Code::Palignr_mm_mmm64_imm8] {
            assert!(
                t.iter().any(|x| matches!(x, Template::Code(k) if *k == c)),
                "{c:?} missing"
            );
        }
    }
}
