; hello.asm — the demo ROM: greets on the debug console (port 0xE9), prints
; a few values computed in real mode in hex, then exits through the
; debug-exit port (value 0: QEMU's exit status 1).
;
; Uses only a small real-mode subset: MOV, ADD, SUB, AND, ROL, DEC, JNZ, JE,
; JMP, CMP, CALL, RET, PUSH, POP, OUT, HLT.

%include "inc/rom.inc"

bits 16
start:
    mov ax, 0
    mov ss, ax
    mov sp, 0x7000

    PRINT16 msg_hello

    ; 1 + 2 + ... + 100 = 5050 = 0x13ba
    PRINT16 msg_sum
    mov ax, 0
    mov cx, 100
.sum:
    add ax, cx
    dec cx
    jnz .sum
    call hex16
    call newline16

    ; fib(24) = 46368 = 0xb520
    PRINT16 msg_fib
    mov ax, 0               ; fib(i)
    mov bx, 1               ; fib(i + 1)
    mov cx, 24
.fib:
    mov dx, ax
    add dx, bx
    mov ax, bx
    mov bx, dx
    dec cx
    jnz .fib
    call hex16
    call newline16

    ; 0xbeef * 3 by additions, modulo 2^16 = 0x3ccd
    PRINT16 msg_mul
    mov ax, 0xbeef
    mov bx, ax
    add ax, bx
    add ax, bx
    call hex16
    call newline16

    ; 0x1234 - 0x4321 = 0xcf13 (mod 2^16)
    PRINT16 msg_sub
    mov ax, 0x1234
    sub ax, 0x4321
    call hex16
    call newline16

    PRINT16 msg_bye
    EXIT 0

%include "inc/print16.inc"

msg_hello: db `Hello from xlat!\n`, 0
msg_sum:   db "sum(1..100)  = 0x", 0
msg_fib:   db "fib(24)      = 0x", 0
msg_mul:   db "0xbeef * 3   = 0x", 0
msg_sub:   db "0x1234-0x4321= 0x", 0
msg_bye:   db `bye\n`, 0

RESET_VECTOR
