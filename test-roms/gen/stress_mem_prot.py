"""stress_mem_prot.py: generates stress-mem-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
A memory stress under 32-bit paging: linear 4-8 MiB is mapped with 1024
4 KiB pages onto a permutation of physical 8-12 MiB (page i -> (i * 389)
mod 1024); an LCG then performs ITERATIONS random accesses there: byte,
word and dword loads and stores at any offset (misaligned and page-crossing
ones included), read-modify-write ADD/XOR/INC on memory, XCHG, and every
4096 rounds a PTE is re-pointed to another physical page (INVLPG). The
loaded values are folded into a checksum, printed every 16384 rounds, and
at the end a checksum of the whole physical region is printed.
"""

ITER = 0x20000
r = Rom("stress-mem-prot.asm", DOC)
r.raw([
    "mov edi, 0x12000", "xor ecx, ecx", ".pt:",
    "mov eax, ecx", "imul eax, eax, 389", "and eax, 1023", "shl eax, 12", "add eax, 0x800000",
    "or eax, 3", "mov [edi + ecx * 4], eax", "inc ecx", "cmp ecx, 1024", "jb .pt",
    "mov dword [PD + 4], 0x12000 | 3",
    # fill physical 8-12 MiB (paging still off) with a pattern
    "mov edi, 0x800000", "mov ecx, 0x100000", "mov eax, 0x9e3779b9", ".fill:", "stosd",
    "add eax, 0x7f4a7c15", "rol eax, 3", "loop .fill",
    "mov eax, PD", "mov cr3, eax", "mov eax, cr0", "or eax, 0x80000000", "mov cr0, eax",
    "mov esi, 0x12345678",             # LCG state
    "xor ebp, ebp",                    # checksum
    "xor edi, edi",                    # iteration
    ".loop:",
    "imul esi, esi, 1664525", "add esi, 1013904223",
    "mov ebx, esi", "shr ebx, 10", "and ebx, 0x3fffff", "add ebx, 0x400000",   # address
    "cmp ebx, 0x7ffffc", "jbe .inrange", "mov ebx, 0x7ffff0", ".inrange:",
    "mov eax, esi", "and eax, 7",
    "jmp [ROMBASE + ops + eax * 4]",
    ".next:",
    "add ebp, eax", "rol ebp, 5", "xor ebp, edi",
    "inc edi",
    "test edi, 0xfff", "jnz .noremap",
    # re-point PTE (esi >> 20) & 1023 to physical page (esi >> 8) & 1023
    "mov ecx, esi", "shr ecx, 20", "and ecx, 1023",
    "mov edx, esi", "shr edx, 8", "and edx, 1023", "shl edx, 12", "add edx, 0x800003",
    "mov [0x12000 + ecx * 4], edx", "shl ecx, 12", "add ecx, 0x400000", "invlpg [ecx]",
    ".noremap:",
    "test edi, 0x3fff", "jnz .noprint",
    "mov al, 'i'", "out DEBUGCON, al", "mov al, '='", "out DEBUGCON, al",
    "mov eax, edi", "mov ecx, 8", "call hex32",
    "mov al, ' '", "out DEBUGCON, al", "mov eax, ebp", "call hex32",
    "mov al, 10", "out DEBUGCON, al",
    ".noprint:",
    f"cmp edi, {ITER:#x}", "jb .loop",
    # checksum of the physical region, with paging off
    "mov eax, cr0", "and eax, 0x7fffffff", "mov cr0, eax",
    "mov esi, 0x800000", "xor eax, eax", ".sum:", "add eax, [esi]", "rol eax, 1", "add esi, 4",
    "cmp esi, 0xc00000", "jb .sum",
    "mov ecx, 8", "call hex32", "mov al, 10", "out DEBUGCON, al",
])
r.extra = r"""
ops:
    dd ROMBASE + op_ld8, ROMBASE + op_ld16, ROMBASE + op_ld32, ROMBASE + op_st8
    dd ROMBASE + op_st32, ROMBASE + op_add, ROMBASE + op_xchg, ROMBASE + op_inc
op_ld8:
    movzx eax, byte [ebx]
    jmp tests.next
op_ld16:
    movzx eax, word [ebx]
    jmp tests.next
op_ld32:
    mov eax, [ebx]
    jmp tests.next
op_st8:
    mov eax, esi
    mov [ebx], ah
    movzx eax, byte [ebx]
    jmp tests.next
op_st32:
    mov [ebx], esi
    mov eax, [ebx]
    jmp tests.next
op_add:
    add [ebx], esi
    mov eax, [ebx]
    jmp tests.next
op_xchg:
    mov eax, esi
    xchg [ebx], eax
    jmp tests.next
op_inc:
    inc word [ebx]
    xor dword [ebx], 0x5a5a5a5a
    movzx eax, word [ebx]
    jmp tests.next
msg_hello: db `memory stress under paging\n`, 0
"""
sys.stdout.write(r.emit())
