; loop.asm — a loop-heavy ROM for measuring interpreter speed.
;
; Real mode with 32-bit registers: ITERATIONS rounds of a 32-bit LCG whose
; output is fed to a bitwise (branch-free) CRC-32. Each round is
; 4 + 32 * 6 + 2 = 198 instructions, so the run is about 19.8 million
; instructions (plus a few hundred for printing). Prints the CRC and the
; final LCG state, then exits through the debug-exit port (value 0).

%include "inc/rom.inc"

ITERATIONS equ 100000

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov sp, 0x7000
    PRINT16 msg_start

    mov esi, 12345              ; LCG state
    mov edi, 0xffffffff         ; CRC register
    mov ebp, ITERATIONS
.round:
    imul esi, esi, 1664525
    add esi, 1013904223
    xor edi, esi
    mov cx, 32
.bit:
    shr edi, 1
    sbb eax, eax                ; all-ones if a 1 bit was shifted out
    and eax, 0xedb88320
    xor edi, eax
    dec cx
    jnz .bit
    dec ebp
    jnz .round
    not edi
    mov ebx, esi                ; PRINT16 clobbers SI

    PRINT16 msg_crc
    mov eax, edi
    call hex32r
    PRINT16 msg_lcg
    mov eax, ebx
    call hex32r
    call newline16
    EXIT 0

; hex32r: print EAX as eight hex digits (real mode).
hex32r:
    ror eax, 16
    call hex16
    ror eax, 16
    call hex16
    ret

%include "inc/print16.inc"

msg_start: db `loop: 100000 rounds of LCG + CRC-32\n`, 0
msg_crc:   db "crc=", 0
msg_lcg:   db " lcg=", 0

RESET_VECTOR
