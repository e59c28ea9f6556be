/*
 * Multiprocessor start-up (see smp.h): the MADT from the loader's RSDP, then
 * INIT-SIPI-SIPI for each application processor. An AP gets its own kernel
 * stack, GDT and TSS with guarded IST stacks, GS base (its pcpus[] entry)
 * and SYSCALL MSRs, FPU set-up and local APIC timer, says it is online,
 * and once the BSP lets it (smp_go) runs the threads whose home it is.
 */
#include "smp.h"

#include <abi/errno.h>
#include <common/string.h>

#include "../../acpi.h"
#include "../../bootinfo.h"
#include "../../kcall.h"
#include "../../klog.h"
#include "../../kmem.h"
#include "../../sched.h"
#include "apic.h"
#include "cpu.h"
#include "fpu.h"
#include "gdt.h"
#include "klock.h"
#include "layout.h"
#include "pcpu.h"
#include "timer.h"
#include "trap.h"
#include "vm.h"

/* Filled in for each AP; the layout of trampoline_params in trampoline.S. */
struct trampoline_params {
    uint64_t cr3; /* boot tables: the kernel half plus the low 2 MiB identity-mapped */
    uint64_t stack;
    uint64_t entry;
    uint64_t cpu;
};

extern const char trampoline_start[], trampoline_end[], trampoline_params[];
extern void smp_ipi_ping_entry(void);
extern void syscall_init(void), syscall_choose_entry(void);

uint32_t smp_cpus_online = 1;
uint32_t smp_go;
uint64_t smp_ipi_pings; /* incremented by smp_ipi_ping_entry */

/* What every AP copies from the bootstrap CPU. */
static uint64_t bsp_cr0, bsp_cr4;
static struct dtr bsp_idtr;

/* How long the BSP waits for an AP; only a dead or missing CPU takes it. */
#define AP_WAIT_MS 5000

static const void *physmap_range(void *ctx, uint64_t pa, uint64_t len)
{
    (void)ctx;
    if (pa >= vm_physmap_end || len > vm_physmap_end - pa)
        return 0;
    return phys_to_virt(pa);
}

static uint64_t tsc_after_us(uint64_t us)
{
    return rdtsc_fenced() + us * tsc_khz / 1000;
}

static void delay_us(uint64_t us)
{
    uint64_t end = tsc_after_us(us);
    while (rdtsc_fenced() < end)
        __asm__ volatile("pause");
}

static uint64_t zeroed_frame(void)
{
    uint64_t pa = kmem_frame_alloc();
    if (pa != FRAME_NONE)
        memset(phys_to_virt(pa), 0, 4096);
    return pa;
}

/* The tables the trampoline turns paging on with: the kernel half shared
 * with every space, and the first 2 MiB identity-mapped so the trampoline
 * keeps running at TRAMPOLINE_PA when paging starts. Only APs booting ever
 * load them; each switches to the kernel's own tables at once. */
static uint64_t ap_boot_tables(uint64_t frames[3])
{
    for (int i = 0; i < 3; i++) {
        frames[i] = zeroed_frame();
        if (frames[i] == FRAME_NONE)
            return 0;
    }
    uint64_t *pml4 = phys_to_virt(frames[0]), *pdpt = phys_to_virt(frames[1]);
    uint64_t *pd = phys_to_virt(frames[2]);
    const uint64_t *k = phys_to_virt(vm_kernel_pml4);
    for (int i = PML4_KERNEL_FIRST; i < 512; i++)
        pml4[i] = k[i];
    pml4[0] = frames[1] | PTE_P | PTE_W;
    pdpt[0] = frames[2] | PTE_P | PTE_W;
    pd[0] = PTE_P | PTE_W | PTE_PS;
    return frames[0];
}

__attribute__((noreturn)) void smp_ap_main(uint64_t cpu);

__attribute__((noreturn)) void smp_ap_main(uint64_t cpu)
{
    write_cr3(vm_kernel_pml4);
    write_cr4(bsp_cr4); /* global pages, SMEP, SMAP, UMIP, as on the BSP */
    write_cr0(bsp_cr0);
    gdt_init((unsigned)cpu);
    __asm__ volatile("lidt %0" ::"m"(bsp_idtr));
    /* After gdt_init: loading a null GS selector clears the base. */
    wrmsr(MSR_GS_BASE, (uint64_t)&pcpus[cpu]);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    syscall_init();
    apic_enable_this_cpu();
    fpu_init_ap();
    sched_init_cpu();
    kprintf("kernel: cpu %u online (APIC ID %u)\n", pcpu.id, apic_id());
    __atomic_store_n(&pcpus[cpu].online, 1, __ATOMIC_RELEASE);
    /* Until every CPU is up and the kernel lock spans them all, only the
     * BSP's ping may come, answered with interrupts on. */
    __asm__ volatile("sti" ::: "memory");
    while (!__atomic_load_n(&smp_go, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
    __asm__ volatile("cli" ::: "memory");
    syscall_choose_entry(); /* smp_cpus_online is final now */
    apic_timer_start(TIMER_HZ, tsc_khz);
    klock_enter();
    kernel_exit(); /* its idle loop until a thread of its own is ready */
}

/* Test kernel only: "smp=nosipi" sends the INIT but no SIPI, so the AP
 * never runs; smp.ap_missing checks that the wait ends with a report. */
static int hook_no_sipi(void)
{
#ifdef GRANITE_TEST_HOOKS
    char arg[16];
    return cmdline_get("smp", arg, sizeof(arg)) && strcmp(arg, "nosipi") == 0;
#else
    return 0;
#endif
}

/* Start CPU `cpu` (pcpus[] index) whose local APIC ID is apic. */
static int start_ap(uint32_t cpu, uint32_t apic, uint64_t boot_cr3)
{
    struct percpu *c = &pcpus[cpu];
    c->id = cpu;
    c->apic_id = apic;
    c->kstack_top = vm_alloc_kstack();
    c->cr3 = vm_kernel_pml4;
    tss_set_rsp0(cpu, c->kstack_top);
    tss_set_ist(cpu, IST_DOUBLE_FAULT, vm_alloc_kstack());
    tss_set_ist(cpu, IST_NMI, vm_alloc_kstack());
    tss_set_ist(cpu, IST_MACHINE_CHECK, vm_alloc_kstack());

    volatile struct trampoline_params *p =
        phys_to_virt(TRAMPOLINE_PA + (uint64_t)(trampoline_params - trampoline_start));
    p->cr3 = boot_cr3;
    p->stack = c->kstack_top;
    p->entry = (uint64_t)smp_ap_main;
    p->cpu = cpu;

    /* The MP start-up protocol: INIT, 10 ms, then two SIPIs 200 us apart
     * (a CPU already started ignores the second). */
    if (apic_send_init(apic) < 0)
        return -E_TIMEDOUT;
    delay_us(10000);
    for (int i = 0; i < 2 && !hook_no_sipi(); i++) {
        if (apic_send_sipi(apic, TRAMPOLINE_PA >> 12) < 0)
            return -E_TIMEDOUT;
        delay_us(200);
    }
    uint64_t deadline = tsc_after_us(AP_WAIT_MS * 1000ull);
    while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) {
        if (rdtsc_fenced() > deadline)
            return -E_TIMEDOUT;
        __asm__ volatile("pause");
    }
    return 0;
}

/* Each AP answers one fixed IPI: the vector, the delivery and the EOI work. */
static void ping_aps(void)
{
    uint64_t deadline = tsc_after_us(AP_WAIT_MS * 1000ull);
    for (uint32_t i = 1; i < smp_cpus_online; i++) {
        uint64_t before = __atomic_load_n(&smp_ipi_pings, __ATOMIC_ACQUIRE);
        int rc = apic_send_fixed(pcpus[i].apic_id, VEC_IPI_PING);
        while (rc == 0 && __atomic_load_n(&smp_ipi_pings, __ATOMIC_ACQUIRE) == before) {
            if (rdtsc_fenced() > deadline) {
                rc = -E_TIMEDOUT;
                break;
            }
            __asm__ volatile("pause");
        }
        if (rc < 0)
            kprintf("kernel: SMP: cpu %u did not answer an IPI (error %d)\n", i, rc);
        else
            kprintf("kernel: SMP: cpu %u answered an IPI\n", i);
    }
}

static void start_aps(const struct acpi_info *ai)
{
    int rc = apic_init(ai->lapic_addr);
    if (rc < 0) {
        kprintf("kernel: SMP: no xAPIC to start the other CPUs with (error %d); 1 CPU\n", rc);
        return;
    }
    uint32_t self = apic_id();
    pcpus[0].apic_id = self;

    size_t size = (size_t)(trampoline_end - trampoline_start);
    assert(size <= 4096);
    memcpy(phys_to_virt(TRAMPOLINE_PA), trampoline_start, size);
    uint64_t frames[3] = {FRAME_NONE, FRAME_NONE, FRAME_NONE};
    uint64_t boot_cr3 = ap_boot_tables(frames);
    if (!boot_cr3 || boot_cr3 >= (1ull << 32)) {
        kprintf("kernel: SMP: no frame below 4 GiB for the APs' boot tables; 1 CPU\n");
        return;
    }
    bsp_cr0 = read_cr0();
    bsp_cr4 = read_cr4();
    __asm__ volatile("sidt %0" : "=m"(bsp_idtr));
    idt_set_gate(VEC_IPI_PING, (uint64_t)smp_ipi_ping_entry);

    int all_started = 1;
    for (uint32_t i = 0; i < ai->cpu_count; i++) {
        uint32_t apic = ai->cpus[i];
        if (apic == self)
            continue;
        if (smp_cpus_online == MAX_CPUS) {
            kprintf("kernel: SMP: more CPUs than MAX_CPUS (%u); the rest stay off\n", MAX_CPUS);
            break;
        }
        uint32_t cpu = smp_cpus_online;
        rc = start_ap(cpu, apic, boot_cr3);
        if (rc < 0) {
            /* It may still wake up later on the shared trampoline and this
             * slot's stacks: start no other CPU after it. */
            kprintf("kernel: SMP: cpu %u (APIC ID %u) did not come online (error %d); "
                    "no more CPUs started\n",
                    cpu, apic, rc);
            all_started = 0;
            break;
        }
        smp_cpus_online++;
    }
    /* Every AP that ran the trampoline is on the kernel's tables now. */
    if (all_started)
        for (int i = 0; i < 3; i++)
            kmem_frame_free(frames[i]);
    ping_aps();
}

void smp_init(void)
{
    pcpus[0].online = 1;
    if (!bootinfo.acpi_rsdp_len) {
        kprintf("kernel: SMP: the loader gave no ACPI RSDP; 1 CPU\n");
        return;
    }
    static struct acpi_info ai;
    const struct acpi_mem mem = {physmap_range, 0};
    int rc = acpi_parse(bootinfo.acpi_rsdp, bootinfo.acpi_rsdp_len, &mem, &ai);
    if (rc < 0) {
        kprintf("kernel: SMP: ACPI tables unusable (error %d); 1 CPU\n", rc);
        return;
    }
    kprintf("kernel: ACPI (%s): %u CPU%s, local APICs at %lx, %u I/O APIC%s%s\n",
            ai.xsdt ? "XSDT" : "RSDT", ai.cpu_count, ai.cpu_count == 1 ? "" : "s", ai.lapic_addr,
            ai.ioapic_count, ai.ioapic_count == 1 ? "" : "s", ai.pcat_compat ? ", 8259 PICs" : "");
    for (uint32_t i = 0; i < ai.ioapic_count; i++)
        kprintf("kernel: ACPI: I/O APIC %u at %x, interrupts from %u\n", ai.ioapics[i].id,
                ai.ioapics[i].addr, ai.ioapics[i].gsi_base);
    if (ai.cpus_dropped)
        kprintf("kernel: ACPI: %u more CPUs than the parser keeps\n", ai.cpus_dropped);
    if (ai.cpu_count > 1)
        start_aps(&ai);
    kprintf("kernel: SMP: %u CPU%s online\n", smp_cpus_online, smp_cpus_online == 1 ? "" : "s");
}
