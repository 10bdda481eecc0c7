"""repfault_prot.py: generates repfault-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Faults in the middle of REP string instructions (32-bit protected mode,
32-bit paging): a REP MOVSB/MOVSD/STOSD/LODSD/CMPSB/SCASW that runs into a
not-present page faults with ECX, ESI and EDI describing the iterations
already done (SDM Vol. 2 "REP/REPE/REPZ/REPNE/REPNZ": a fault leaves the
registers as they were after the last completed iteration, and the
instruction restarts from there), CR2 = the first byte of the missing page,
EIP = the string instruction (with its prefixes); after the page is
mapped, the restarted instruction finishes the job. Both directions (DF =
0 and 1) and a source-side and a destination-side fault. The buffers are
printed as checksums.
"""

r = Rom("repfault-prot.asm", DOC)
NP = 0x42000            # not present at first
# fill 0x40000-0x43000 with a pattern first, then unmap the middle page
r.raw(["mov edi, 0x40000", "mov ecx, 0xc00", "mov eax, 0x03020100", ".f:",
       "stosd", "add eax, 0x04040404", "loop .f"])
r.raw([
    f"mov dword [PT + ({NP:#x} >> 12) * 4], 0",
    "mov eax, PD", "mov cr3, eax",
    "mov eax, cr0", "or eax, 0x80000000", "mov cr0, eax",
])
REGS = ("eax", "ecx", "esi", "edi")


def case(name, setup, ins, fi=0x0002):
    # fault, then map the page, restart at the same instruction, unmap again
    r.test(name + " (fault)", [ins],
           regs=REGS, mask=0x08d5, f_in=fi, setup=setup)
    r.raw([f"mov dword [PT + ({NP:#x} >> 12) * 4], {NP:#x} | 3", f"invlpg [{NP:#x}]",
           "mov [0x6f0], ecx"])
    r.test(name + " (restart)", ["mov ecx, [0x6f0]", ins, "call sum_bufs"],
           regs=REGS, mask=0x08d5, f_in=fi, setup={})
    r.raw([f"mov dword [PT + ({NP:#x} >> 12) * 4], 0", f"invlpg [{NP:#x}]"])


case("rep movsb dst", {"esi": 0x41000, "edi": 0x41ff0, "ecx": 0x40,
                       "eax": 0}, "rep movsb")
case("rep movsd src", {"esi": 0x41fe0, "edi": 0x40000, "ecx": 0x20, "eax": 0},
     "rep movsd")
case("rep stosd dst", {"edi": 0x41ff8, "ecx": 8, "eax": 0xa5a5a5a5, "esi": 0}, "rep stosd")
case("std rep stosd", {"edi": 0x42008, "ecx": 8, "eax": 0x5a5a5a5a, "esi": 0},
     "rep stosd", fi=0x0402)
case("rep lodsd", {"esi": 0x41ff0, "ecx": 8, "eax": 0, "edi": 0}, "rep lodsd")
case("repe cmpsb", {"esi": 0x41ff8, "edi": 0x41ff8, "ecx": 0x20, "eax": 0}, "repe cmpsb")
case("repne scasw", {"edi": 0x41ff0, "ecx": 0x20, "eax": 0xffff, "esi": 0}, "repne scasw")
r.extra = r"""
; sum_bufs: EAX = sum of the dwords at 0x40000-0x40100 and 0x41f00-0x42100
sum_bufs:
    push esi
    push ecx
    xor eax, eax
    mov esi, 0x40000
.a: add eax, [esi]
    rol eax, 1
    add esi, 4
    cmp esi, 0x40100
    jb .a
    mov esi, 0x41f00
.b: add eax, [esi]
    rol eax, 1
    add esi, 4
    cmp esi, 0x42100
    jb .b
    pop ecx
    pop esi
    ret
msg_hello: db `faults inside REP string instructions\n`, 0
"""
sys.stdout.write(r.emit())
