; pic-real.asm — the PIT's IRQ 0 through the 8259A in real mode, with the
; local APIC in virtual-wire mode (LINT0 ExtINT: after reset it is masked,
; SDM Vol. 3 §11.4.7.1):
; - t1: PIT channel 0 in mode 2 at about 1 kHz, IRQ 0 on vector 8: five
;   interrupts taken with STI; HLT, each acknowledged with a
;   non-specific EOI;
; - t2: the STI shadow (SDM Vol. 3 §6.8.3): with IRQ 0 already requested
;   (its IRR bit polled through OCW3 while IF = 0), `sti; inc bx; inc bx`
;   takes the interrupt after the first INC, not before it: the handler
;   sees BX = 1;
; - t3: masking (OCW1): IRQ 0 masked, IF = 1 for a long spin: no
;   interrupt, while the IRR still latches the PIT's edges (bit 0 set);
;   unmasked again, the request is taken at once;
; - t4: the in-service register (OCW3 read ISR) inside the handler
;   (bit 0) and after its EOI (clear).
; What is printed does not depend on the timer's rate: the ROM waits for
; each interrupt, and the spins are far longer than a period.

%include "inc/rom.inc"
%include "inc/platform16.inc"

STACK   equ 0x7000
COUNT   equ 0x0500
BXSEEN  equ 0x0502
ISRSEEN equ 0x0504
MODE    equ 0x0506              ; 1: the handler records BX and the ISR

bits 16
start:
    cli
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov sp, STACK
    cld
    mov word [0x08 * 4], h_irq0
    mov word [0x08 * 4 + 2], 0xf000
    mov word [0xff * 4], h_spurious
    mov word [0xff * 4 + 2], 0xf000
    mov word [COUNT], 0
    mov word [MODE], 0
    ; the local APIC's virtual wire, through FS with a 4 GiB limit
    UNREAL_FS
    mov ebx, 0xfee00000
    mov dword [fs:ebx + 0xf0], 0x1ff    ; SVR: enabled
    mov dword [fs:ebx + 0x350], 0x700   ; LINT0: ExtINT
    ; the PIC pair, vectors 8 and 0x70, only IRQ 0
    PIC_INIT 0xfe, 0xff
    ; PIT channel 0: mode 2, 1193 (about 1 kHz)
    mov al, 0x34
    out 0x43, al
    mov al, 0xa9
    out 0x40, al
    mov al, 0x04
    out 0x40, al

; t1
    PRINT16 msg_t1
.t1:
    sti
    hlt
    cli
    cmp word [COUNT], 5
    jb .t1
    mov ax, [COUNT]
    call hex16
    call newline16

; t2: the STI shadow
    PRINT16 msg_t2
    mov word [MODE], 1
    call wait_irr0
    xor bx, bx
    sti
    inc bx
    inc bx
    cli
    mov ax, [BXSEEN]
    call hex16
    call space16
    mov ax, bx
    call hex16
    call newline16

; t3: masking
    PRINT16 msg_t3
    mov word [MODE], 0
    mov al, 0xff
    out 0x21, al
    mov dx, [COUNT]
    sti
    mov ecx, 3000000
.spin:
    dec ecx
    jnz .spin
    cli
    mov ax, [COUNT]
    sub ax, dx
    call hex16                  ; none taken
    call space16
    mov al, 0x0a                ; OCW3: read IRR
    out 0x20, al
    in al, 0x20
    and ax, 1
    call hex16                  ; IRQ 0 requested all the same
    call space16
    mov dx, [COUNT]
    mov al, 0xfe
    out 0x21, al
    sti
    nop
    cli
    mov ax, [COUNT]
    sub ax, dx
    call hex16                  ; taken at once
    call newline16

; t4: ISR in and after the handler
    PRINT16 msg_t4
    mov word [MODE], 1
    call wait_irr0
    sti
    nop
    cli
    mov ax, [ISRSEEN]
    call hex16
    call space16
    mov al, 0x0b                ; OCW3: read ISR
    out 0x20, al
    in al, 0x20
    xor ah, ah
    call hex16
    call newline16

    mov al, 0x0a
    out 0x20, al
    PRINT16 msg_end
    EXIT 0x12

; wait_irr0: with IF = 0, poll the master's IRR until IRQ 0 is requested.
wait_irr0:
    push ax
    mov al, 0x0a
    out 0x20, al
.poll:
    in al, 0x20
    test al, 1
    jz .poll
    pop ax
    ret

h_irq0:
    push ax
    inc word [COUNT]
    cmp word [MODE], 1
    jne .eoi
    mov [BXSEEN], bx
    mov al, 0x0b                ; OCW3: read ISR
    out 0x20, al
    in al, 0x20
    xor ah, ah
    mov [ISRSEEN], ax
.eoi:
    mov al, 0x20
    out 0x20, al
    pop ax
    iret

h_spurious:
    iret

%include "inc/print16.inc"
%include "inc/platform16-code.inc"

msg_t1:  db "t1 ", 0
msg_t2:  db "t2 ", 0
msg_t3:  db "t3 ", 0
msg_t4:  db "t4 ", 0
msg_end: db `end\n`, 0

RESET_VECTOR
