; pci-real.asm — PCI configuration mechanism #1 (PCI Local Bus 3.0
; §3.2.2.3.2) on QEMU's `pc` (i440FX host bridge, PIIX3, PIIX4 power
; management), as firmware enumerates it:
; - bus 0 scanned with 32-bit CONFIG_ADDRESS writes and CONFIG_DATA reads:
;   for each function "dd.f vendor:device class/rev header subsystem"
;   (functions 1-7 only of multi-function devices);
; - CONFIG_ADDRESS reads back what was written (bits 31, 23:2) and a
;   byte write to 0xCF8 does not change it; word and byte reads of the
;   data port at each lane;
; - read-only registers ignore writes (vendor ID), the i440FX PAM
;   registers (i440FX datasheet 290549: 0x58 and the reserved bits of
;   each PAM read 0; PAM0, which maps this code's 0xF0000, left alone)
;   and the PIIX3 PIRQ route registers after reset and after writes
;   (their writable bits only);
; - an absent function and the enable bit clear read all ones.
;
; QEMU's pc always has the PIIX3 IDE function (00:01.1), which xlat does
; not have yet: pci-real.qemu-fix.patch drops its line. The patch also
; makes CONFIG_ADDRESS read back 0x80fffffc after all ones are written:
; bits 30:24 are reserved and read 0, bits 1:0 are 0 (PCI 3.0
; §3.2.2.3.2); QEMU keeps all 32 bits (Bochs does too). And it masks the
; reserved bits of the PAM registers (i440FX 290549: bits 7:6 and 3:2 of
; PAM1-6) and of the PIRQ route registers (PIIX3 290550: bits 6:4), which
; QEMU keeps as written.

%include "inc/rom.inc"

STACK   equ 0x7000

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov sp, STACK
    cld

; the scan
    xor bx, bx                  ; bx = device << 3 | function
.scan:
    mov eax, 0x80000000
    movzx ecx, bx
    shl ecx, 8
    or eax, ecx
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    movzx esi, bx               ; esi = devfn << 8: the function's registers
    shl esi, 8
    cmp ax, 0xffff
    je .next
    ; "dd.f "
    mov ax, bx
    shr ax, 3
    call hex8
    mov al, '.'
    out DEBUGCON, al
    mov al, bl
    and al, 7
    add al, '0'
    out DEBUGCON, al
    call space16
    mov ecx, 0x00
    or ecx, esi
    call cfg_read               ; vendor:device
    push eax
    call hex16
    mov al, ':'
    out DEBUGCON, al
    pop eax
    shr eax, 16
    call hex16
    call space16
    mov ecx, 0x08               ; class/rev
    or ecx, esi
    call cfg_read
    call hex32
    call space16
    mov ecx, 0x0c               ; header type in byte 2
    or ecx, esi
    call cfg_read
    shr eax, 16
    call hex8
    call space16
    mov ecx, 0x2c               ; subsystem
    or ecx, esi
    call cfg_read
    call hex32
    call newline16
.next:
    ; a single-function device: skip functions 1-7
    test bl, 7
    jnz .advance
    mov ecx, 0x0c
    or ecx, esi
    call cfg_read
    cmp ax, 0xffff
    je .skip_fns
    test eax, 0x00800000
    jnz .advance
.skip_fns:
    or bl, 7
.advance:
    inc bx
    cmp bx, 0x100
    jb .scan

; CONFIG_ADDRESS
    PRINT16 msg_addr
    mov dx, 0xcf8
    mov eax, 0xffffffff
    out dx, eax
    in eax, dx
    call hex32
    call space16
    mov eax, 0x80000008
    out dx, eax
    mov al, 0x55                ; a byte write: not CONFIG_ADDRESS
    out dx, al
    in eax, dx
    call hex32
    call space16
    ; data-port lanes of the host bridge's dword at 8 (class/rev)
    mov dx, 0xcfe
    in ax, dx
    call hex16
    call space16
    mov dx, 0xcfd
    in al, dx
    call hex8
    call newline16

; read-only and writable registers
    PRINT16 msg_ro
    mov ecx, 0x00               ; vendor ID ignores writes
    mov eax, 0x12345678
    call cfg_write
    call cfg_read
    call hex32
    call space16
    mov ecx, 0x58               ; i440FX 0x58..0x5F: PAM0 at 0x59
    call cfg_read
    call hex32
    call space16
    mov ecx, 0x5c
    call cfg_read
    call hex32
    call space16
    mov ecx, 0x58               ; PAM0 (0xF0000, where this code runs)
    mov eax, 0xffff0000         ; stays 0: only PAM1, PAM2 change
    call cfg_write
    call cfg_read
    call hex32
    call space16
    mov ecx, 0x5c
    mov eax, 0xffffffff
    call cfg_write
    call cfg_read
    call hex32
    call newline16
    PRINT16 msg_pirq
    mov ecx, 0x0860             ; 00:01.0 0x60..0x63
    call cfg_read
    call hex32
    call space16
    mov eax, 0x0b0a0905
    call cfg_write
    call cfg_read
    call hex32
    call space16
    mov eax, 0xffffffff
    call cfg_write
    call cfg_read
    call hex32
    call newline16

; absent function, enable bit clear
    PRINT16 msg_absent
    mov ecx, 0x1800             ; 00:03.0
    call cfg_read
    call hex32
    call space16
    mov dx, 0xcf8
    xor eax, eax
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    call hex32
    call newline16

    PRINT16 msg_end
    EXIT 0x12

; cfg_read: EAX := bus 0 register ECX (ECX = devfn << 8 | register).
cfg_read:
    push dx
    mov eax, ecx
    or eax, 0x80000000
    mov dx, 0xcf8
    out dx, eax
    mov dx, 0xcfc
    in eax, dx
    pop dx
    ret

; cfg_write: bus 0 register ECX := EAX.
cfg_write:
    push dx
    push eax
    mov eax, ecx
    or eax, 0x80000000
    mov dx, 0xcf8
    out dx, eax
    pop eax
    mov dx, 0xcfc
    out dx, eax
    pop dx
    ret

hex32:
    push eax
    shr eax, 16
    call hex16
    pop eax
    call hex16
    ret

; hex8: print AL as two hex digits.
hex8:
    push ax
    push bx
    mov bl, al
    shr al, 4
    call .digit
    mov al, bl
    and al, 15
    call .digit
    pop bx
    pop ax
    ret
.digit:
    cmp al, 10
    jb .num
    add al, 'a' - 10
    out DEBUGCON, al
    ret
.num:
    add al, '0'
    out DEBUGCON, al
    ret

%include "inc/print16.inc"

msg_addr:   db "addr ", 0
msg_ro:     db "regs ", 0
msg_pirq:   db "pirq ", 0
msg_absent: db "absent ", 0
msg_end:    db `end\n`, 0

RESET_VECTOR
