"""events_real.py: generates events-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode debug events and invalid opcodes through IVT handlers:
- #DB single-step: POPF setting TF (the trap follows the next instruction),
  INT n clears TF (no trap inside the handler; the trap after its IRET is
  on the instruction after INT), POP SS suppressing the trap for one
  instruction, the POPF that clears TF still trapping. The #DB handler
  prints "#DB ip=<pushed IP> f=<pushed FLAGS> dr6=<DR6 & 0x400f>" and
  returns (pushed TF kept).
- a DR1 data-write breakpoint in real mode (the #DB handler then resumes
  after the test and clears DR7). No instruction breakpoint: QEMU 7.2
  crashes (segmentation fault) on a DR0 execute breakpoint in real mode;
  events-prot tests DR0 in protected mode;
- INT n frame (pushed FLAGS with IF and TF, CS, IP) and IRET restoring FLAGS;
- #UD in real mode: LAR, LSL, VERR, ARPL, SYSCALL (EFER.SCE = 0), UD0,
  LOCK on a non-lockable instruction and on a register destination;
  SYSENTER with SYSENTER_CS = 0 raises #GP(0).

QEMU accepts LOCK MOV [mem], AX; events-real.qemu-fix.patch makes that #UD
as in Bochs and the SDM (Vol. 2 "LOCK": the prefix is allowed only on the
listed read-modify-write instructions with a memory destination, "otherwise
an invalid-opcode exception (#UD) is generated").
"""

r = Rom("events-real.asm", DOC)
r.raw(["mov word [1 * 4], h_db", "mov word [1 * 4 + 2], 0xf000",
       "mov word [13 * 4], h_gp", "mov word [13 * 4 + 2], 0xf000",
       "mov word [0x40 * 4], h_int40", "mov word [0x40 * 4 + 2], 0xf000",
       "mov byte [DBMODE], 1"])
t = r.test
t("tf single-step", ["pushf", "pop ax", "or ax, 0x100", "push ax", "popf", "mov bx, 1",
                     "add bx, 2", "pushf", "pop ax", "and ax, ~0x100", "push ax", "popf",
                     "mov cx, 5"], regs=("ebx", "ecx"), mask=0x08d5)
t("tf over int", ["pushf", "pop ax", "or ax, 0x100", "push ax", "popf", "int 0x40",
                  "mov bx, 7", "pushf", "pop ax", "and ax, ~0x100", "push ax", "popf"],
  regs=("ebx",), mask=0x08d5)
t("tf pop ss shadow", ["pushf", "pop ax", "or ax, 0x100", "push ax", "popf", "push ss",
                       "pop ss", "mov bx, 8", "mov cx, 9", "pushf", "pop ax", "and ax, ~0x100",
                       "push ax", "popf"], regs=("ebx", "ecx"), mask=0x08d5)
r.raw(["mov byte [DBMODE], 0"])
t("dr1 write", ["mov eax, 0x620", "mov dr1, eax", "mov eax, 0x00d00004", "mov dr7, eax",
                "mov word [0x622], 0x1234", "mov bx, 3"], regs=("ebx",), mask=0)
t("int40 frame", ["mov bx, 0", "int 0x40", "mov bx, 4"], regs=("ebx",), f_in=0x0cd7)
t("iret restores flags", ["pushf", "push cs", "push word .ret", "push word 0x08c3", "popf",
                          "iret", ".ret:"], mask=0x0fd5, f_in=0x0002)
for name, code in [("lar", ["lar ax, bx"]), ("lsl", ["lsl ax, bx"]), ("verr", ["verr bx"]),
                   ("arpl", ["db 0x63, 0xd8"]), ("syscall", ["syscall"]),
                   ("ud0", ["db 0x0f, 0xff, 0xc0"]), ("lock nop", ["db 0xf0", "nop"]),
                   ("lock add reg", ["db 0xf0", "add ax, bx"]), ("lock mov mem", ["db 0xf0", "mov [0x600], ax"]),
                   ("sysenter cs=0", ["mov ecx, 0x174", "xor eax, eax", "xor edx, edx",
                                      "wrmsr", "sysenter"])]:
    t(f"{name}", code, mask=0)
r.extra = r"""
DBMODE equ 0x0610
; #DB: print IP, FLAGS, DR6; in single-step mode return, else resume after
; the test with DR7 cleared
h_db:
    push bp
    mov bp, sp
    push eax
    push si
    PRINT16 msg_db
    mov ax, [bp + 2]
    call hex16
    PRINT16 msg_fl
    mov ax, [bp + 6]
    and ax, 0x0fd5
    call hex16
    PRINT16 msg_dr6
    mov eax, dr6
    and ax, 0x400f
    call hex16
    xor eax, eax
    mov dr6, eax
    call newline16
    cmp byte [DBMODE], 0
    jne .ret
    mov dr7, eax
    mov ax, [RESUME]
    mov [bp + 2], ax
.ret:
    pop si
    pop eax
    pop bp
    iret
h_gp:
    push si
    mov si, msg_gp
    jmp fault
h_int40:
    push bp
    mov bp, sp
    push ax
    push si
    PRINT16 msg_i40
    mov ax, [bp + 2]
    call hex16
    PRINT16 msg_fl
    mov ax, [bp + 6]
    and ax, 0x0fd5
    call hex16
    pushf
    pop ax
    PRINT16 msg_hf
    and ax, 0x0fd5
    call hex16
    call space16
    pop si
    pop ax
    pop bp
    iret
msg_db:  db "#DB ip=", 0
msg_gp:  db "#GP ip=", 0
msg_i40: db "int40 ip=", 0
msg_fl:  db " f=", 0
msg_hf:  db " handler f=", 0
msg_dr6: db " dr6=", 0
"""
sys.stdout.write(r.emit())
