/*
 * A disassembler plugin for HotSpot (-XX:+PrintAssembly, JMH's -prof perfasm) on binutils' libopcodes, for
 * reading what C2 made of the SIMD kernel. Diagnostics only: nothing in the product loads it.
 *
 * HotSpot calls decode_instructions_virtual with a code buffer; for each instruction we report its start
 * ("insn") and end ("/insn") through event_callback and its text through printf_callback, which is how the
 * JVM interleaves its own annotations (source lines, oops) with the instructions.
 * Build and use: bench/hsdis/build.sh (see bench/README.md).
 */
#define PACKAGE "hsdis"
#define PACKAGE_VERSION "1"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <dis-asm.h>

typedef void* (*event_cb)(void*, const char*, void*);
typedef int (*printf_cb)(void*, const char*, ...);

struct text { char buf[512]; size_t n; };

/* Appends to the instruction's text (truncated at the buffer's end); libopcodes prints an instruction in pieces. */
static int append(struct text* t, const char* fmt, va_list ap) {
    int k = vsnprintf(t->buf + t->n, sizeof t->buf - t->n, fmt, ap);
    if (k > 0) { t->n += (size_t) k; if (t->n >= sizeof t->buf) t->n = sizeof t->buf - 1; }
    return k;
}

static int put(void* stream, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = append(stream, fmt, ap);
    va_end(ap);
    return k;
}

/* The styled printer binutils >= 2.39 also calls: the style (register, mnemonic, ...) is dropped. */
static int put_styled(void* stream, enum disassembler_style style, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = append(stream, fmt, ap);
    va_end(ap);
    return k;
}

/* Addresses as plain hex: symbol lookup is HotSpot's job. */
static void no_address(bfd_vma addr, struct disassemble_info* info) {
    put(info->stream, "0x%lx", (unsigned long) addr);
}

void* decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char* buffer, uintptr_t length,
                                  event_cb event_callback, void* event_stream,
                                  printf_cb printf_callback, void* printf_stream,
                                  const char* options, int newline) {
    struct text t;
    struct disassemble_info info;
    init_disassemble_info(&info, &t, put, put_styled);
    info.arch = bfd_arch_i386;
    info.mach = bfd_mach_x86_64;
    info.buffer = buffer;
    info.buffer_vma = start_va;
    info.buffer_length = length;
    info.read_memory_func = buffer_read_memory;
    info.print_address_func = no_address;
    info.disassembler_options = "intel-mnemonic,intel";
    disassemble_init_for_target(&info);
    disassembler_ftype dis = disassembler(bfd_arch_i386, false, bfd_mach_x86_64, NULL);
    uintptr_t pc = start_va;
    while (pc < start_va + length) {
        t.n = 0; t.buf[0] = 0;
        int len = dis(pc, &info);
        if (len <= 0) len = 1; /* undecodable byte: step over it */
        event_callback(event_stream, "insn", (void*) pc);
        printf_callback(printf_stream, "%s", t.buf);
        event_callback(event_stream, "/insn", (void*) (pc + len));
        if (newline) printf_callback(printf_stream, "\n");
        pc += len;
    }
    return (void*) pc;
}
