/*
 * IDT setup and the C side of every interrupt and exception. A fault in
 * kernel mode is a kernel bug: dump it and stop QEMU with a failure status.
 * Entries from user mode and IRQs are handed to the kernel proper (ktrap.c).
 */
#include "trap.h"

#include "../../klog.h"
#include "../../ktrap.h"
#include "cpu.h"
#include "apic.h"
#include "gdt.h"
#include "klock.h"
#include "qemu.h"

struct idt_gate {
    uint16_t off_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type; /* P | DPL | type: 0x8e = present, DPL 0, 64-bit interrupt gate */
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");
_Static_assert(TRAP_ENTRY_CLEAR_FLAGS == (RFLAGS_AC | RFLAGS_DF), "trap.S clears AC and DF");

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const uint64_t trap_stub_table[48];
extern const uint64_t trap_stub_spurious;
extern const uint64_t trap_stub_apic[2];
_Static_assert(VEC_IPI_RESCHED == 241 && VEC_APIC_TIMER == 242, "the stubs trap.S has");

static void set_gate(int vec, uint64_t handler, int ist)
{
    /* DPL 0 on every gate: `int n` from ring 3 raises #GP instead of
     * entering the kernel. The only user entry is SYSCALL. */
    idt[vec] = (struct idt_gate){
        .off_lo = handler & 0xffff,
        .selector = SEL_KCODE,
        .ist = (uint8_t)ist,
        .type = 0x8e,
        .off_mid = (handler >> 16) & 0xffff,
        .off_hi = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (int v = 0; v < 48; v++)
        set_gate(v, trap_stub_table[v], 0);
    idt[VEC_DF].ist = IST_DOUBLE_FAULT;
    idt[VEC_NMI].ist = IST_NMI;
    idt[VEC_MC].ist = IST_MACHINE_CHECK;
    set_gate(VEC_SPURIOUS, trap_stub_spurious, 0);
    set_gate(VEC_IPI_RESCHED, trap_stub_apic[0], 0);
    set_gate(VEC_APIC_TIMER, trap_stub_apic[1], 0);
#ifdef GRANITE_BENCH
    /* Benchmark kernel only: the two entry mechanisms SYSCALL is compared
     * with. A user-callable gate never exists in the production kernel. */
    extern void bench_int80_entry(void), bench_ud_entry(void);
    set_gate(0x80, (uint64_t)bench_int80_entry, 0);
    idt[0x80].type = 0xee; /* present, DPL 3, interrupt gate */
    set_gate(VEC_UD, (uint64_t)bench_ud_entry, 0);
#endif
    struct dtr d = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));
}

void idt_set_gate(int vec, uint64_t handler)
{
    set_gate(vec, handler, 0);
}

int idt_has_user_gate(void)
{
    for (int v = 0; v < 256; v++)
        if ((idt[v].type & 0x80) && ((idt[v].type >> 5) & 3) == 3)
            return 1;
    return 0;
}

static const char *const names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved 15",
    "#MF x87 error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD error",
    "#VE virtualization",
    "#CP control protection",
    "reserved 22",
    "reserved 23",
    "reserved 24",
    "reserved 25",
    "reserved 26",
    "reserved 27",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security",
    "reserved 31",
};

const char *trap_name(uint64_t vector)
{
    return vector < 32 ? names[vector] : "interrupt";
}

void trap_dump(const struct trap_frame *f, const char *who)
{
    kprintf("\n%s EXCEPTION %s (vector %lu) error=0x%lx\n", who, trap_name(f->hw.vector),
            f->hw.vector, f->hw.error);
    kprintf("  rip=");
    ksyms_print(f->hw.rip);
    kprintf("\n  rsp=%016lx rflags=%016lx cs=%04lx ss=%04lx cpl=%lu\n", f->hw.rsp, f->hw.rflags,
            f->hw.cs, f->hw.ss, f->hw.cs & 3);
    if (f->hw.vector == VEC_PF)
        kprintf("  cr2=%016lx (%s, %s, %s mode%s%s)\n", read_cr2(),
                f->hw.error & 1 ? "protection violation" : "page not present",
                f->hw.error & 2 ? "write" : "read", f->hw.error & 4 ? "user" : "kernel",
                f->hw.error & 16 ? ", instruction fetch" : "",
                f->hw.error & 8 ? ", reserved bit" : "");
    kprintf("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    kprintf("  r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", f->r9, f->r10, f->r11, f->r12);
    kprintf("  r13=%016lx r14=%016lx r15=%016lx\n", f->r13, f->r14, f->r15);
}

/* trap.S cleared AC and DF before calling us, whatever the interrupted
 * code had: no handler may run with SMAP switched off by a user. */
static void assert_entry_flags(void)
{
    assert(!(read_rflags() & (RFLAGS_AC | RFLAGS_DF)));
}

/* The local APIC's own interrupts end at once: a handler may never come
 * back here (the thread it interrupted taken away, kernel_exit), and
 * interrupts stay off in the kernel anyway. */
static void apic_end(uint64_t vector)
{
    if (vector == VEC_IPI_RESCHED || vector == VEC_APIC_TIMER)
        apic_eoi();
}

void trap_dispatch_user(struct thread *t, const struct trap_hw *h)
{
    assert_entry_flags();
    apic_end(h->vector);
    /* If t was taken from this CPU meanwhile, an interrupt is still
     * handled; a fault of t's comes again where it resumes. */
    int gone = klock_enter();
    ktrap_user(gone ? 0 : t, h->vector, h->error);
}

void trap_dispatch(struct trap_frame *f)
{
    assert_entry_flags();
    if ((f->hw.vector >= VEC_IRQ0 && f->hw.vector < VEC_IRQ0 + NUM_IRQS) ||
        f->hw.vector == VEC_IPI_RESCHED || f->hw.vector == VEC_APIC_TIMER) {
        /* In the idle loop, which let go of the kernel lock to halt. */
        apic_end(f->hw.vector);
        klock_enter();
        ktrap_interrupt(f->hw.vector);
        klock_exit();
        return;
    }
    if (f->hw.vector == VEC_SPURIOUS)
        return;
    trap_dump(f, "kernel");
    if (f->rbp)
        backtrace_print(f->rbp);
    kprintf("kernel: stopping after a kernel-mode exception\n");
    qemu_exit(QEMU_EXIT_PANIC);
}
