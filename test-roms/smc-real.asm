; smc-real.asm — self-modifying code in real mode, code running in RAM:
;  1. immediate patching in a loop: a routine's `add eax, imm32` and
;     `rol eax, imm8` are rewritten before each of 64 calls;
;  2. patching the very next instruction (no jump in between; every
;     processor since the P6 detects the store, SDM Vol. 3 11.6, and both
;     QEMU and Bochs honour it) and patching after a jump (SDM Vol. 3
;     8.1.3, the portable form);
;  3. REP MOVSB copying new code over the instructions just after it,
;     forwards (DF = 0), so the copy runs into code still ahead;
;  4. writes through a second segment alias (ES base != CS base, same
;     bytes) to code in a loop, and a routine rewritten wholesale between
;     calls (a new body of a different length).
; Each check prints one line "<name> <EAX>".

%include "inc/rom.inc"

CODE    equ 0x3000              ; RAM for code (segment 0x0300 too)
STACK   equ 0x7000

%macro SHOW 1
    jmp %%go
%%s: db %1, " ", 0
%%go:
    push eax
    PRINT16 %%s
    pop eax
    call hex32r
    call newline16
%endmacro

; COPY label_start, label_end, dest: copy ROM bytes to RAM (DS = 0)
%macro COPY 3
    mov si, %1
    mov di, %3
    mov cx, %2 - %1
    push ds
    push cs
    pop ds
    rep movsb
    pop ds
%endmacro

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov sp, STACK
    cld
    PRINT16 msg_hello

    ; 1. immediate patching
    COPY r1, r1_end, CODE
    xor eax, eax
    xor ebx, ebx                ; accumulator
    xor cx, cx
.patch:
    mov edx, ecx
    imul edx, edx, 0x01010101
    mov [CODE + (r1_imm - r1)], edx
    mov [CODE + (r1_rot - r1)], cl
    push cx
    call 0:CODE
    pop cx
    xor ebx, eax
    inc cx
    cmp cx, 64
    jb .patch
    mov eax, ebx
    SHOW "imm-loop"

    ; 2a. the next instruction, no jump
    COPY r2, r2_end, CODE
    call 0:CODE
    SHOW "next-insn"
    ; 2b. after a jump
    COPY r3, r3_end, CODE
    call 0:CODE
    SHOW "after-jmp"

    ; 3. rep movsb over code ahead
    COPY r4, r4_end, CODE
    call 0:CODE
    SHOW "rep-movs"

    ; 4a. a loop that rewrites its own `inc eax` into `dec eax` through an
    ;     alias: code runs at 0300:xxxx, written via ES:CODE+xxxx (ES = 0)
    COPY r5, r5_end, CODE
    call 0x0300:0
    SHOW "alias-loop"
    ; 4b. the routine replaced by a longer one between calls
    COPY r1, r1_end, CODE
    mov dword [CODE + (r1_imm - r1)], 0x11111111
    mov byte [CODE + (r1_rot - r1)], 4
    mov eax, 0x01
    call 0:CODE
    push eax
    COPY r6, r6_end, CODE
    pop eax
    call 0:CODE
    SHOW "replaced"

    EXIT 0x14

hex32r:
    ror eax, 16
    call hex16
    ror eax, 16
    call hex16
    ret

; ---- routines copied to RAM (position-independent, far-returning)
r1:
    db 0x66, 0x05               ; add eax, imm32
r1_imm: dd 0
    db 0x66, 0xc1, 0xc0         ; rol eax, imm8
r1_rot: db 0
    retf
r1_end:

r2:
    mov eax, 0x11111111
    mov byte [CODE + (.target - r2) + 2], 0x22
.target:
    mov eax, 0x33333333
    retf
r2_end:

r3:
    mov eax, 0x44444444
    mov byte [CODE + (.t - r3) + 2], 0x55
    jmp short .t
.t:
    mov eax, 0x66666666
    retf
r3_end:

r4:
    mov si, CODE + (.new - r4)
    mov di, CODE + (.old - r4)
    mov cx, .new_end - .new
    rep movsb
.old:
    mov eax, 0x77777777         ; overwritten by .new before it runs
    retf
    nop
    nop
    nop
.new:
    mov eax, 0x88888888
    add eax, 0x01010101
    retf
.new_end:
r4_end:

r5:
    mov eax, 0
    mov cx, 10
.l:
    inc eax                     ; becomes dec eax (0x48) after 4 rounds
    cmp cx, 7
    jne .same
    mov byte [es:CODE + (.l - r5) + 1], 0x48
.same:
    loop .l
    retf
r5_end:

r6:
    xor eax, 0x5a5a5a5a
    add eax, eax
    imul eax, eax, 3
    retf
r6_end:

%include "inc/print16.inc"

msg_hello: db `self-modifying code (real mode)\n`, 0

RESET_VECTOR
