"""sse_prot_native.py: runs the tests of sse-prot (gen/sse_prot.py) that a
Linux user program can run on the host's own SSE, MMX and x87 units, and
prints their lines in the ROM's format: the arbiter for the lines where
QEMU and Bochs (or xlat) disagree. Not run by the test suite; the ROM's
expected log still comes from QEMU (and sse-prot.qemu-fix.patch).

The ROM's code is 32-bit; here it runs in 64-bit mode, which needs no
change to it: the tests address memory through ESI and EDI (32-bit
addresses, zero-extended) and flat absolute addresses, so the data the ROM
copies to SEGBASE + DOFF is copied to the same address of a fixed mapping
(0x30000-0x5ffff) and ESI and EDI get the flat addresses DS = SEGBASE
would have given (SEGBASE + DOFF, SEGBASE + SOFF). Left out (see
sseprotgen.NOT_NATIVE): CR0/CR4 changes, segment loads and overrides,
16-bit addressing, the segment-limit tests, and the FXSAVE images whose
x87 pointers or XMM8-15 area differ in 64-bit mode.

An exception prints `#vv err=eeee ` from the signal's trap number and
error code, then the test goes on at its end, as in the ROM; the ROM's
lines carry the pushed EIP and CS as well, which `--compare` drops.

Usage: python3 gen/sse_prot_native.py OUTDIR [--compare]   (needs nasm and
cc; prints the log, or with --compare the differences from sse-prot.expected
on the lines it runs)
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sse_prot  # noqa: E402
import sseprotgen as layout  # noqa: E402

C_SRC = r"""
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
extern uint64_t RESUME;
extern char dstart[], dend[];
extern void run_tests(void);
static const char *names[6] = {"eax", "ebx", "ecx", "edx", "esi", "edi"};
static void on_fault(int sig, siginfo_t *si, void *ctx) {
    (void)sig; (void)si;
    ucontext_t *uc = ctx;
    printf("#%02llx err=%04llx ", (unsigned long long)uc->uc_mcontext.gregs[REG_TRAPNO],
           (unsigned long long)uc->uc_mcontext.gregs[REG_ERR]);
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)RESUME;
}
/* The ROM's lines: six values a line, the first with the flags, the
   others named "NAME +" with f=0000. */
void report(const char *name, const uint32_t *slots, uint64_t flagmask, uint64_t flags) {
    const uint32_t *scr = (const uint32_t *)(uintptr_t)SCR;
    uint32_t n = slots[0];
    for (uint32_t line = 0; line == 0 || line * 6 < n; line++) {
        printf("%s%s:", name, line ? " +" : "");
        for (uint32_t i = line * 6; i < n && i < line * 6 + 6; i++)
            printf(" %s=%08x", names[i - line * 6], scr[slots[1 + i] / 4]);
        printf(" f=%04llx\n", line ? 0ULL : (unsigned long long)(flags & flagmask));
    }
}
int main(void) {
    if (mmap((void *)(uintptr_t)LOW, LOW_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memcpy((void *)(uintptr_t)(SEGBASE + DOFF), dstart, (size_t)(dend - dstart));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    setvbuf(stdout, NULL, _IOFBF, 1 << 20);
    run_tests();
    return 0;
}
"""


def build(out):
    x, L = sse_prot, layout
    low, high = L.SCR, L.SEGBASE + 0x20000
    a = ["bits 64", "default abs", "extern report", "global run_tests", "global RESUME",
         "global dstart", "global dend", "%define ROMBASE 0",
         f"SCR equ {L.SCR:#x}", f"SEGBASE equ {L.SEGBASE:#x}", f"DOFF equ {L.DOFF:#x}",
         f"SOFF equ {L.SOFF:#x}", "section .data", "align 16", "RESUME: dq 0"]
    a += [l for l in x.r.extra.splitlines() if not l.startswith("msg_hello")]
    a += ["section .text", "run_tests:", "    push rbx", "    push rbp", "    push r12",
          "    push r13", "    push r14", "    push r15", "    sub rsp, 8"]
    names = []
    for i, t in enumerate(x.TESTS):
        if "raw" in t:
            if not any(w in c for c in t["raw"] for w in L.NOT_NATIVE + ("dstart",)):
                a += ["    " + c for c in t["raw"]]
            continue
        if not t["native"]:
            continue
        names.append(f"name{i}: db {t['name']!r}, 0")
        names.append(f"slots{i}: dd {len(t['slots'])}" +
                     "".join(f", {s:#x}" for s in t["slots"]))
        setup = dict(esi=L.SEGBASE + L.DOFF, edi=L.SEGBASE + L.SOFF)
        setup.update(t["setup"])
        a.append(f"; {t['name']}")
        a += [f"    lea rax, [end{i}]", "    mov [RESUME], rax"]
        a += [f"    mov {reg}, {v & 0xffffffff:#x}" for reg, v in setup.items()]
        a += [f"    push qword {t['f_in']:#x}", "    popfq"]
        a += ["    " + c for c in t["pre"] + t["code"]]
        a.append(f"end{i}:")
        a += ["    " + c for c in t["post"]]
        a += ["    pushfq", "    pop rcx", f"    lea rdi, [name{i}]", f"    lea rsi, [slots{i}]",
              f"    mov rdx, {t['mask']:#x}", "    call report wrt ..plt"]
    a += ["    add rsp, 8", "    pop r15", "    pop r14", "    pop r13", "    pop r12",
          "    pop rbp", "    pop rbx", "    ret", "section .rodata"] + names
    a.append("section .note.GNU-stack noalloc noexec nowrite")
    os.makedirs(out, exist_ok=True)
    with open(f"{out}/tests.asm", "w") as f:
        f.write("\n".join(a) + "\n")
    with open(f"{out}/main.c", "w") as f:
        f.write(C_SRC)
    subprocess.run(["nasm", "-f", "elf64", "-o", f"{out}/tests.o", f"{out}/tests.asm"], check=True)
    subprocess.run(["cc", "-O1", "-no-pie", f"-DSCR={L.SCR:#x}", f"-DLOW={low:#x}",
                    f"-DLOW_SIZE={high - low:#x}", f"-DSEGBASE={L.SEGBASE:#x}",
                    f"-DDOFF={L.DOFF:#x}", "-o", f"{out}/sse-prot-native", f"{out}/main.c",
                    f"{out}/tests.o"], check=True)


def main():
    out = sys.argv[1]
    build(out)
    log = subprocess.run([f"{out}/sse-prot-native"], check=True, capture_output=True,
                         text=True).stdout
    if "--compare" not in sys.argv:
        sys.stdout.write(log)
        return
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(here, "sse-prot.expected")) as f:
        rom = {}
        for line in f:
            line = re.sub(r" eip=[0-9a-f]+ cs=[0-9a-f]+", "", line.rstrip("\n"))
            name = re.sub(r"^#.. err=.... ", "", line).split(": eax=")[0].split(": f=")[0]
            rom[name] = line
    same = differ = 0
    for line in log.splitlines():
        name = re.sub(r"^#.. err=.... ", "", line).split(": eax=")[0].split(": f=")[0]
        if rom.get(name) == line:
            same += 1
        else:
            differ += 1
            print(f"rom:    {rom.get(name)}\nnative: {line}")
    print(f"{same} lines the same, {differ} different")


if __name__ == "__main__":
    main()
