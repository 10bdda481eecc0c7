"""flags_real.py: generates flags-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode FLAGS handling and a few small instructions: POPF/PUSHF with
every writable bit (IOPL and NT are writable in real mode, bit 15 reads 0,
bits 3 and 5 read 0, bit 1 reads 1; IF and TF are left clear: QEMU's timer
is live and TF would trap), POPFD/PUSHFD (AC writable; VM and RF are not
set by POPFD and read as 0 in the pushed image), SAHF/LAHF, CLD/STD/CLC/
STC/CMC, XLATB (with a segment override), LDS/LES/LSS, IN/OUT through DX
to the debug console, and the sign/zero of 8-bit immediates.
"""

r = Rom("flags-real.asm", DOC)
t = r.test
t("popf 0xfcd5", ["push word 0xfcd5", "popf", "pushf", "pop ax", "push word 0x0002", "popf"],
  regs=("eax",), mask=0, setup={"eax": 0})
t("popf 0x0000", ["push word 0x0000", "popf", "pushf", "pop ax"], regs=("eax",), mask=0,
  setup={"eax": 0})
t("popfd ac/vm/rf", ["push dword 0x00070002", "popfd", "pushfd", "pop eax",
                     "and eax, 0x00070000", "push dword 2", "popfd"], regs=("eax",), mask=0)
t("sahf/lahf", ["mov ah, 0xff", "sahf", "mov ah, 0", "lahf"], regs=("eax",), mask=0x8d5,
  setup={"eax": 0})
t("std cld stc clc cmc", ["std", "pushf", "pop bx", "cld", "stc", "cmc", "cmc", "pushf",
                          "pop cx", "clc", "pushf", "pop dx"], regs=("ebx", "ecx", "edx"),
  mask=0, setup={"ebx": 0, "ecx": 0, "edx": 0})
t("xlatb", ["mov dword [0x600], 0x33221100", "mov dword [0x604], 0x77665544", "mov bx, 0x600",
            "mov al, 5", "xlatb"], regs=("eax",), mask=0, setup={"eax": 0})
t("es: xlatb", ["mov ax, 0x60", "mov es, ax", "mov bx, 0", "mov al, 3", "es xlatb",
                "xor dx, dx", "mov es, dx"], regs=("eax",), mask=0)
t("lds/les/lss", ["mov dword [0x610], 0x12345678", "mov word [0x614], 0x0040",
                  "mov ax, ss", "mov dx, sp", "les bx, [0x610]", "mov cx, es",
                  "lds si, [0x610]", "mov di, ds", "xor bp, bp", "mov ds, bp",
                  "mov es, bp"], regs=("ebx", "ecx", "esi", "edi"), mask=0,
  setup={"ebx": 0, "ecx": 0, "esi": 0, "edi": 0})
t("lss", ["mov dword [0x618], 0x00006000", "mov word [0x61c], 0x0000", "mov bx, sp",
          "lss esp, [0x618]", "mov ax, sp", "mov sp, bx"], regs=("eax",), mask=0,
  setup={"eax": 0})
t("out dx", ["mov dx, 0xe9", "mov al, '<'", "out dx, al", "mov al, '>'", "out dx, al",
             "mov al, ' '", "out dx, al"], mask=0)
t("imm8 sign-extension", ["mov ax, 0", "add ax, byte -1", "mov bx, 0", "add bx, 0xff",
                          "mov ecx, 0", "sub ecx, byte -128"], regs=("eax", "ebx", "ecx"),
  mask=0)
sys.stdout.write(r.emit())
