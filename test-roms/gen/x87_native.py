"""x87_native.py: runs the tests of x87-prot (gen/x87_prot.py) on the host's
own x87 unit, as a Linux x86-64 user program, and prints their lines in the
ROM's format: an arbiter for the lines where QEMU (softfloat) and xlat
differ. Not run by the test suite; the ROM's expected log still comes from
QEMU (and its .qemu-fix.patch).

The tests that involve #MF, the last-instruction pointers or CR0/CR4 are
left out (see NATIVE in x87_prot.py); a pending unmasked exception is
harmless here because every test ends with non-waiting instructions
(FNSTSW, FXSAVE, FNINIT) before the report, and the state is put back with
FXRSTOR for the tests that go on from the previous one.

Usage: python3 gen/x87_native.py OUTDIR   (needs nasm and cc; prints the log)
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import x87_prot as x  # noqa: E402

C_SRC = r"""
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
extern unsigned char FXBUF[512], FXIMG[512], MEMOUT[16];
extern void run_tests(void);
static const char *current = "?";
static void on_fpe(int sig) { (void)sig; printf("SIGFPE in %s\n", current); fflush(stdout); _exit(1); }
void report(const char *name, uint64_t params, uint64_t flags, uint64_t sw, uint64_t swmask) {
    current = name;
    printf("%s:", name);
    unsigned nst = (params >> 24) & 0xf;
    unsigned top = (sw >> 11) & 7;
    for (unsigned i = 0; i < nst; i++) {
        printf(" st%u=", i);
        if (!((FXBUF[4] >> ((top + i) & 7)) & 1)) { printf("empty"); continue; }
        uint64_t sig; uint16_t se;
        memcpy(&sig, FXBUF + 32 + 16 * i, 8); memcpy(&se, FXBUF + 40 + 16 * i, 2);
        printf("%04x:%016llx", se, (unsigned long long)sig);
    }
    uint16_t w; memcpy(&w, FXBUF + 0, 2);
    printf(" sw=%04x tw=%02x", (unsigned)(sw & swmask & 0xffff), FXBUF[4]);
    if (params & (0x10u << 24)) printf(" cw=%04x", w);
    unsigned mem = (params >> 16) & 0xff;
    if (mem) { printf(" m="); for (unsigned i = mem; i > 0; i--) printf("%02x", MEMOUT[i - 1]); }
    if (params & 0xffff) printf(" f=%04x", (unsigned)(flags & params & 0xffff));
    printf("\n");
}
void fximg(void) {
    printf("  image:");
    for (int i = 0; i < 28; i++) printf(" %02x", FXIMG[i]);
    printf(" r0=");
    for (int i = 32; i < 42; i++) printf(" %02x", FXIMG[i]);
    printf(" r1=");
    for (int i = 48; i < 58; i++) printf(" %02x", FXIMG[i]);
    printf("\n");
}
int main(void) {
    signal(SIGFPE, on_fpe);
    setvbuf(stdout, NULL, _IOFBF, 1 << 20);
    printf("x87 FPU\n");
    run_tests();
    return 0;
}
"""


def fix(line):
    return line.replace("ROMBASE + ", "").replace("call fximg", "call fximg wrt ..plt")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    a = ["bits 64", "default rel", "extern report", "extern fximg", "global run_tests",
         "global FXBUF", "global FXIMG", "global MEMOUT", "section .data", "align 16",
         "FXBUF: times 512 db 0", "FXIMG: times 512 db 0", "MEMOUT: times 16 db 0",
         "CWTMP: dw 0", "SWTMP: dw 0"]
    for (kind, v), label in x.K.items():
        if kind == "t":
            a += [f"{label}: dq {v[1]:#018x}", f"    dw {v[0]:#06x}"]
        elif kind == "b":
            a.append(f"{label}: db " + ", ".join(f"{b:#04x}" for b in v))
        else:
            a.append(f"{label}: {dict(d='dd', q='dq', w='dw')[kind]} {v:#x}")
    a += ["section .rodata"]
    for i, t in enumerate(x.TESTS):
        a.append(f"name{i}: db {t['name']!r}, 0")
    a += ["section .text", "prep:", "    fninit"] + [
        f"    mov dword [MEMOUT + {o}], 0xcccccccc" for o in (0, 4, 8, 12)] + ["    ret"]
    a += ["run_tests:", "    push rbx", "    push rbp", "    push r12", "    push r13",
          "    push r14", "    push r15", "    sub rsp, 8"]
    for i, t in enumerate(x.TESTS):
        a.append(f"; {t['name']}")
        if t["fresh"]:
            a.append("    call prep")
        if t["cw"] is not None:
            a += [f"    mov word [CWTMP], {t['cw']:#x}", "    fldcw [CWTMP]"]
        a += [f"    push qword {t['f_in']:#x}", "    popfq"]
        a += ["    " + fix(c) if not c.endswith(":") else c for c in t["code"]]
        params = (t["fmask"] | (t["mem"] << 16) | (t["nst"] << 24) |
                  ((0x10 if t["show_cw"] else 0) << 24))
        a += ["    pushfq", "    pop r12", "    fnstsw ax", "    mov [SWTMP], ax",
              "    fxsave [FXBUF]", "    fninit", f"    lea rdi, [name{i}]",
              f"    mov rsi, {params:#x}", "    mov rdx, r12", "    movzx ecx, word [SWTMP]", f"    mov r8d, {t['swmask']:#x}",
              "    call report wrt ..plt", "    fxrstor [FXBUF]"]
        a += ["    " + fix(c) for c in t["after"]]
    a += ["    add rsp, 8", "    pop r15", "    pop r14", "    pop r13", "    pop r12",
          "    pop rbp", "    pop rbx", "    ret", 'section .note.GNU-stack noalloc noexec nowrite']
    with open(f"{out}/tests.asm", "w") as f:
        f.write("\n".join(a) + "\n")
    with open(f"{out}/main.c", "w") as f:
        f.write(C_SRC)
    subprocess.run(["nasm", "-f", "elf64", "-o", f"{out}/tests.o", f"{out}/tests.asm"], check=True)
    subprocess.run(["cc", "-O1", "-no-pie", "-o", f"{out}/x87-native", f"{out}/main.c",
                    f"{out}/tests.o"], check=True)
    sys.stdout.flush()
    subprocess.run([f"{out}/x87-native"], check=True)


if __name__ == "__main__":
    main()
