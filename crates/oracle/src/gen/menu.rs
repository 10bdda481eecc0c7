//! The generator's menu: every 64-bit- or 32-bit-legal encoding (iced-x86
//! `Code`) of the user-level integer mnemonics xlat implements, whose
//! operand kinds the generator can fill, plus the string instructions.

use iced_x86::{Code, EncodingKind, Mnemonic, OpCodeOperandKind as K};
use std::sync::OnceLock;

/// Mnemonics the generator draws from (those the interpreter implements
/// and CPUID advertises, that user code may run).
pub(super) const MNEMONICS: &[Mnemonic] = &[
    Mnemonic::Add,
    Mnemonic::Adc,
    Mnemonic::Sub,
    Mnemonic::Sbb,
    Mnemonic::Cmp,
    Mnemonic::And,
    Mnemonic::Or,
    Mnemonic::Xor,
    Mnemonic::Test,
    Mnemonic::Inc,
    Mnemonic::Dec,
    Mnemonic::Neg,
    Mnemonic::Not,
    Mnemonic::Shl,
    Mnemonic::Sal,
    Mnemonic::Shr,
    Mnemonic::Sar,
    Mnemonic::Rol,
    Mnemonic::Ror,
    Mnemonic::Rcl,
    Mnemonic::Rcr,
    Mnemonic::Shld,
    Mnemonic::Shrd,
    Mnemonic::Mul,
    Mnemonic::Imul,
    Mnemonic::Div,
    Mnemonic::Idiv,
    Mnemonic::Bt,
    Mnemonic::Bts,
    Mnemonic::Btr,
    Mnemonic::Btc,
    Mnemonic::Bsf,
    Mnemonic::Bsr,
    Mnemonic::Popcnt,
    Mnemonic::Lzcnt,
    Mnemonic::Tzcnt,
    Mnemonic::Andn,
    Mnemonic::Bextr,
    Mnemonic::Blsi,
    Mnemonic::Blsmsk,
    Mnemonic::Blsr,
    Mnemonic::Bzhi,
    Mnemonic::Mulx,
    Mnemonic::Pdep,
    Mnemonic::Pext,
    Mnemonic::Rorx,
    Mnemonic::Sarx,
    Mnemonic::Shlx,
    Mnemonic::Shrx,
    Mnemonic::Adcx,
    Mnemonic::Adox,
    Mnemonic::Mov,
    Mnemonic::Movzx,
    Mnemonic::Movsx,
    Mnemonic::Movsxd,
    Mnemonic::Xchg,
    Mnemonic::Cmpxchg,
    Mnemonic::Cmpxchg8b,
    Mnemonic::Cmpxchg16b,
    Mnemonic::Xadd,
    Mnemonic::Bswap,
    Mnemonic::Movbe,
    Mnemonic::Lea,
    Mnemonic::Cbw,
    Mnemonic::Cwde,
    Mnemonic::Cdqe,
    Mnemonic::Cwd,
    Mnemonic::Cdq,
    Mnemonic::Cqo,
    Mnemonic::Lahf,
    Mnemonic::Sahf,
    Mnemonic::Clc,
    Mnemonic::Stc,
    Mnemonic::Cmc,
    Mnemonic::Cld,
    Mnemonic::Std,
    Mnemonic::Seto,
    Mnemonic::Setno,
    Mnemonic::Setb,
    Mnemonic::Setae,
    Mnemonic::Sete,
    Mnemonic::Setne,
    Mnemonic::Setbe,
    Mnemonic::Seta,
    Mnemonic::Sets,
    Mnemonic::Setns,
    Mnemonic::Setp,
    Mnemonic::Setnp,
    Mnemonic::Setl,
    Mnemonic::Setge,
    Mnemonic::Setle,
    Mnemonic::Setg,
    Mnemonic::Cmovo,
    Mnemonic::Cmovno,
    Mnemonic::Cmovb,
    Mnemonic::Cmovae,
    Mnemonic::Cmove,
    Mnemonic::Cmovne,
    Mnemonic::Cmovbe,
    Mnemonic::Cmova,
    Mnemonic::Cmovs,
    Mnemonic::Cmovns,
    Mnemonic::Cmovp,
    Mnemonic::Cmovnp,
    Mnemonic::Cmovl,
    Mnemonic::Cmovge,
    Mnemonic::Cmovle,
    Mnemonic::Cmovg,
    Mnemonic::Nop,
    Mnemonic::Push,
    Mnemonic::Pop,
    Mnemonic::Pushfq,
    Mnemonic::Popfq,
    Mnemonic::Enter,
    Mnemonic::Jo,
    Mnemonic::Jno,
    Mnemonic::Jb,
    Mnemonic::Jae,
    Mnemonic::Je,
    Mnemonic::Jne,
    Mnemonic::Jbe,
    Mnemonic::Ja,
    Mnemonic::Js,
    Mnemonic::Jns,
    Mnemonic::Jp,
    Mnemonic::Jnp,
    Mnemonic::Jl,
    Mnemonic::Jge,
    Mnemonic::Jle,
    Mnemonic::Jg,
    Mnemonic::Jmp,
    Mnemonic::Call,
    Mnemonic::Loop,
    Mnemonic::Loope,
    Mnemonic::Loopne,
    Mnemonic::Jrcxz,
    Mnemonic::Jecxz,
    Mnemonic::Xlatb,
    // Outside 64-bit mode only (run natively in compatibility mode).
    Mnemonic::Daa,
    Mnemonic::Das,
    Mnemonic::Aaa,
    Mnemonic::Aas,
    Mnemonic::Aam,
    Mnemonic::Aad,
    Mnemonic::Pusha,
    Mnemonic::Pushad,
    Mnemonic::Popa,
    Mnemonic::Popad,
    Mnemonic::Bound,
    Mnemonic::Into,
    Mnemonic::Arpl,
    Mnemonic::Pushf,
    Mnemonic::Pushfd,
    Mnemonic::Popf,
    Mnemonic::Popfd,
    Mnemonic::Jcxz,
];

/// One entry of the generator's menu.
#[derive(Clone, Copy, Debug)]
pub(super) enum Template {
    Code(Code),
    /// String instruction: which (0 MOVS, 1 CMPS, 2 STOS, 3 LODS, 4 SCAS), size.
    Str(u8, u32),
}

/// The menu for `bits`-bit code (64, or 32 for compatibility mode).
pub(super) fn templates(bits: u32) -> &'static [Template] {
    static T64: OnceLock<Vec<Template>> = OnceLock::new();
    static T32: OnceLock<Vec<Template>> = OnceLock::new();
    let cell = if bits == 32 { &T32 } else { &T64 };
    cell.get_or_init(|| menu(bits))
}

fn menu(bits: u32) -> Vec<Template> {
    let mut v: Vec<Template> = Code::values()
        .filter(|c| {
            let info = c.op_code();
            info.is_instruction()
                    && if bits == 32 { info.mode32() } else { info.mode64() }
                    && matches!(c.encoding(), EncodingKind::Legacy | EncodingKind::VEX)
                    && MNEMONICS.contains(&c.mnemonic())
                    // MOVSXD with a 16/32-bit destination: Intel reads a
                    // 16/32-bit source, AMD a 32-bit one (so a host of the
                    // other vendor disagrees on faults and results).
                    && !matches!(c, Code::Movsxd_r16_rm16 | Code::Movsxd_r32_rm32)
                    // Far transfers load CS; indirect ones jump to data.
                    && !c.is_jmp_far()
                    && !c.is_call_far()
                    && !c.is_jmp_far_indirect()
                    && !c.is_call_far_indirect()
                    && !c.is_jmp_near_indirect()
                    && !c.is_call_near_indirect()
                    && info.op_kinds().iter().all(|k| supported(*k, bits))
        })
        .map(Template::Code)
        .collect();
    for op in 0..5u8 {
        for size in [1, 2, 4, 8] {
            if size < 8 || bits == 64 {
                v.push(Template::Str(op, size));
            }
        }
    }
    v
}

fn supported(k: K, bits: u32) -> bool {
    let branch = if bits == 32 {
        matches!(k, K::br32_1 | K::br32_4)
    } else {
        matches!(k, K::br64_1 | K::br64_4)
    };
    branch
        || matches!(
            k,
            K::r8_or_mem
                | K::r16_or_mem
                | K::r32_or_mem
                | K::r64_or_mem
                | K::r8_reg
                | K::r8_opcode
                | K::r16_reg
                | K::r16_rm
                | K::r16_opcode
                | K::r32_reg
                | K::r32_rm
                | K::r32_opcode
                | K::r32_vvvv
                | K::r64_reg
                | K::r64_rm
                | K::r64_opcode
                | K::r64_vvvv
                | K::mem
                | K::mem_offs
                | K::imm8
                | K::imm8_const_1
                | K::imm8sex16
                | K::imm8sex32
                | K::imm8sex64
                | K::imm16
                | K::imm32
                | K::imm32sex64
                | K::imm64
                | K::al
                | K::cl
                | K::ax
                | K::dx
                | K::eax
                | K::rax
                | K::seg_rBX_al
        )
}
