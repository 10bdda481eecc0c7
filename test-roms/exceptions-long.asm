; exceptions-long.asm — exceptions, interrupts and SYSCALL/SYSRET in 64-bit
; mode: a 64-bit IDT (one gate using IST1), 4-level paging with NX
; (EFER.NXE), #DE, #UD for opcodes invalid in 64-bit mode, #GP for a
; non-canonical address, #PF error codes with the I/D bit, the 16-byte stack
; alignment of 64-bit event delivery, SYSRET to CPL 3, events at CPL 3
; (stack switch to TSS.RSP0, privileged instructions, U/S and NX
; page faults), then SYSCALL back to CPL 0.
;
; The handler prints one line per event:
;   <name> v=<vector> err=<error code> rip=<pushed RIP> cs=<pushed CS>
;          f=<pushed RFLAGS> ss:rsp=<pushed SS:RSP> hrsp=<handler RSP>
;          [cr2=<CR2>]
; where hrsp is RSP just after the processor pushed its frame (error code
; included), and returns to the label the test stored in RESUME.

%include "inc/rom.inc"

STACK0   equ 0x8008             ; deliberately not 16-byte aligned
RSP0     equ 0x9000             ; TSS.RSP0
IST1     equ 0xa000             ; TSS.IST1
STACK3   equ 0x7000
IDT      equ 0x1000
GDT_RAM  equ 0x2000
TSS      equ 0x3000
NAME     equ 0x0500
RESUME   equ 0x0508
PML4     equ 0x20000
PDPT     equ 0x21000
PDIR     equ 0x22000
PT       equ 0x23000
NOTPRES  equ 0x40000
NXPAGE   equ 0x41000
SUPER    equ 0x42000

SEL_CODE32 equ 0x08
SEL_CODE0  equ 0x10
SEL_DATA0  equ 0x18
SEL_USER   equ 0x20             ; STAR[63:48]: SS = +8, CS = +16
SEL_DATA3  equ 0x28 | 3
SEL_CODE3  equ 0x30 | 3
SEL_TSS    equ 0x38

%macro TEST 2
    %push test
    jmp %%go
%%s: db %1, 0
%%go:
    lea rax, [rel %%s]
    mov [NAME], rax
    lea rax, [rel %$after]
    mov [RESUME], rax
    push qword %2
    popfq
%endmacro

%macro END_TEST 0
    call no_event
%$after:
    %pop
%endmacro

%macro END_TEST3 0
%$after:
    %pop
%endmacro

; PUTF64 label, value, digits: print the string, then the value in hex.
; Clobbers RAX, RCX, RSI.
%macro PUTF64 3
    mov rax, %2
    push rax
    lea rsi, [rel %1]
    call puts64
    pop rax
    mov ecx, %3
    call hex64
%endmacro

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov sp, 0x7c00
    lgdt [cs:gdtr_rom]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword SEL_CODE32:(ROMBASE + pm32)

bits 32
pm32:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7c00
    ; page tables: 0-2 MiB in 4 KiB user pages, except the test pages
    mov edi, PML4
    mov ecx, 4 * 1024
    xor eax, eax
    cld
    rep stosd
    mov dword [PML4], PDPT | 0x007
    mov dword [PDPT], PDIR | 0x007
    mov dword [PDIR], PT | 0x007
    mov edi, PT
    mov eax, 0x007
    mov ecx, 512
.pte:
    mov [edi], eax
    add edi, 8
    add eax, 0x1000
    loop .pte
    mov dword [PT + (NOTPRES >> 12) * 8], 0
    mov dword [PT + (NXPAGE >> 12) * 8], NXPAGE | 0x007
    mov dword [PT + (NXPAGE >> 12) * 8 + 4], 0x80000000
    mov dword [PT + (SUPER >> 12) * 8], SUPER | 0x003
    ; the page of the ROM's first 4 KiB holds code run at CPL 3: user (all
    ; pages are), executable
    mov eax, cr4
    or eax, 0x20                ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x901               ; SCE, LME, NXE
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp SEL_CODE0:(ROMBASE + lm64)

bits 64
lm64:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, STACK0
    ; GDT to RAM (LTR writes the busy bit)
    lea rsi, [rel gdt]
    mov edi, GDT_RAM
    mov ecx, gdt_end - gdt
    rep movsb
    lgdt [rel gdtr_ram]
    ; IDT: 16-byte gates from the table
    mov edi, IDT
    mov ecx, 256 * 4
    xor eax, eax
    rep stosd
    lea rsi, [rel gates]
.gate:
    movzx ebx, byte [rsi]       ; vector
    shl ebx, 4
    movzx edx, word [rsi + 1]   ; IST and type/DPL
    mov eax, [rsi + 3]          ; handler offset in the ROM
    add eax, ROMBASE
    mov ecx, eax
    and ecx, 0xffff
    or ecx, SEL_CODE0 << 16
    mov [IDT + rbx], ecx
    and eax, 0xffff0000
    or eax, edx
    mov [IDT + rbx + 4], eax
    mov dword [IDT + rbx + 8], 0
    add rsi, 7
    lea rax, [rel gates_end]
    cmp rsi, rax
    jb .gate
    lidt [rel idtr]
    ; TSS: RSP0, IST1, no I/O bitmap
    mov edi, TSS
    mov ecx, 0x68 / 4
    xor eax, eax
    rep stosd
    mov dword [TSS + 4], RSP0
    mov dword [TSS + 0x24], IST1
    mov word [TSS + 0x66], 0x68
    mov ax, SEL_TSS
    ltr ax
    ; SYSCALL: STAR, LSTAR, SFMASK (clear AC, OF, DF, IF, TF and the status
    ; flags: QEMU 7.2 clears the status flags on SYSCALL whatever SFMASK
    ; says, so the ROM masks them all and both agree)
    mov ecx, 0xc0000081
    mov eax, 0
    mov edx, (SEL_USER << 16) | SEL_CODE0
    wrmsr
    mov ecx, 0xc0000082
    lea rax, [rel syscall_entry]
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, 0xc0000084
    mov eax, 0x40fd5
    xor edx, edx
    wrmsr

    lea rsi, [rel msg_hello]
    call puts64

    TEST "de", 0x002
    mov rax, 0x8000000000000000
    mov rdx, -1
    mov rcx, -1
    idiv rcx
    END_TEST

    TEST "ud-push-es", 0x002
    db 0x06
    END_TEST

    TEST "ud-into", 0x002
    db 0xce
    END_TEST

    TEST "gp-noncanon", 0x002
    mov rax, 0x0000800000000000
    mov rbx, [rax]
    END_TEST

    TEST "canon-high", 0x002
    mov rax, 0xffff800000000000
    mov rbx, [rax]              ; canonical but not mapped: #PF
    END_TEST

    TEST "int3", 0x0c3
    int3
    END_TEST

    TEST "int40-ist", 0x002
    int 0x40
    END_TEST

    TEST "pf-read", 0x002
    mov rax, [NOTPRES + 8]
    END_TEST

    TEST "pf-write", 0x002
    mov [NOTPRES + 16], rax
    END_TEST

    TEST "pf-fetch", 0x002
    mov eax, NOTPRES
    jmp rax
    END_TEST

    TEST "pf-nx", 0x002
    mov eax, NXPAGE
    jmp rax
    END_TEST

    TEST "nx-read-ok", 0x002
    mov rax, [NXPAGE]
    END_TEST

    ; to CPL 3 with SYSRET
    lea rcx, [rel ring3]
    mov r11d, 0x002
    mov rsp, STACK3
    o64 sysret

ring3:
    TEST "r3-int40", 0x002
    int 0x40
    END_TEST3

    ; (INT n through a DPL-0 gate from CPL 3 is left out: QEMU 7.2 pushes
    ; the error code vector * 16 + 2 in 64-bit mode, the SDM says vector * 8
    ; + 2; exceptions-prot checks it in 32-bit mode.)

    TEST "r3-hlt", 0x002
    hlt
    END_TEST3

    TEST "r3-wrmsr", 0x002
    wrmsr
    END_TEST3

    TEST "r3-pf-super", 0x002
    mov rax, [SUPER]
    END_TEST3

    TEST "r3-pf-nx", 0x002
    mov eax, NXPAGE
    jmp rax
    END_TEST3

    mov r11, 0x1234             ; overwritten by SYSCALL
    push qword 0x8c3            ; flags SYSCALL saves in R11
    popfq
    syscall

syscall_entry:
    pushfq                      ; RFLAGS after SFMASK, before anything runs
    pop r13
    mov rsp, STACK0
    mov rbx, rcx                ; return RIP
    mov r12, r11                ; RFLAGS
    lea rsi, [rel msg_syscall]
    call puts64
    PUTF64 msg_rcx, rbx, 16
    PUTF64 msg_r11, r12, 4
    mov rbx, cs
    PUTF64 msg_cs, rbx, 4
    mov rbx, ss
    PUTF64 msg_ss, rbx, 4
    and r13d, 0x3fd7
    PUTF64 msg_f, r13, 4
    mov al, 10
    out DEBUGCON, al
    EXIT 0x12

; no_event: print "<name> no event\n".
no_event:
    push rsi
    mov rsi, [NAME]
    call puts64
    lea rsi, [rel msg_none]
    call puts64
    pop rsi
    ret

%macro STUB 2                   ; vector, 1 if the CPU pushes an error code
h_%1:
%if %2 == 0
    push qword 0
%endif
    push qword %1
    jmp handler
%endmacro
    STUB 0, 0
    STUB 3, 0
    STUB 6, 0
    STUB 13, 1
    STUB 14, 1
    STUB 0x40, 0

; Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS.
handler:
    push rbp
    mov rbp, rsp
    push rax
    push rcx
    push rsi
    mov rsi, [NAME]
    call puts64
    PUTF64 msg_v, [rbp + 8], 2
    PUTF64 msg_err, [rbp + 16], 4
    PUTF64 msg_rip, [rbp + 24], 16
    PUTF64 msg_cs, [rbp + 32], 4
    mov rax, [rbp + 40]
    and eax, 0x3fd7
    PUTF64 msg_f, rax, 4
    PUTF64 msg_ssrsp, [rbp + 56], 4
    mov al, ':'
    out DEBUGCON, al
    mov rax, [rbp + 48]
    mov ecx, 8
    call hex64
    lea rax, [rbp + 8]          ; RSP after the stub's pushes ...
    add rax, 8                  ; ... minus the vector ...
    cmp qword [rbp + 8], 13
    je .has_code
    cmp qword [rbp + 8], 14
    je .has_code
    add rax, 8                  ; ... and the stub's zero error code
.has_code:
    PUTF64 msg_hrsp, rax, 8
    cmp qword [rbp + 8], 14
    jne .eol
    mov rax, cr2
    PUTF64 msg_cr2, rax, 16
.eol:
    mov al, 10
    out DEBUGCON, al
    mov rax, [RESUME]
    mov [rbp + 24], rax
    pop rsi
    pop rcx
    pop rax
    pop rbp
    add rsp, 16
    iretq

%include "inc/print64.inc"

; gate table: vector, IST | type/DPL << 8, handler offset
%macro GATE 3                   ; vector, type/DPL byte, IST
    db %1
    dw %3 | (%2 << 8)
    dd h_%1
%endmacro
gates:
    GATE 0, 0x8e, 0             ; 64-bit interrupt gate, DPL 0
    GATE 3, 0xee, 0             ; DPL 3
    GATE 6, 0x8e, 0
    GATE 13, 0x8e, 0
    GATE 14, 0x8e, 0
    GATE 0x40, 0xee, 1          ; DPL 3, IST1
gates_end:

align 8
gdt:
    dq 0                        ; 0x00 null
    dq 0x00cf9b000000ffff       ; 0x08 code, 32-bit, DPL 0
    dq 0x00af9b000000ffff       ; 0x10 code, 64-bit, DPL 0
    dq 0x00cf93000000ffff       ; 0x18 data, DPL 0
    dq 0x00cffb000000ffff       ; 0x20 code, 32-bit, DPL 3 (SYSRET base)
    dq 0x00cff3000000ffff       ; 0x28 data, DPL 3
    dq 0x00affb000000ffff       ; 0x30 code, 64-bit, DPL 3
    dq 0x0000890000000067 | (TSS << 16) ; 0x38 64-bit TSS (available)
    dq 0                        ;      its upper half
gdt_end:
gdtr_rom:
    dw gdt_end - gdt - 1
    dd ROMBASE + gdt
gdtr_ram:
    dw gdt_end - gdt - 1
    dq GDT_RAM
idtr:
    dw 256 * 16 - 1
    dq IDT

msg_hello:   db `long-mode exceptions\n`, 0
msg_none:    db ` no event\n`, 0
msg_v:       db " v=", 0
msg_err:     db " err=", 0
msg_rip:     db " rip=", 0
msg_cs:      db " cs=", 0
msg_f:       db " f=", 0
msg_ssrsp:   db " ss:rsp=", 0
msg_hrsp:    db " hrsp=", 0
msg_cr2:     db " cr2=", 0
msg_syscall: db "syscall", 0
msg_rcx:     db " rcx=", 0
msg_r11:     db " r11=", 0
msg_ss:      db " ss=", 0

RESET_VECTOR
