"""paging_pae.py: generates paging-pae.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
PAE paging (CR4.PAE = 1) in 32-bit protected mode: 4 KiB and 2 MiB pages,
the execute-disable bit (EFER.NXE = 1: instruction fetches from an XD page
fault with error code bit 4 (I/D), data reads are allowed; EFER.NXE = 0:
bit 63 is reserved, so any access faults with error code bit 3 (RSVD)),
accessed/dirty bits of a 2 MiB PDE, CR0.WP, user/supervisor faults from
CPL 3 (including a user fetch from an XD page), and PDPTE reserved bits
(SDM Vol. 3 4.4.1: a MOV to CR3 whose PDPTEs set P and a reserved bit
raises #GP(0)).

QEMU is wrong in two places; paging-pae.qemu-fix.patch turns its log into
the SDM-correct one (Bochs's, which xlat also matches):
- a reserved-bit #PF has error code 0x8 in QEMU; SDM Vol. 3 4.7: the P bit
  of the error code is 0 only if a P flag was 0 somewhere in the walk, and
  here every entry is present: 0x9 (P | RSVD);
- QEMU does not check the PDPTEs on MOV to CR3; SDM Vol. 3 4.4.1: a
  present PDPTE with a reserved bit (here bit 1) makes MOV CR3 raise #GP(0).
"""

PDPT, PDIR, PTAB = 0x12000, 0x13000, 0x14000
r = Rom("paging-pae.asm", DOC)


def pte(a):
    return f"{PTAB:#x} + ({a:#x} >> 12) * 8"


r.raw([
    # PT: identity 0-2 MiB, user RW
    f"mov edi, {PTAB:#x}", "mov eax, 0x007", "mov ecx, 512", ".fill:",
    "mov [edi], eax", "mov dword [edi + 4], 0", "add edi, 8", "add eax, 0x1000", "loop .fill",
    f"mov edi, {PDIR:#x}", "mov ecx, 1024", "xor eax, eax", "rep stosd",
    f"mov dword [{PDIR:#x}], {PTAB:#x} | 0x007",
    f"mov dword [{PDIR:#x} + 8], 0x200000 | 0x087",          # 2 MiB page at 2 MiB
    f"mov dword [{PDIR:#x} + 16], 0x400000 | 0x087",         # 2 MiB XD page at 4 MiB
    f"mov dword [{PDIR:#x} + 20], 0x80000000",
    f"mov edi, {PDPT:#x}", "mov ecx, 8", "xor eax, eax", "rep stosd",
    f"mov dword [{PDPT:#x}], {PDIR:#x} | 1",
    f"mov dword [{pte(0x40000)}], 0x40000 | 0x007",           # XD user page
    f"mov dword [{pte(0x40000)} + 4], 0x80000000",
    f"mov dword [{pte(0x41000)}], 0x41000 | 0x005",           # user read-only
    f"mov dword [{pte(0x42000)}], 0x42000 | 0x003",           # supervisor
    f"mov dword [{pte(0x43000)}], 0",                         # not present
    "mov dword [0x40000], 0x90c3c3c3",                        # ret
    "mov dword [0x400000], 0x90c3c3c3",
    "mov eax, cr4", "or eax, 0x20", "mov cr4, eax",
    f"mov eax, {PDPT:#x}", "mov cr3, eax",
    "mov eax, cr0", "or eax, 0x80000000", "mov cr0, eax",
])
A = ("eax",)
t = r.test
t("pae on", ["mov eax, cr4", "and eax, 0x20", "mov ebx, [0x1234]"], regs=A, mask=0)
t("nxe=0: xd bit reserved, read", ["mov eax, [0x40000]"], regs=A, mask=0,
  setup={"eax": 0})
t("nxe=0: xd bit reserved, 2m", ["mov eax, [0x400000]"], regs=A, mask=0, setup={"eax": 0})
r.raw(["mov ecx, 0xc0000080", "rdmsr", "or eax, 0x800", "wrmsr"])
t("nxe=1: read xd page", ["mov eax, [0x40000]"], regs=A, mask=0)
t("nxe=1: fetch xd page", ["mov eax, 0x40000", "call eax"], mask=0)
t("nxe=1: fetch xd 2m page", ["mov eax, 0x400000", "call eax"], mask=0)
t("np read", ["mov eax, [0x43008]"], mask=0)
t("np fetch", ["mov eax, 0x43000", "call eax"], mask=0)
r.raw([f"and dword [{PDIR:#x} + 8], ~0x60", "invlpg [0x200000]"])
t("2m page a/d", ["mov eax, [0x200000]", f"mov ebx, [{PDIR:#x} + 8]",
                  "mov dword [0x201000], 0x5555aaaa", f"mov ecx, [{PDIR:#x} + 8]",
                  "mov eax, [0x201000]"], regs=("eax", "ebx", "ecx"), mask=0)
t("ro write wp0", ["mov dword [0x41000], 0x77"], mask=0)
r.raw(["mov eax, cr0", "or eax, 0x10000", "mov cr0, eax"])
t("ro write wp1", ["mov dword [0x41000], 0x88", "mov eax, [0x41000]"], regs=A, mask=0)


def to_ring3(i):
    return ["mov ax, 0x23", "mov ds, ax", "mov es, ax", "push dword 0x23",
            "push dword STACK3", "push dword 0x002", "push dword 0x1b",
            f"push dword ROMBASE + .u{i}", "iretd", f".u{i}:"]


t("user read super", to_ring3(0) + ["mov eax, [0x42000]"], mask=0)
t("user write ro", to_ring3(1) + ["mov [0x41000], eax"], mask=0)
t("user fetch xd", to_ring3(2) + ["mov eax, 0x40000", "call eax"], mask=0)
t("user read 2m super", to_ring3(3) + ["mov eax, [0x200000]", "int 0x80"], mask=0)
t("pdpte reserved bit", [f"mov dword [{PDPT:#x} + 24], {PDIR:#x} | 3", f"mov eax, {PDPT:#x}",
                         "mov cr3, eax", "mov eax, 0x1111"], regs=A, mask=0)
r.raw([f"mov dword [{PDPT:#x} + 24], 0", f"mov eax, {PDPT:#x}", "mov cr3, eax"])
t("cr3 after", ["mov eax, cr3"], regs=A, mask=0)
r.extra = 'msg_hello: db `PAE paging\\n`, 0\n'
sys.stdout.write(r.emit())
