"""events_prot.py: generates events-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Protected-mode debug exceptions and event-delivery faults:
- #DB single-step (EFLAGS.TF set by POPFD: the trap follows the next
  instruction; the POPFD that clears TF still traps; MOV SS suppresses the
  trap for one instruction, SDM Vol. 3 6.8.3), with DR6.BS;
- DR0 instruction breakpoint (fault, EIP = the instruction), DR1 data
  write breakpoint and DR2 read/write breakpoint (traps, EIP = next
  instruction, memory already written), DR6.Bn bits; DR7.GD general detect
  (#DB with DR6.BD on the MOV DR); INT1 (F1);
- faults during delivery: a zero IDT gate (#GP(vector * 8 + 2)), a gate
  beyond the IDT limit (#GP(vector * 8 + 2)), a not-present gate for a
  processor exception (#NP(vector * 8 + 2 + EXT)), #GP while delivering
  #GP (#DF with error code 0; the pushed CS:EIP are undefined, SDM Vol. 3
  6.15 "Interrupt 8", so not printed).
DR6 is printed as DR6 & 0x600f (B0-B3, BD, BS) and cleared by the handler.

QEMU is wrong in three places; events-prot.qemu-fix.patch turns its log into
the SDM-correct one (Bochs's, which xlat also matches):
- DR7.GD: QEMU ignores general detect. SDM Vol. 3 17.2.4: a MOV to/from a
  debug register with GD = 1 raises #DB (a fault, EIP = the MOV) with
  DR6.BD set, and the processor clears GD on entry to the handler.
- INT1 (F1): QEMU raises #UD. SDM Vol. 2 "INT n/INTO/INT3/INT1": INT1
  generates a debug exception (#DB, a trap: EIP = next instruction).
- #NP while delivering #UD: QEMU pushes 0x32, without EXT. SDM Vol. 3
  6.13: EXT (bit 0) is set when the fault occurs during delivery of an
  event external to the program "such as an interrupt or an earlier
  exception": 6 * 8 + 2 + 1 = 0x33.
"""

r = Rom("events-prot.asm", DOC)
A = ("eax",)
t = r.test
t("tf single-step", ["mov dword [DBCONT], 1", "mov eax, 0", "pushfd",
                     "or dword [esp], 0x100", "popfd", "nop", "mov eax, 1", "add eax, 2",
                     "pushfd", "and dword [esp], ~0x100", "popfd", "mov dword [DBCONT], 0"],
  regs=A)
t("tf mov ss shadow", ["mov dword [DBCONT], 1", "pushfd", "or dword [esp], 0x100", "popfd",
                       "mov ax, ss", "mov ss, ax", "mov ebx, 1", "mov ecx, 2",
                       "pushfd", "and dword [esp], ~0x100", "popfd", "mov dword [DBCONT], 0"],
  regs=("ebx", "ecx"))
t("dr0 exec", ["mov eax, ROMBASE + .bp0", "mov dr0, eax", "mov eax, 0x1", "mov dr7, eax",
               "mov eax, 5", ".bp0:", "mov eax, 6"], regs=A)
t("dr7 off", ["xor eax, eax", "mov dr7, eax", "mov eax, 7", "nop"], regs=A)
t("dr1 write", ["mov eax, 0x620", "mov dr1, eax", "mov eax, 0x00d00004", "mov dr7, eax",
                "mov dword [0x620], 0", "mov eax, 0x11223344", "mov [0x621], al",
                "mov ebx, 1"], regs=("eax", "ebx"))
t("dr1 read no trap", ["mov eax, [0x620]", "mov ebx, 2"], regs=("eax", "ebx"))
t("dr2 rw read", ["xor eax, eax", "mov dr7, eax", "mov eax, 0x628", "mov dr2, eax",
                  "mov eax, 0x00f00010", "mov dr7, eax", "mov eax, [0x62a]", "mov ebx, 3"],
  regs=("ebx",))
t("dr2 rw outside", ["mov eax, [0x630]", "mov ebx, 4"], regs=("ebx",))
t("dr7 gd", ["xor eax, eax", "mov dr7, eax", "mov eax, 0x2000", "mov dr7, eax",
             "mov eax, dr0", "mov ebx, 5"], regs=("ebx",))
t("dr7 after gd", ["mov eax, dr7", "and eax, 0x2fff", "xor ebx, ebx", "mov dr7, ebx"],
  regs=A)
t("int1", ["mov eax, 8", "db 0xf1", "mov eax, 9"], regs=A)
t("int3 dpl3 gate", ["int3", "mov eax, 10"], regs=A)
t("zero gate int 0x41", ["int 0x41"])
t("not-present gate int 0x42", ["mov dword [IDT + 0x42 * 8], 0x00080000",
                                "mov dword [IDT + 0x42 * 8 + 4], 0x00000e00", "int 0x42"])
t("not-present #UD gate", ["mov eax, [IDT + 6 * 8 + 4]", "mov [0x640], eax",
                           "and dword [IDT + 6 * 8 + 4], ~0x8000", "ud2"])
r.raw(["mov eax, [0x640]", "mov [IDT + 6 * 8 + 4], eax"])
t("#UD gate restored", ["ud2"])
t("beyond idt limit", ["mov word [0x650], 0x40 * 8 - 1", "mov dword [0x652], IDT",
                       "lidt [0x650]", "int 0x40"])
r.raw(["lidt [ROMBASE + idtr]"])
t("df: #gp while delivering #gp", ["mov eax, [IDT + 13 * 8]", "mov [0x640], eax",
                                   "mov word [IDT + 13 * 8 + 2], 0x38",
                                   "mov ax, 0xf8", "mov ds, ax"])
r.raw(["mov eax, [0x640]", "mov [IDT + 13 * 8], eax"])
t("#gp after restore", ["mov ax, 0xf8", "mov ds, ax"])
r.extra = 'msg_hello: db `protected-mode debug exceptions and delivery faults\\n`, 0\n'
sys.stdout.write(r.emit())
