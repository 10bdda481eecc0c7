; exceptions-real.asm — real-mode exceptions and software interrupts
; through IVT handlers: #DE (DIV/IDIV by zero and overflow), INT3 (both
; encodings), INTO (taken and not), #BR (BOUND out of range and in range),
; #UD (UD2, MOV CS, LOCK on a register operand), INT n.
;
; Every handler prints one line
;     <name> v=<vector> ip=<pushed IP> cs=<pushed CS> f=<pushed FLAGS> sp=<SP before the event>
; then returns to the label the test stored in RESUME (so faults, which
; push the IP of the faulting instruction, and traps, which push the IP of
; the next one, both continue after the instruction). Flags are set with
; POPF before each test so the pushed FLAGS are known.

%include "inc/rom.inc"

RESUME  equ 0x0600              ; where the handler returns to
BOUNDS  equ 0x0610              ; BOUND's lower and upper limits
STACK   equ 0x7000

; TEST name, flags: announce a test, point RESUME past its END_TEST, set
; FLAGS. The instruction under test follows.
%macro TEST 2
    %push test
    jmp %%go
%%s: db %1, " ", 0
%%go:
    PRINT16 %%s
    mov word [RESUME], %$after
    push word %2
    popf
%endmacro

; END_TEST: reached only if the instruction did not trap or fault.
%macro END_TEST 0
    PRINT16 msg_none
%$after:
    %pop
%endmacro

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov sp, STACK
    mov word [BOUNDS], 10
    mov word [BOUNDS + 2], 20

    ; install the handlers: vector, handler
%macro VECTOR 2
    mov word [%1 * 4], %2
    mov word [%1 * 4 + 2], 0xf000
%endmacro
    VECTOR 0x00, h_de
    VECTOR 0x03, h_bp
    VECTOR 0x04, h_of
    VECTOR 0x05, h_br
    VECTOR 0x06, h_ud
    VECTOR 0x40, h_int40

    PRINT16 msg_hello
    call tests
    PRINT16 msg_sp
    mov ax, sp
    call hex16
    call newline16
    EXIT 0x10

tests:
    TEST "div0", 0x0002
    mov ax, 1234
    mov bl, 0
    div bl
    END_TEST

    TEST "div-overflow", 0x08d7
    mov ax, 0x1000
    mov bl, 2
    div bl
    END_TEST

    TEST "idiv-overflow", 0x0002
    mov ax, 0x8000
    cwd
    mov cx, -1
    idiv cx
    END_TEST

    TEST "div-ok", 0x0002
    mov ax, 100
    mov bl, 7
    div bl
    END_TEST

    TEST "int3", 0x0006
    int3
    END_TEST

    TEST "int-3", 0x0003
    int 3
    END_TEST

    TEST "into-of1", 0x0802
    into
    END_TEST

    TEST "into-of0", 0x0002
    into
    END_TEST

    TEST "bound-out", 0x0002
    mov ax, 25
    bound ax, [BOUNDS]
    END_TEST

    TEST "bound-low", 0x0002
    mov ax, 9
    bound ax, [BOUNDS]
    END_TEST

    TEST "bound-in", 0x0002
    mov ax, 20
    bound ax, [BOUNDS]
    END_TEST

    TEST "ud2", 0x0002
    ud2
    END_TEST

    TEST "mov-cs", 0x0002
    mov cs, ax
    END_TEST

    TEST "lock-reg", 0x0002
    db 0xf0                     ; LOCK (NASM refuses to emit it here)
    inc ax
    END_TEST

    TEST "int40", 0x0c02
    int 0x40
    END_TEST
    ret

; Handlers: push the vector, then the common part.
%macro HANDLER 2
%1:
    push word %2
    jmp handler
%endmacro
    HANDLER h_de, 0x00
    HANDLER h_bp, 0x03
    HANDLER h_of, 0x04
    HANDLER h_br, 0x05
    HANDLER h_ud, 0x06
    HANDLER h_int40, 0x40

; Stack on entry: vector, IP, CS, FLAGS.
handler:
    push bp
    mov bp, sp
    push ax
    push si
    PRINT16 msg_v
    mov ax, [bp + 2]
    call hex16
    PRINT16 msg_ip
    mov ax, [bp + 4]
    call hex16
    PRINT16 msg_cs
    mov ax, [bp + 6]
    call hex16
    PRINT16 msg_f
    mov ax, [bp + 8]
    and ax, 0x0fd7
    call hex16
    PRINT16 msg_spv
    lea ax, [bp + 10]
    call hex16
    call newline16
    mov ax, [RESUME]
    mov [bp + 4], ax
    pop si
    pop ax
    pop bp
    add sp, 2
    iret

%include "inc/print16.inc"

msg_hello: db `real-mode exceptions\n`, 0
msg_none:  db `no event\n`, 0
msg_v:     db "v=", 0
msg_ip:    db " ip=", 0
msg_cs:    db " cs=", 0
msg_f:     db " f=", 0
msg_spv:   db " sp=", 0
msg_sp:    db "end sp=", 0

RESET_VECTOR
