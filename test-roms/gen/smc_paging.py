"""smc_paging.py: generates smc-paging.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Self-modifying code with 32-bit paging, the cases a translator keyed on
physical pages must get right:
- an instruction (MOV EAX, imm32) crossing a page boundary (0x60ffd, code
  pages A at 0x60000 and B at 0x61000), executed;
- its immediate changed through a second linear alias of page B (0x70000)
  and re-executed;
- page B remapped to another physical page C (PTE change + INVLPG, SDM Vol.
  3 4.10.4.1), so the same linear code changes without any write to it;
- the first half changed through the ordinary mapping;
- a loop that rewrites, through the alias, the code it calls each round;
- REP MOVSB writing a new routine over old code through an alias of page
  A, then executed through the original mapping;
- code that patches the immediate of the instruction right after it in the
  same page (no jump in between).

Bochs 2.7 disagrees on "remap second page" (and so on "map back"): it keeps
executing the old bytes of page B, because its decoded-instruction cache is
keyed on the physical address where an instruction starts (page A) and the
remapping of page B is not seen. QEMU follows the SDM (Vol. 3 4.10.4.1:
after INVLPG the processor uses the new translation, also for instruction
fetches), so its log is the expected one; run-bochs.sh reports DIFF for this
ROM.
"""

r = Rom("smc-paging.asm", DOC)
PTE = lambda lin: f"PT + ({lin:#x} >> 12) * 4"
r.raw([
    f"mov dword [{PTE(0x60000)}], 0x50000 | 3",
    f"mov dword [{PTE(0x61000)}], 0x51000 | 3",
    f"mov dword [{PTE(0x70000)}], 0x51000 | 3",
    f"mov dword [{PTE(0x71000)}], 0x50000 | 3",
    # code: 0x60ffd: b8 11 22 | 33 44 ; 0x61002: c3
    "mov dword [0x50ffc], 0x2211b890", "mov dword [0x51000], 0x00c34433",
    # page C: the second half, different bytes
    "mov dword [0x52000], 0x00c3bbaa",
    "mov eax, PD", "mov cr3, eax",
    "mov eax, cr0", "or eax, 0x80000000", "mov cr0, eax",
])
A = ("eax",)
t = r.test
t("crossing insn", ["mov eax, 0x60ffd", "call eax"], regs=A, mask=0)
t("patch via alias", ["mov byte [0x70000], 0x99", "mov eax, 0x60ffd", "call eax"], regs=A,
  mask=0)
t("remap second page", [f"mov dword [{PTE(0x61000)}], 0x52000 | 3", "invlpg [0x61000]",
                        "mov eax, 0x60ffd", "call eax"], regs=A, mask=0)
t("patch first half", ["mov byte [0x60ffe], 0x77", "mov eax, 0x60ffd", "call eax"], regs=A,
  mask=0)
t("map back", [f"mov dword [{PTE(0x61000)}], 0x51000 | 3", "invlpg [0x61000]",
               "mov eax, 0x60ffd", "call eax"], regs=A, mask=0)
t("loop patching via alias", ["xor ebx, ebx", "xor ecx, ecx", ".l:", "mov [0x70000], cl",
                              "mov eax, 0x60ffd", "call eax", "add ebx, eax", "rol ebx, 3",
                              "inc ecx", "cmp ecx, 40", "jb .l"], regs=("ebx",), mask=0)
t("rep movsb over code via alias",
  ["mov eax, 0x60100", "mov dword [0x50100], 0x000011b8", "mov dword [0x50104], 0x90c30000",
   "call eax", "mov ebx, eax",
   "mov esi, ROMBASE + .newcode", "mov edi, 0x71100", "mov ecx, .newend - .newcode",
   "rep movsb", "mov eax, 0x60100", "call eax", "jmp .done",
   ".newcode:", "mov eax, 0x1234", "shl eax, 4", "ret", ".newend:", ".done:"],
  regs=("eax", "ebx"), mask=0)
t("patch next insn, same page",
  ["mov esi, ROMBASE + .p", "mov edi, 0x60200", "mov ecx, .pend - .p", "rep movsb",
   "mov eax, 0x60200", "call eax", "jmp .pdone",
   ".p:", "mov byte [0x60200 + (.imm - .p)], 0x42", "mov eax, 0", ".imm equ $ - 4", "ret",
   ".pend:", ".pdone:"], regs=A, mask=0)
r.extra = 'msg_hello: db `self-modifying code with paging\\n`, 0\n'
sys.stdout.write(r.emit())
