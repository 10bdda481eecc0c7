"""paging_long.py: generates paging-long.asm (see longgen.py)."""
import sys
from longgen import Rom

DOC = """
4-level paging in 64-bit mode, on a test address L = 0x8000000000 (PML4
index 1) with its own PDPT, PD and PT: the A bits set at every level by a
read and the D bit by a write (read back), a not-present entry at each of
the four levels (#PF, error code, CR2), a supervisor entry at the PML4
level seen from CPL 3, a read-only PDPTE with CR0.WP = 1, XD in a PDE
(fetch faults with I/D, reads do not), a reserved bit (PS in a PML4E:
RSVD), 2 MiB pages (D bit), and INVLPG after a PTE change. 1 GiB pages are
not used: QEMU's default CPU model does not advertise them (CPU-model
dependent).

QEMU gives the reserved-bit #PF error code 0x8; paging-long.qemu-fix.patch
makes it 0x9 (Bochs and the SDM, Vol. 3 4.7: the P bit of the error code
is 0 only when a P flag in the walk was 0; every entry here is present).
"""

L = 0x8000000000
PDPT2, PD2, PT2 = 0x24000, 0x25000, 0x26000
r = Rom("paging-long.asm", DOC)
r.raw([
    f"mov edi, {PDPT2:#x}", "mov ecx, 3 * 1024", "xor eax, eax", "rep stosd",
    f"mov qword [PML4 + 8], {PDPT2:#x} | 7",
    f"mov qword [{PDPT2:#x}], {PD2:#x} | 7",
    f"mov qword [{PD2:#x}], {PT2:#x} | 7",
    f"mov qword [{PT2:#x}], 0x50000 | 7",
    f"mov qword [{PT2:#x} + 8], 0x51000 | 7",
    "mov qword [0x50000], 0x5050", "mov dword [0x51000], 0x90c3c3c3",
    "mov rax, cr3", "mov cr3, rax",
    f"mov r9, {L:#x}",
])
ENTRIES = [("pml4e", "PML4 + 8"), ("pdpte", f"{PDPT2:#x}"), ("pde", f"{PD2:#x}"),
           ("pte", f"{PT2:#x}")]
t = r.test


def bits(reg, addr, mask="0x67"):
    return [f"mov {reg}, [{addr}]", f"and {reg}, {mask}"]


t("read: a bits", ["mov rax, [r9]"] + bits("rbx", "PML4 + 8") + bits("rcx", f"{PDPT2:#x}") +
  bits("rdx", f"{PD2:#x}") + bits("rsi", f"{PT2:#x}"),
  regs=("rax", "rbx", "rcx", "rdx", "rsi"), mask=0)
t("write: d bit", ["mov qword [r9 + 8], 0x77"] + bits("rsi", f"{PT2:#x}") +
  bits("rdx", f"{PD2:#x}"), regs=("rdx", "rsi"), mask=0)
for name, addr in ENTRIES:
    t(f"{name} not present", [f"and qword [{addr}], ~1", "invlpg [r9]", "mov rax, [r9]"],
      regs=("rax",), mask=0, setup={"rax": 0})
    r.raw([f"or qword [{addr}], 1", "invlpg [r9]"])
t("pml4e supervisor, cpl3 read", ["and qword [PML4 + 8], ~4", "invlpg [r9]",
                                  "push 0x2b", "push STACK3", "push 0x2", "push 0x33",
                                  "lea rax, [rel .u1]", "push rax", "iretq", ".u1:",
                                  "mov rax, [r9]"], mask=0)
r.raw(["or qword [PML4 + 8], 4", "invlpg [r9]"])
t("cpl3 read ok", ["push 0x2b", "push STACK3", "push 0x2", "push 0x33",
                   "lea rax, [rel .u2]", "push rax", "iretq", ".u2:", "mov rax, [r9]",
                   "int 0x80"], regs=("rax",), mask=0)
r.raw(["mov rax, cr0", "or eax, 0x10000", "mov cr0, rax"])
t("pdpte read-only, wp=1 write", [f"and qword [{PDPT2:#x}], ~2", "invlpg [r9]",
                                  "mov qword [r9], 1"], mask=0)
r.raw([f"or qword [{PDPT2:#x}], 2", "invlpg [r9]"])
t("pde xd: read", [f"bts qword [{PD2:#x}], 63", "invlpg [r9]", "invlpg [r9 + 0x1000]",
                   "mov rax, [r9 + 0x1000]"], regs=("rax",), mask=0)
t("pde xd: fetch", ["lea rax, [r9 + 0x1000]", "call rax"], mask=0)
r.raw([f"btr qword [{PD2:#x}], 63", "invlpg [r9 + 0x1000]"])
t("fetch ok", ["lea rax, [r9 + 0x1000]", "call rax", "mov rax, 1"], regs=("rax",), mask=0)
t("pml4e ps reserved", ["bts qword [PML4 + 8], 7", "invlpg [r9]", "mov rax, [r9]"], mask=0)
r.raw(["btr qword [PML4 + 8], 7", "invlpg [r9]"])
t("2m page d bit", ["and qword [PDIR + 16], ~0x60", "invlpg [0x400000]",
                    "mov rax, [0x400100]", "mov rbx, [PDIR + 16]", "mov qword [0x400100], rax",
                    "mov rcx, [PDIR + 16]", "and ebx, 0xff", "and ecx, 0xff"],
  regs=("rbx", "rcx"), mask=0)
t("invlpg new pte", ["mov rax, [r9]", f"mov qword [{PT2:#x}], 0x51000 | 7", "invlpg [r9]",
                     "mov rbx, [r9]"], regs=("rax", "rbx"), mask=0)
t("a bits again", bits("rbx", "PML4 + 8") + bits("rcx", f"{PDPT2:#x}") +
  bits("rdx", f"{PD2:#x}") + bits("rsi", f"{PT2:#x}"), regs=("rbx", "rcx", "rdx", "rsi"),
  mask=0)
r.extra = 'msg_hello: db `4-level paging\\n`, 0\n'
sys.stdout.write(r.emit())
