; ioapic-real.asm — the I/O APIC (82093AA, QEMU's at 0xFEC00000) routing
; ISA interrupts to the local APIC, from real mode with FS reaching both
; register pages ("unreal" mode), the 8259A pair fully masked:
; - t1: version register (24 pins, version 0x20), ID 0, redirection entry
;   4 after reset (masked);
; - t2: COM1's THRE interrupt (IER.ETBEI with MCR.OUT2) on pin 4, edge,
;   vector 0x54: the handler reads IIR (0x02: THR empty, FIFOs off) and
;   sends the local APIC an EOI;
; - t3: the RTC's periodic interrupt on pin 8 programmed level-triggered,
;   vector 0x58: in the handler the entry's remote IRR (bit 14) is set;
;   reading RTC register C lowers IRQ 8 and the EOI (a level vector: the
;   local APIC broadcasts it) clears remote IRR; three interrupts;
; - end: the 8042's pulse-reset command (0xFE to port 0x64) resets the
;   machine: QEMU with -no-reboot and xlat both stop with status 0.

%include "inc/rom.inc"
%include "inc/platform16.inc"

STACK   equ 0x7000
COUNT   equ 0x0500
IIRV    equ 0x0502
RIRR    equ 0x0504
APIC    equ 0xfee00000
IOAPIC  equ 0xfec00000

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov sp, STACK
    cld
    mov word [0x54 * 4], h_com1
    mov word [0x54 * 4 + 2], 0xf000
    mov word [0x58 * 4], h_rtc
    mov word [0x58 * 4 + 2], 0xf000
    mov word [0xff * 4], h_spurious
    mov word [0xff * 4 + 2], 0xf000
    UNREAL_FS
    mov ebx, APIC
    mov edi, IOAPIC
    mov dword [fs:ebx + 0xf0], 0x1ff    ; local APIC enabled
    ; Both PICs initialized and fully masked.
    PIC_INIT 0xff, 0xff

; t1
    PRINT16 msg_t1
    mov eax, 1
    call ioread
    call hex32
    call space16
    xor eax, eax
    call ioread
    call hex32
    call space16
    mov eax, 0x10 + 2 * 4
    call ioread
    call hex32
    call space16
    mov eax, 0x11 + 2 * 4
    call ioread
    call hex32
    call newline16

; t2: COM1 THRE on pin 4
    PRINT16 msg_t2
    mov word [COUNT], 0
    mov eax, 0x11 + 2 * 4       ; destination: APIC ID 0
    xor edx, edx
    call iowrite
    mov eax, 0x10 + 2 * 4       ; edge, active high, fixed, vector 0x54
    mov edx, 0x54
    call iowrite
    mov dx, 0x3fb
    mov al, 0x03                ; 8N1
    out dx, al
    mov dx, 0x3fc
    mov al, 0x08                ; OUT2
    out dx, al
    mov dx, 0x3f9
    mov al, 0x02                ; ETBEI: THR is empty, so THRE now
    out dx, al
.t2_wait:
    sti
    hlt
    cli
    cmp word [COUNT], 0
    je .t2_wait
    mov ax, [COUNT]
    call hex16
    call space16
    mov ax, [IIRV]
    call hex16
    call newline16
    mov dx, 0x3f9
    xor al, al
    out dx, al
    mov eax, 0x10 + 2 * 4
    mov edx, 0x10054            ; masked again
    call iowrite

; t3: the RTC on pin 8, level-triggered
    PRINT16 msg_t3
    mov word [COUNT], 0
    mov eax, 0x11 + 2 * 8
    xor edx, edx
    call iowrite
    mov eax, 0x10 + 2 * 8       ; level (bit 15), active high, vector 0x58
    mov edx, 0x8058
    call iowrite
    mov al, 0x0a                ; register A: 32.768 kHz, rate 6 (1024 Hz)
    out 0x70, al
    mov al, 0x26
    out 0x71, al
    mov al, 0x0b                ; register B: PIE, 24-hour
    out 0x70, al
    mov al, 0x42
    out 0x71, al
.t3_wait:
    sti
    hlt
    cli
    cmp word [COUNT], 3
    jb .t3_wait
    mov al, 0x0b
    out 0x70, al
    mov al, 0x02
    out 0x71, al
    mov al, 0x0c
    out 0x70, al
    in al, 0x71
    mov ax, [COUNT]
    call hex16
    call space16
    mov ax, [RIRR]
    call hex16
    call space16
    mov eax, 0x10 + 2 * 8       ; remote IRR clear after the EOIs
    call ioread
    call hex32
    call newline16

    PRINT16 msg_end
    mov al, 0xfe                ; 8042: pulse the reset line
    out 0x64, al
.stuck:
    hlt
    jmp .stuck

; ioread: EAX := I/O APIC register EAX.
ioread:
    mov [fs:edi], eax
    mov eax, [fs:edi + 0x10]
    ret

; iowrite: I/O APIC register EAX := EDX.
iowrite:
    mov [fs:edi], eax
    mov [fs:edi + 0x10], edx
    ret

h_com1:
    push ax
    push dx
    mov dx, 0x3fa
    in al, dx
    xor ah, ah
    mov [IIRV], ax
    inc word [COUNT]
    mov dword [fs:ebx + 0xb0], 0
    pop dx
    pop ax
    iret

h_rtc:
    push eax
    mov eax, 0x10 + 2 * 8
    mov [fs:edi], eax
    mov eax, [fs:edi + 0x10]
    shr eax, 14
    and ax, 1
    mov [RIRR], ax
    mov al, 0x0c                ; register C: read to clear IRQF
    out 0x70, al
    in al, 0x71
    inc word [COUNT]
    mov dword [fs:ebx + 0xb0], 0
    pop eax
    iret

h_spurious:
    iret

%include "inc/print16.inc"
%include "inc/platform16-code.inc"

msg_t1:  db "t1 ", 0
msg_t2:  db "t2 ", 0
msg_t3:  db "t3 ", 0
msg_end: db `end\n`, 0

RESET_VECTOR
