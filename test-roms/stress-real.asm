; stress-real.asm — a long pseudo-random instruction mix: an interpreter
; driven by a 32-bit LCG picks, ITERATIONS times, one of 24 operations
; (ALU ops with flags in and out, shifts/rotates, multiply, divide, bit
; scans, byte swap, exchange-and-add, conditional moves/sets, 8- and 16-bit
; partial-register forms) and two of eight 32-bit state registers (kept in
; memory) or an immediate. After each operation the result and the flags
; the SDM defines for that operation (a per-operation mask) are folded into
; a checksum. Every 32768 iterations a line "i=<iter> sum=<checksum>" is
; printed so a divergence can be located; at the end the eight registers.
; Real mode with 32-bit operands; no faults (divisors are forced nonzero
; and the dividend's high half is 0).

%include "inc/rom.inc"

ITERATIONS equ 262144
REGS     equ 0x2000             ; 8 dwords
FLAGS_IN equ 0x2020             ; carried flags (arithmetic flags only)
SUM      equ 0x2024
SEED     equ 0x2028
MASK     equ 0x202c
STACK    equ 0x7000

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov sp, STACK
    cld
    PRINT16 msg_start
    ; initial registers
    mov si, 0
.init:
    mov eax, [cs:init_regs + si]
    mov [REGS + si], eax
    add si, 4
    cmp si, 32
    jb .init
    mov dword [FLAGS_IN], 0x0002
    mov dword [SUM], 0x12345678
    mov dword [SEED], 2463534242
    xor ecx, ecx                ; iteration
.loop:
    ; x = x * 1664525 + 1013904223
    mov eax, [SEED]
    imul eax, eax, 1664525
    add eax, 1013904223
    mov [SEED], eax
    ; op = (x >> 27) .. pick 0..23 via ((x >> 16) & 0xff) * 24 >> 8
    mov edx, eax
    shr edx, 16
    and edx, 0xff
    imul edx, edx, 24
    shr edx, 8
    ; dst = x & 7, src = (x >> 3) & 7 (regs as byte offsets)
    movzx ebx, al
    and bx, 7
    shl bx, 2
    movzx edi, al
    shr di, 3
    and di, 7
    shl di, 2
    ; operands: eax = dst value, ebx = src value or (x >> 8) if bit 6 of x
    test al, 0x40
    mov esi, [REGS + di]
    jz .reg
    mov esi, [SEED]
    ror esi, 8
.reg:
    push bx
    mov eax, [REGS + bx]
    mov ebx, esi
%ifdef TRACE
    mov [0x2030], dx
    mov [0x2034], eax
    mov [0x2038], ebx
    mov eax, [FLAGS_IN]
    mov [0x203c], eax
    mov eax, [0x2034]
%endif
%ifdef ONLY
    mov dx, ONLY
%endif
    shl dx, 1
    mov si, dx
    push word [FLAGS_IN]        ; nothing may touch the flags from here
    popf
    call [cs:ops + si]
    pushf
    pop dx
    and dx, [MASK]
    pop bx
    mov [REGS + bx], eax
    ; keep CF/ZF/... for the next ADC/SBB/CMOV only where defined
    mov [FLAGS_IN], dx
    or word [FLAGS_IN], 2
    ; sum = rol(sum, 5) ^ result ^ flags ^ iteration
    mov esi, [SUM]
    rol esi, 5
    xor esi, eax
    movzx edx, dx
    xor esi, edx
    add esi, ecx
    mov [SUM], esi
    inc ecx
%ifndef PRINTMASK
%define PRINTMASK 32767
%endif
    test cx, PRINTMASK
    jnz .noprint
    PRINT16 msg_i
    mov eax, ecx
    call hex32r
    PRINT16 msg_sum
    mov eax, [SUM]
    call hex32r
%ifdef TRACE
    call space16
    mov ax, [0x2030]
    call hex16
    call space16
    mov eax, [0x2034]
    call hex32r
    call space16
    mov eax, [0x2038]
    call hex32r
    call space16
    mov ax, [0x203c]
    call hex16
%endif
    call newline16
.noprint:
    cmp ecx, ITERATIONS
    jb .loop
    ; final registers
    xor bx, bx
.final:
    mov al, 'r'
    out DEBUGCON, al
    mov ax, bx
    shr ax, 2
    add al, '0'
    out DEBUGCON, al
    mov al, '='
    out DEBUGCON, al
    mov eax, [REGS + bx]
    call hex32r
    call newline16
    add bx, 4
    cmp bx, 32
    jb .final
    EXIT 0x13

hex32r:
    ror eax, 16
    call hex16
    ror eax, 16
    call hex16
    ret

; operations: eax = dst, ebx = src; result in eax, [MASK] = defined flags
%macro OP 2                     ; flag mask, code
    mov word [MASK], %1
    %2
    ret
%endmacro
op_add:  OP 0x8d5, {add eax, ebx}
op_adc:  OP 0x8d5, {adc eax, ebx}
op_sub:  OP 0x8d5, {sub eax, ebx}
op_sbb:  OP 0x8d5, {sbb eax, ebx}
op_and:  OP 0x8c5, {and eax, ebx}
op_or:   OP 0x8c5, {or eax, ebx}
op_xor:  OP 0x8c5, {xor eax, ebx}
op_add8: OP 0x8d5, {adc ah, bl}
op_sub16: OP 0x8d5, {sbb ax, bx}
op_inc:  OP 0x8d5, {inc eax}
op_neg:  OP 0x8d5, {neg ax}
op_shl:
    mov word [MASK], 0
    push ecx
    mov cl, bl
    shl eax, cl
    pop ecx
    ret
op_sar:
    mov word [MASK], 0
    push ecx
    mov cl, bl
    sar eax, cl
    pop ecx
    ret
op_rol:
    mov word [MASK], 0
    push ecx
    mov cl, bl
    rol eax, cl
    pop ecx
    ret
op_rcr1: OP 0x801, {rcr eax, 1}
op_imul: OP 0x801, {imul eax, ebx}
op_mul:
    mov word [MASK], 0x801
    push edx
    mul ebx
    xor eax, edx
    pop edx
    ret
op_div:
    mov word [MASK], 0
    push edx
    xor edx, edx
    or ebx, 1
    div ebx
    add eax, edx
    pop edx
    ret
op_bsf:
    mov word [MASK], 0x40
    or ebx, 0x10000
    bsr eax, ebx
    ret
op_bswap: OP 0x8d5, {bswap eax}
op_xadd: OP 0x8d5, {xadd eax, ebx}
op_cmov:
    mov word [MASK], 0x8d5
    cmp eax, ebx
    cmovl eax, ebx
    ret
op_setcc:
    mov word [MASK], 0x8d5
    cmp al, bl
    setbe al
    seto ah
    ret
op_shld:
    mov word [MASK], 0
    push ecx
    mov cl, bl
    and cl, 31
    shld eax, ebx, cl
    pop ecx
    ret

ops:
    dw op_add, op_adc, op_sub, op_sbb, op_and, op_or, op_xor, op_add8
    dw op_sub16, op_inc, op_neg, op_shl, op_sar, op_rol, op_rcr1, op_imul
    dw op_mul, op_div, op_bsf, op_bswap, op_xadd, op_cmov, op_setcc, op_shld

init_regs: dd 0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678, 0xdeadbeef, 0x00008000

%include "inc/print16.inc"

msg_start: db `stress: LCG-driven ALU mix\n`, 0
msg_i:     db "i=", 0
msg_sum:   db " sum=", 0

RESET_VECTOR
