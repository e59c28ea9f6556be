/*
 * Kernel entry from boot.S: check how we were booted, bring up the CPU
 * tables, physical memory and paging, then move to a guarded stack and start
 * the rest of the system.
 */
#include <abi/errno.h>
#include <common/string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/klock.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/rtc.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/user_cpu.h"
#include "arch/x86_64/vm.h"
#include "bootinfo.h"
#include "kcall.h"
#include "klog.h"
#include "kmem.h"
#include "ksyms.h"
#include "ktest.h"
#include "mb2.h"
#include "proc.h"
#include "sched.h"

struct percpu pcpus[MAX_CPUS];

extern void syscall_init(void), syscall_choose_entry(void);

/* Start the boot server, the root of all user processes. It gets every
 * privilege, all I/O ports and IRQ lines (it hands out subsets). */
static void start_boot_server(void)
{
    int index = -1;
    for (uint32_t i = 0; i < bootinfo.module_count; i++)
        if (strcmp(bootinfo.modules[i].name, "boot") == 0)
            index = (int)i;
    if (index < 0) {
        kprintf("kernel: no boot module named \"boot\" (grub.cfg needs "
                "\"module2 /boot/boot.elf boot\"); nothing to run\n");
        qemu_exit(QEMU_EXIT_FAILURE);
    }
    const struct boot_module *m = &bootinfo.modules[index];
    struct proc *p;
    /* The root's budget is everything: every kernel frame still free (the
     * kernel takes no more after boot) and every thread and process slot. */
    const uint64_t all[Q_KINDS] = {kmem_frames.free, MAX_THREADS, MAX_PROCS};
    int rc = proc_spawn(phys_to_virt(m->start), m->end - m->start, "boot", PRIV_ALL, NUM_PRIO - 2,
                        0, all, &p);
    if (rc < 0) {
        kprintf("kernel: cannot start the boot server (error %d)\n", rc);
        qemu_exit(QEMU_EXIT_FAILURE);
    }
    p->module = index;
    p->io_base = 0;
    p->io_count = 0xffff;
    p->irq_mask = 0xfffa; /* all but the timer (0) and the cascade (2) */
    kprintf("kernel: started the boot server (pid %x) with a budget of %lu kernel frames, %u "
            "threads, %u processes\n",
            p->pid, all[Q_FRAMES], MAX_THREADS, MAX_PROCS);
}

static const char *mb2_error(int rc)
{
    switch (-rc) {
    case E_TRUNC:
        return "block or tag truncated";
    case E_INVAL:
        return "malformed tag or no end tag";
    case E_LIMIT:
        return "too many modules";
    case E_NOENT:
        return "no memory map";
    default:
        return "unknown error";
    }
}

static void kmain_stage2(void);

void kmain(uint32_t magic, uint64_t info_pa)
{
    serial_init();
    kprintf("\nGranite microkernel (x86_64)\n");
    gdt_init(0);
    /* After gdt_init (loading a null GS selector clears the base), before
     * anything reads pcpu. */
    wrmsr(MSR_GS_BASE, (uint64_t)&pcpus[0]);
    sched_init_cpu();
    idt_init();
    pic_init();

    if (magic != MB2_BOOTLOADER_MAGIC)
        panic("not started by a Multiboot2 loader (eax=0x%x); boot through GRUB's multiboot2",
              magic);
    /* The boot map covers the first GiB; the info block must be inside it. */
    const uint64_t boot_map_end = 1ull << 30;
    if (info_pa == 0 || info_pa + 8 > boot_map_end)
        panic("Multiboot2 information at %lx is outside the boot map", info_pa);
    const void *info = (const void *)(KERNEL_VBASE + info_pa);
    uint64_t avail = boot_map_end - info_pa;
    if (avail > MB2_MAX_INFO_SIZE)
        avail = MB2_MAX_INFO_SIZE;
    struct mb2_info mb;
    int rc = mb2_parse(info, avail, &mb);
    if (rc < 0)
        panic("bad Multiboot2 information: %s (error %d)", mb2_error(rc), rc);
    bootinfo_init(&mb);
    kprintf("kernel: loader \"%s\", command line \"%s\"\n", bootinfo.loader, bootinfo.cmdline);
    for (uint32_t i = 0; i < bootinfo.module_count; i++) {
        const struct boot_module *m = &bootinfo.modules[i];
        kprintf("kernel: module %u \"%s\" [%lx - %lx) %lu KiB %s\n", i, m->name, m->start, m->end,
                (m->end - m->start) >> 10, m->args);
    }

    kmem_init(&mb, info_pa, mb.total_size);
    const struct vm_frames frames = {kmem_frame_alloc_for, kmem_frame_free_for};
    vm_init(kmem_phys_max, &frames);
    kmem_after_vm(); /* the allocator's bitmap was in the boot map, gone with it */

    pcpu.kstack_top = vm_alloc_kstack();
    vm_run_on_stack(pcpu.kstack_top, kmain_stage2);
}

static void kmain_stage2(void)
{
    /* From here on every stack has a guard page below it. */
    tss_set_rsp0(0, pcpu.kstack_top);
    tss_set_ist(0, IST_DOUBLE_FAULT, vm_alloc_kstack());
    tss_set_ist(0, IST_NMI, vm_alloc_kstack());
    tss_set_ist(0, IST_MACHINE_CHECK, vm_alloc_kstack());
    wrmsr(MSR_KERNEL_GS_BASE, 0); /* the user GS base, swapped in by SWAPGS */

    const struct boot_module *syms = bootinfo_module("ksyms");
    if (syms)
        ksyms_init(phys_to_virt(syms->start), syms->end - syms->start);
    else
        kprintf("kernel: no \"ksyms\" module: fault dumps will show addresses only\n");

    kprintf("kernel: boot complete: %lu frames (%lu MiB) free of %lu\n", kmem_frames.free,
            kmem_frames.free >> 8, kmem_frames.total);

    syscall_init();
    user_cpu_init();
    fpu_init();

    char arg[32];
    if (cmdline_get("fault", arg, sizeof(arg)))
        ktest_fault(arg);
    if (cmdline_get("ktest", arg, sizeof(arg)))
        ktest_run();

    tsc_khz = timer_tsc_khz();
    boot_unix_time = rtc_read_unix();
    boot_tsc = rdtsc_fenced();
    smp_init();
    syscall_choose_entry(); /* the CPUs online are known: the SYSCALL paths for them */
    timer_init(TIMER_HZ);
    kprintf("kernel: SYSCALL entry ready, timer %u Hz, TSC %lu kHz\n", TIMER_HZ, tsc_khz);
    kprintf("kernel: real-time clock: %lu s since 1970\n", boot_unix_time);
#ifdef GRANITE_BENCH
    extern void kbench_copies(void);
    kprintf("kernel: this is the benchmark kernel (int 0x80 and ud2 entries, floor switch)\n");
    kbench_copies();
#endif
    start_boot_server();
    /* From here on kernel code runs under the kernel lock, on every CPU. */
    klock_enter();
    __atomic_store_n(&smp_go, 1, __ATOMIC_RELEASE);
    kernel_exit();
}
