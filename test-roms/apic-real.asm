; apic-real.asm — the local APIC (SDM Vol. 3 ch. 11, xAPIC) from real mode
; with FS reaching its register page at 0xFEE00000 ("unreal" mode):
; - t1: the registers after power-on (11.4.7.1): ID 0, version 0x00050014
;   (QEMU's: six LVT entries), TPR 0, DFR all ones, LDR 0, SVR 0xFF (the
;   unit software-disabled), every LVT entry masked (0x10000), LINT0
;   included;
; - t2: with LINT0 masked the 8259A's interrupts do not reach the
;   processor: IRQ 0 of the PIT programmed at about 1 kHz, IF = 1 for a
;   while, no interrupt; then virtual-wire mode (SVR enable, LINT0 ExtINT,
;   as firmware sets it up, MP spec 3.6.2.2) and the next IRQ 0 arrives;
; - t3: the timer in periodic mode (divide by 1, vector 0x40) interrupts
;   five times; its current count is then below its initial count;
; - t4: one-shot mode: one interrupt, then the current count reads 0;
; - t5: priorities (11.8.3): a self IPI of vector 0x45 (class 4) while
;   TPR = 0x50 stays in the IRR (IF = 1, not taken); TPR := 0 delivers it;
;   in the handler ISR has the bit and PPR = 0x40; after the EOI the ISR
;   bit is clear and PPR is 0.
; Interrupt counts do not depend on the timer's rate: the ROM waits for
; each interrupt with HLT.

%include "inc/rom.inc"
%include "inc/platform16.inc"

STACK   equ 0x7000
TICKS   equ 0x0500              ; APIC timer interrupts
IRQ0S   equ 0x0502              ; PIC IRQ 0 interrupts
IPIS    equ 0x0504              ; vector 0x45 handler runs
PPRIN   equ 0x0508              ; PPR seen in the 0x45 handler
ISRIN   equ 0x050c              ; ISR[0x45 / 32] seen in the handler
APIC    equ 0xfee00000

%macro APICW 2                  ; APIC register %1 := %2
    mov dword [fs:ebx + %1], %2
%endmacro

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov sp, STACK
    cld
    mov word [0x40 * 4], h_timer
    mov word [0x40 * 4 + 2], 0xf000
    mov word [0x45 * 4], h_ipi
    mov word [0x45 * 4 + 2], 0xf000
    mov word [0x08 * 4], h_irq0
    mov word [0x08 * 4 + 2], 0xf000
    mov word [0xff * 4], h_spurious
    mov word [0xff * 4 + 2], 0xf000
    mov word [TICKS], 0
    mov word [IRQ0S], 0
    mov word [IPIS], 0
    ; FS with a 4 GiB limit: load it in protected mode and come back.
    UNREAL_FS
    mov ebx, APIC

; t1: power-on registers
    PRINT16 msg_t1
    mov si, t1_regs
.t1:
    mov di, [cs:si]
    cmp di, 0xffff
    je .t1_done
    mov eax, [fs:ebx + edi]
    call hex32
    call space16
    add si, 2
    jmp .t1
.t1_done:
    call newline16

; t2: LINT0 masked, then the virtual wire
    PRINT16 msg_t2
    PIC_INIT 0xfe, 0xff
    mov al, 0x34                ; PIT channel 0, mode 2, 1193 (1 kHz)
    out 0x43, al
    mov al, 0xa9
    out 0x40, al
    mov al, 0x04
    out 0x40, al
    sti
    mov ecx, 200000
.spin:
    dec ecx
    jnz .spin
    cli
    mov ax, [IRQ0S]
    call hex16
    call space16
    APICW 0xf0, 0x1ff           ; SVR: enabled, spurious vector 0xFF
    APICW 0x350, 0x700          ; LINT0: ExtINT
    APICW 0x360, 0x400          ; LINT1: NMI
.t2_wait:
    sti
    hlt
    cli
    cmp word [IRQ0S], 0
    je .t2_wait
    mov al, 0xff                ; PIC quiet again
    out 0x21, al
    mov ax, 1
    call hex16
    call newline16

; t3: periodic timer
    PRINT16 msg_t3
    APICW 0x3e0, 0xb            ; divide by 1
    APICW 0x320, 0x20040        ; periodic, vector 0x40
    APICW 0x380, 0x20000        ; initial count
.t3_wait:
    sti
    hlt
    cli
    cmp word [TICKS], 5
    jb .t3_wait
    APICW 0x320, 0x10040        ; masked
    mov ax, [TICKS]
    call hex16
    call space16
    mov eax, [fs:ebx + 0x390]   ; current count
    cmp eax, 0x20000
    setb al
    movzx ax, al
    call hex16
    call newline16
    APICW 0x380, 0              ; stopped

; t4: one-shot
    PRINT16 msg_t4
    mov word [TICKS], 0
    APICW 0x320, 0x40           ; one-shot, vector 0x40
    APICW 0x380, 0x1000
.t4_wait:
    sti
    hlt
    cli
    cmp word [TICKS], 0
    je .t4_wait
    mov ax, [TICKS]
    call hex16
    call space16
    mov eax, [fs:ebx + 0x390]
    call hex32
    call newline16

; t5: TPR, a self IPI, ISR and PPR
    PRINT16 msg_t5
    APICW 0x80, 0x50            ; TPR: class 5
    APICW 0x300, 0x44045        ; ICR: self, fixed, vector 0x45
    sti
    mov ecx, 1000
.t5_spin:
    dec ecx
    jnz .t5_spin
    cli
    mov ax, [IPIS]
    call hex16
    call space16
    mov eax, [fs:ebx + 0x220]   ; IRR[2]: bit 5 is vector 0x45
    call hex32
    call space16
    APICW 0x80, 0               ; TPR 0: deliverable now
    sti
    nop
    cli
    mov ax, [IPIS]
    call hex16
    call space16
    mov eax, [PPRIN]
    call hex32
    call space16
    mov eax, [ISRIN]
    call hex32
    call space16
    mov eax, [fs:ebx + 0x120]   ; ISR[2] after the EOI
    call hex32
    call space16
    mov eax, [fs:ebx + 0xa0]    ; PPR
    call hex32
    call newline16

    PRINT16 msg_end
    EXIT 0x12

h_timer:
    inc word [TICKS]
    mov dword [fs:ebx + 0xb0], 0 ; EOI
    iret

h_ipi:
    push eax
    inc word [IPIS]
    mov eax, [fs:ebx + 0xa0]
    mov [PPRIN], eax
    mov eax, [fs:ebx + 0x120]
    mov [ISRIN], eax
    mov dword [fs:ebx + 0xb0], 0
    pop eax
    iret

h_irq0:
    push ax
    inc word [IRQ0S]
    mov al, 0x20
    out 0x20, al
    pop ax
    iret

h_spurious:
    iret

%include "inc/print16.inc"
%include "inc/platform16-code.inc"

; The registers t1 reads: ID, version, TPR, LDR, DFR, SVR, the six LVT
; entries (CMCI at 0x2F0 does not exist in this version).
t1_regs: dw 0x20, 0x30, 0x80, 0xd0, 0xe0, 0xf0, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0xffff

msg_t1:  db "t1 ", 0
msg_t2:  db "t2 ", 0
msg_t3:  db "t3 ", 0
msg_t4:  db "t4 ", 0
msg_t5:  db "t5 ", 0
msg_end: db `end\n`, 0

RESET_VECTOR
