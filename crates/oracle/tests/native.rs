//! The native executor against hand-checked results.

use oracle::native::run_native;
use oracle::{Case, Regs, CODE_ADDR, DATA_ADDR, DATA_SIZE};

fn case(code: &[u8], setup: impl FnOnce(&mut Regs)) -> Case {
    case_bits(64, code, setup)
}

fn case_bits(bits: u32, code: &[u8], setup: impl FnOnce(&mut Regs)) -> Case {
    let mut regs = Regs {
        rflags: 0x202,
        rip: CODE_ADDR,
        ..Regs::default()
    };
    regs.gpr[4] = DATA_ADDR + 0x1000;
    setup(&mut regs);
    Case {
        bits,
        code: code.to_vec(),
        regs,
        data: vec![0; DATA_SIZE],
        fx: oracle::initial_fx(),
    }
}

#[test]
fn runs_code_and_reports_faults() {
    let cases = [
        // add rax, rbx
        case(&[0x48, 0x01, 0xd8], |r| {
            r.gpr[0] = u64::MAX;
            r.gpr[3] = 2;
        }),
        // div rcx with rcx = 0: #DE at the DIV, RAX unchanged.
        case(&[0x48, 0xff, 0xc0, 0x48, 0xf7, 0xf1], |r| r.gpr[0] = 7),
        // ud2
        case(&[0x0f, 0x0b], |_| {}),
        // mov [rbx+8], rax; push rax
        case(&[0x48, 0x89, 0x43, 0x08, 0x50], |r| {
            r.gpr[0] = 0x1122_3344_5566_7788;
            r.gpr[3] = DATA_ADDR;
        }),
        // std; stc
        case(&[0xfd, 0xf9], |_| {}),
    ];
    let out = run_native(&cases).expect("native run");
    assert_eq!(out.len(), 5);
    assert_eq!(out[0].fault, None);
    assert_eq!(out[0].regs.gpr[0], 1);
    assert_eq!(out[0].regs.rflags & 1, 1, "carry out of the add");
    assert_eq!(out[0].regs.rip, CODE_ADDR + 3);
    assert_eq!(out[1].fault, Some(0));
    assert_eq!(out[1].regs.gpr[0], 8);
    assert_eq!(out[1].regs.rip, CODE_ADDR + 3);
    assert_eq!(out[2].fault, Some(6));
    assert_eq!(out[3].fault, None);
    assert_eq!(&out[3].data[8..16], &0x1122_3344_5566_7788u64.to_le_bytes());
    assert_eq!(
        &out[3].data[0xff8..0x1000],
        &0x1122_3344_5566_7788u64.to_le_bytes()
    );
    assert_eq!(out[3].regs.gpr[4], DATA_ADDR + 0xff8);
    assert_eq!(out[4].regs.rflags & 0x401, 0x401);
}

#[test]
fn runs_32_bit_code_in_compatibility_mode() {
    let cases = [
        // pushad: eight dwords, ESP - 32 (invalid in 64-bit mode).
        case_bits(32, &[0x60], |r| r.gpr[0] = 0xdead_beef),
        // mov [ebx], al: a data access through DS in compatibility mode.
        case_bits(32, &[0x88, 0x03], |r| {
            r.gpr[0] = 0x5a;
            r.gpr[3] = DATA_ADDR + 0x10;
        }),
        // aam 0: #DE.
        case_bits(32, &[0xd4, 0x00], |_| {}),
        // aaa with AL = 0x0a: AX = 0x0a + 0x106 = 0x0110, then AL &= 0x0f:
        // AX = 0x0100, CF = AF = 1.
        case_bits(32, &[0x37], |r| r.gpr[0] = 0x0a),
        // a 64-bit case after them still runs in 64-bit mode: dec eax is
        // REX in 64-bit code, so 48 ff c8 = dec rax.
        case(&[0x48, 0xff, 0xc8], |r| r.gpr[0] = 1),
    ];
    let out = run_native(&cases).expect("native run");
    assert_eq!(out[0].fault, None);
    assert_eq!(
        out[0].regs.gpr[4] & 0xffff_ffff,
        (DATA_ADDR + 0x1000 - 32) & 0xffff_ffff
    );
    assert_eq!(
        &out[0].data[0x1000 - 4..0x1000],
        &0xdead_beefu32.to_le_bytes()
    );
    assert_eq!(out[1].fault, None);
    assert_eq!(out[1].data[0x10], 0x5a);
    assert_eq!(out[2].fault, Some(0));
    assert_eq!(out[2].regs.rip, CODE_ADDR);
    assert_eq!(out[3].regs.gpr[0] & 0xffff, 0x0100);
    assert_eq!(out[3].regs.rflags & 0x11, 0x11);
    assert_eq!(out[4].regs.gpr[0], 0);
}
