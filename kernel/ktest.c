/*
 * In-kernel self-tests (see ktest.h): properties only the running kernel can
 * check, such as the rights in its own page tables and the guard pages.
 */
#include "ktest.h"

#include <abi/errno.h>
#include <common/fmt.h>
#include <common/string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/user_cpu.h"
#include "arch/x86_64/vm.h"
#include "klog.h"
#include "kmem.h"
#include "proc.h"

static int passed, failed;

static void report(const char *name, int ok, const char *why)
{
    if (ok) {
        passed++;
        kprintf("ktest %s PASS\n", name);
    } else {
        failed++;
        kprintf("ktest %s FAIL: %s\n", name, why);
    }
}

static void test_frames(void)
{
    uint64_t before = kmem_frames.free;
    uint64_t a = kmem_frame_alloc(), b = kmem_frame_alloc();
    int ok = a != FRAME_NONE && b != FRAME_NONE && a != b && kmem_frames.free == before - 2;
    kmem_frame_free(a);
    int dbl = frame_free(&kmem_frames, a); /* second free must be refused */
    kmem_frame_free(b);
    ok = ok && dbl == -E_INVAL && kmem_frames.free == before;
    ok = ok && frame_free(&kmem_frames, 0x1000) == -E_RANGE; /* low memory is never ours */
    report("frames.alloc_free", ok, "allocation, double free or accounting wrong");
}

static void test_map(void)
{
    const uint64_t va = KSTACK_REGION - 0x200000; /* unused spot in the kernel half */
    uint64_t pa = kmem_frame_alloc();
    int ok = vm_map(vm_kernel_pml4, va, pa, PTE_W | PTE_NX, 0) == 0;
    ok = ok && vm_map(vm_kernel_pml4, va, pa, PTE_W | PTE_NX, 0) == -E_EXIST;
    if (ok) {
        *(volatile uint64_t *)va = 0x6772616e697465ull;
        ok = *(volatile uint64_t *)phys_to_virt(pa) == 0x6772616e697465ull;
    }
    ok = ok && vm_unmap(vm_kernel_pml4, va) == pa;
    uint64_t *pte = vm_pte(vm_kernel_pml4, va);
    ok = ok && (!pte || !(*pte & PTE_P));
    kmem_frame_free(pa);
    report("vm.map_unmap", ok, "map, alias through the physmap, or unmap wrong");
}

/* A user address space whose frames are charged to a budget: every page
 * table a mapping needs is charged, and unmapping frees the tables it
 * leaves empty (and only those), so the charge goes back to the PML4. */
static void test_space_charges(void)
{
    struct quota q = {.limit = {64, 1, 1}};
    uint64_t free_before = kmem_frames.free;
    uint64_t pml4 = vm_space_create(&q), frame = kmem_frame_alloc();
    const uint64_t va = 0x100000000ull + (1ull << 21) - 4096; /* the last page of a table */
    int ok = pml4 && q.used[Q_FRAMES] == 1;
    /* Two pages in two page tables: PDPT, PD and two PTs. */
    ok = ok && vm_map(pml4, va, frame, PTE_U | PTE_NX, &q) == 0 &&
         vm_map(pml4, va + 4096, frame, PTE_U | PTE_NX, &q) == 0 && q.used[Q_FRAMES] == 5;
    ok = ok && vm_unmap_range(pml4, va, 1, &q) == 1 && q.used[Q_FRAMES] == 4; /* one PT freed */
    ok = ok && vm_unmap_range(pml4, va, 2, &q) == 1 && q.used[Q_FRAMES] == 1; /* all of them */
    /* Past the budget: refused, and the tables made on the way are kept
     * charged until an unmap of that range frees them. */
    struct quota tight = {.limit = {2, 1, 1}};
    uint64_t pml4b = vm_space_create(&tight);
    ok = ok && pml4b && vm_map(pml4b, va, frame, PTE_U, &tight) == -E_NOMEM &&
         tight.used[Q_FRAMES] == 2 && vm_unmap_range(pml4b, va, 1, &tight) == 0 &&
         tight.used[Q_FRAMES] == 1;
    if (pml4b)
        vm_space_destroy(pml4b, &tight);
    if (pml4)
        vm_space_destroy(pml4, &q);
    kmem_frame_free(frame);
    ok =
        ok && q.used[Q_FRAMES] == 0 && tight.used[Q_FRAMES] == 0 && kmem_frames.free == free_before;
    report("vm.tables_charged_and_reclaimed", ok, "page tables not charged, kept, or leaked");
}

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_end[];

/* Every page in [s, e) must have exactly the rights `want` among W and NX. */
static int rights_are(const char *s, const char *e, uint64_t want)
{
    for (uint64_t va = (uint64_t)s; va < (uint64_t)e; va += 4096) {
        uint64_t *pte = vm_pte(vm_kernel_pml4, va);
        if (!pte || !(*pte & PTE_P) || (*pte & (PTE_W | PTE_NX)) != want || (*pte & PTE_U))
            return 0;
    }
    return 1;
}

static void test_wx(void)
{
    report("vm.text_rx", rights_are(__text_start, __text_end, 0), "text writable or NX");
    report("vm.rodata_r", rights_are(__rodata_start, __rodata_end, PTE_NX), "rodata W or X");
    report("vm.data_rw_nx", rights_are(__data_start, __bss_end, PTE_W | PTE_NX),
           "data/bss executable");
    const char *alias = phys_to_virt((uint64_t)__text_start - KERNEL_VBASE);
    report("vm.physmap_text_ro", rights_are(alias, alias + 4096, PTE_NX),
           "physmap alias of kernel text is writable");
}

static void test_guard(void)
{
    uint64_t guard = pcpu.kstack_top - KSTACK_SLOT;
    uint64_t *g = vm_pte(vm_kernel_pml4, guard);
    uint64_t *below_top = vm_pte(vm_kernel_pml4, pcpu.kstack_top - 8);
    int ok = (!g || !(*g & PTE_P)) && below_top && (*below_top & PTE_P) && (*below_top & PTE_NX);
    report("vm.stack_guard", ok, "no unmapped guard page under the kernel stack");
}

extern int idt_has_user_gate(void);

static void test_idt(void)
{
    report("idt.no_user_gate", !idt_has_user_gate(), "a gate has DPL 3");
}

static void test_user_cpu(void)
{
    /* SYSCALL's flags (trap.S clears AC and DF for the other entries and
     * trap_dispatch asserts it). */
    uint64_t need = RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC | RFLAGS_NT;
    report("cpu.sfmask", (rdmsr(MSR_SFMASK) & need) == need,
           "SFMASK does not clear IF, DF, TF, AC and NT");
    const char *why = 0;
    report("cpu.user_state", user_cpu_check(&why), why);
    why = 0;
    report("cpu.fpu_state", fpu_check(&why), why);
}

static void test_fmt(void)
{
    char buf[64];
    fmt_snprintf(buf, sizeof(buf), "%d|%5u|%-3s|%04x|%lx|%c", -42, 7u, "ab", 0xbeefu,
                 (uint64_t)0x123456789ab, 'z');
    int ok = strcmp(buf, "-42|    7|ab |beef|123456789ab|z") == 0;
    ok = ok && fmt_snprintf(buf, 4, "%s", "truncated") == 9 && strcmp(buf, "tru") == 0;
    report("fmt.snprintf", ok, buf);
}

/*
 * memcpy and memmove byte for byte against a byte loop: every length up to
 * 3 of memcpy's 64-byte turns plus a tail, every source and destination
 * alignment within 8, and for memmove every overlap distance near those
 * turns in both directions. The bytes around the destination must stay.
 */
static uint8_t copy_src[320], copy_dst[320], copy_want[320];

static int copy_matches(void)
{
    for (size_t i = 0; i < sizeof(copy_dst); i++)
        if (copy_dst[i] != copy_want[i])
            return 0;
    return 1;
}

static void test_copy(void)
{
    int ok = 1;
    for (size_t i = 0; i < sizeof(copy_src); i++)
        copy_src[i] = (uint8_t)(i * 7 + 1);
    for (size_t len = 0; len <= 200 && ok; len++)
        for (size_t so = 0; so < 8; so++)
            for (size_t dof = 0; dof < 8; dof++) {
                memset(copy_dst, 0xa5, sizeof(copy_dst));
                memset(copy_want, 0xa5, sizeof(copy_want));
                for (size_t i = 0; i < len; i++)
                    copy_want[dof + i] = copy_src[so + i];
                ok = ok && memcpy(copy_dst + dof, copy_src + so, len) == copy_dst + dof &&
                     copy_matches();
            }
    report("string.memcpy", ok, "a byte copied wrong or one outside the range changed");

    static const size_t dist[] = {1, 7, 8, 9, 63, 64, 65, 100};
    ok = 1;
    for (size_t len = 0; len <= 200 && ok; len++)
        for (size_t k = 0; k < sizeof(dist) / sizeof(dist[0]); k++)
            for (int up = 0; up < 2; up++) {
                size_t from = up ? 3 : 3 + dist[k], to = up ? 3 + dist[k] : 3;
                for (size_t i = 0; i < sizeof(copy_dst); i++)
                    copy_dst[i] = copy_want[i] = (uint8_t)(i * 13 + 5);
                for (size_t i = 0; i < len; i++)
                    copy_want[to + i] = (uint8_t)((from + i) * 13 + 5); /* the source before */
                ok = ok && memmove(copy_dst + to, copy_dst + from, len) == copy_dst + to &&
                     copy_matches();
            }
    report("string.memmove_overlap", ok, "an overlapping move read a byte after overwriting it");
}

/*
 * An id whose slot is one past its table must be refused whatever memory
 * follows the table: the id is planted where that slot's id field would
 * be, so a bound check that lets the slot through finds a "match". Nothing
 * runs yet (no thread, no timer, one CPU), so the borrowed bytes are put
 * back before anyone could look; they are borrowed only inside the image.
 */
static int lookup_past_end_refused(char *table_end, size_t field, uint32_t id, int is_proc)
{
    uintptr_t addr = (uintptr_t)table_end + field;
    __asm__("" : "+r"(addr)); /* past the object on purpose: hide that from the compiler */
    volatile uint32_t *at = (volatile uint32_t *)addr;
    int plant = addr + sizeof(uint32_t) <= (uintptr_t)__bss_end;
    uint32_t saved = plant ? *at : 0;
    if (plant)
        *at = id;
    int refused = is_proc ? !proc_by_pid(id) : !thread_by_tid(id);
    if (plant)
        *at = saved;
    return refused;
}

static void test_id_lookup_bounds(void)
{
    const uint32_t gen = 1u << ID_SLOT_BITS;
    int ok = lookup_past_end_refused((char *)procs + sizeof(procs), offsetof(struct proc, pid),
                                     MAX_PROCS | gen, 1);
    report("proc.pid_past_the_table_refused", ok, "a pid whose slot is MAX_PROCS was found");
    ok = lookup_past_end_refused((char *)threads + sizeof(threads), offsetof(struct thread, tid),
                                 MAX_THREADS | gen, 0);
    report("proc.tid_past_the_table_refused", ok, "a tid whose slot is MAX_THREADS was found");
}

void ktest_run(void)
{
    kprintf("ktest: running in-kernel self-tests\n");
    test_frames();
    test_map();
    test_space_charges();
    test_wx();
    test_guard();
    test_idt();
    test_user_cpu();
    test_fmt();
    test_copy();
    test_id_lookup_bounds();
    kprintf("ktest: %d passed, %d failed\n", passed, failed);
    qemu_exit(failed ? QEMU_EXIT_FAILURE : QEMU_EXIT_SUCCESS);
}

#ifdef GRANITE_TEST_HOOKS
/* noinline + distinct names so the fault dump shows where it happened. */
__attribute__((noinline)) static void fault_null_read(void)
{
    kprintf("ktest: reading address 0\n");
    (void)*(volatile uint64_t *)0;
}

__attribute__((noinline)) static void fault_text_write(void)
{
    kprintf("ktest: writing to kernel text\n");
    *(volatile uint8_t *)(void *)__text_start = 0x90;
}

static uint8_t data_page[16] __attribute__((aligned(16))) = {0xc3}; /* ret */

__attribute__((noinline)) static void fault_exec_data(void)
{
    kprintf("ktest: executing from kernel data\n");
    ((void (*)(void))(void *)data_page)();
}

__attribute__((noinline)) static int fault_stack_overflow(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    if (depth > 1000000) /* never: the 16 KiB stack ends long before */
        return 0;
    return fault_stack_overflow(depth + 1) + pad[0];
}

/* A user page in the current (kernel) address space, for the SMAP and
 * SMEP faults: the kernel must not read it, nor run code from it. */
static uint64_t user_page(uint64_t va, uint8_t fill)
{
    uint64_t pa = kmem_frame_alloc();
    memset(phys_to_virt(pa), fill, 4096);
    if (vm_map(vm_kernel_pml4, va, pa, PTE_U, 0) < 0)
        panic("cannot map the test user page");
    return va;
}

__attribute__((noinline)) static void fault_smap_read(void)
{
    uint64_t va = user_page(0x400000, 0x42);
    kprintf("ktest: the kernel reads a user page directly (SMAP must stop it)\n");
    (void)*(volatile uint64_t *)va;
}

__attribute__((noinline)) static void fault_smep_exec(void)
{
    uint64_t va = user_page(0x401000, 0xc3); /* ret */
    kprintf("ktest: the kernel calls code on a user page (SMEP must stop it)\n");
    ((void (*)(void))va)();
}

void ktest_fault(const char *kind)
{
    kprintf("ktest: deliberate kernel fault \"%s\"\n", kind);
    if (strcmp(kind, "pf") == 0)
        fault_null_read();
    else if (strcmp(kind, "wx") == 0)
        fault_text_write();
    else if (strcmp(kind, "nx") == 0)
        fault_exec_data();
    else if (strcmp(kind, "ud") == 0)
        __asm__ volatile("ud2");
    else if (strcmp(kind, "stack") == 0)
        fault_stack_overflow(0);
    else if (strcmp(kind, "smap") == 0)
        fault_smap_read();
    else if (strcmp(kind, "smep") == 0)
        fault_smep_exec();
    kprintf("ktest: fault \"%s\" did not fault\n", kind);
    qemu_exit(QEMU_EXIT_FAILURE);
}
#else
void ktest_fault(const char *kind)
{
    kprintf("kernel: ignoring fault=%s: this kernel has no test hooks\n", kind);
}
#endif
