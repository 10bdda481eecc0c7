//! The native executor against hand-checked results.

use oracle::native::run_native;
use oracle::{Case, Regs, CODE_ADDR, DATA_ADDR, DATA_SIZE};

fn case(code: &[u8], setup: impl FnOnce(&mut Regs)) -> Case {
    let mut regs = Regs {
        rflags: 0x202,
        rip: CODE_ADDR,
        ..Regs::default()
    };
    regs.gpr[4] = DATA_ADDR + 0x1000;
    setup(&mut regs);
    Case {
        code: code.to_vec(),
        regs,
        data: vec![0; DATA_SIZE],
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
