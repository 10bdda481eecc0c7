"""decode_long.py: generates decode-long.asm (see longgen.py)."""
import sys
from longgen import Rom

DOC = """
Decoder edge cases in 64-bit mode (SDM Vol. 2 2.1-2.2): the 15-byte
instruction length limit (#GP(0) at 16 bytes), a REX prefix that is not
immediately before the opcode (ignored), two REX prefixes (only the last
counts), REX.W overriding 66, REX turning AH..BH into SPL..DIL, 90 as NOP
but 87 C0 (XCHG EAX, EAX) and 41 90 (XCHG EAX, R8D) zero-extending, F3 90
(PAUSE), multi-byte NOPs (0F 1F /0), the address-size prefix 67 (32-bit
effective addresses, upper register bits ignored) and FS/GS overrides
versus ignored CS/DS/ES/SS overrides.

QEMU applies a REX.W that is followed by a 66 prefix (48 66 01 D8 as a
64-bit ADD); SDM Vol. 2 2.2.1: a REX prefix not immediately before the
opcode is ignored, so this is a 16-bit ADD (Bochs agrees).
decode-long.qemu-fix.patch makes that line the SDM-correct one.
"""

r = Rom("decode-long.asm", DOC)
t = r.test
M = 0xaaaaaaaaaaaaaaaa
R2 = ("rax", "rbx")
t("14 prefixes + nop (15 bytes)", ["db 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, "
                                   "0x66, 0x66, 0x66, 0x66, 0x66, 0x90", "mov eax, 1"],
  regs=("rax",), mask=0, setup={"rax": 0})
t("15 prefixes + nop (16 bytes)", ["db 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, "
                                   "0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90", "mov eax, 1"],
  regs=("rax",), mask=0, setup={"rax": 0})
t("rex then 66 (rex ignored)", ["db 0x48, 0x66, 0x01, 0xd8"], regs=R2, mask=0x8d5,
  setup={"rax": 0xffffffffffffffff, "rbx": 1})
t("66 then rex.w (64-bit)", ["db 0x66, 0x48, 0x01, 0xd8"], regs=R2, mask=0x8d5,
  setup={"rax": 0xffffffffffffffff, "rbx": 1})
t("two rex (last counts)", ["db 0x48, 0x40, 0x01, 0xd8"], regs=R2, mask=0x8d5,
  setup={"rax": 0xffffffffffffffff, "rbx": 1})
t("mov al, ah / rex: mov al, spl", ["mov rsp, 0x7f00", "db 0x88, 0xe0", "mov rbx, rax",
                                    "db 0x40, 0x88, 0xe0", "mov rsp, STACK0"], regs=R2, mask=0,
  setup={"rax": 0x1234})
t("90 is nop", ["nop"], regs=("rax",), mask=0, setup={"rax": M})
t("87 c0 zero-extends", ["db 0x87, 0xc0"], regs=("rax",), mask=0, setup={"rax": M})
t("41 90 = xchg eax, r8d", ["db 0x41, 0x90"], regs=("rax", "r8"), mask=0,
  setup={"rax": M, "r8": 0x1111111122222222})
t("pause", ["pause"], regs=("rax",), mask=0, setup={"rax": M})
t("multi-byte nops", ["db 0x0f, 0x1f, 0x00", "db 0x0f, 0x1f, 0x44, 0x00, 0x00",
                      "db 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00", "mov ebx, 2"],
  regs=R2, mask=0, setup={"rax": M})
t("67: 32-bit address", ["mov qword [0x600], 0x600d", "mov rax, 0x100000600",
                         "db 0x67", "mov rbx, [rax]"], regs=R2, mask=0)
t("67: lea wraps", ["mov rax, 0xfffffff0", "db 0x67", "lea rbx, [rax + 0x20]"], regs=R2, mask=0)
t("ds/es/ss/cs overrides ignored", ["mov qword [0x600], 0x1111", "mov ax, 0x28", "mov es, ax",
                                    "db 0x26", "mov rbx, [0x600]", "db 0x2e", "mov rcx, [0x600]",
                                    "mov ax, 0x18", "mov es, ax"], regs=("rbx", "rcx"), mask=0)
r.raw(["mov ecx, 0xc0000100", "mov eax, 0x1000", "xor edx, edx", "wrmsr",
       "mov qword [0x1600], 0xf5f5"])
t("fs override uses fs.base", ["mov rbx, [fs:0x600]"], regs=("rbx",), mask=0)
r.raw(["mov ecx, 0xc0000100", "xor eax, eax", "xor edx, edx", "wrmsr"])
r.extra = 'msg_hello: db `decoder edge cases (64-bit)\\n`, 0\n'
sys.stdout.write(r.emit())
