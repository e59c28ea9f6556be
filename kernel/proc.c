/*
 * Processes and threads: creation from ELF images, capabilities, and
 * teardown. Killing a process wakes everyone blocked on its threads with
 * -E_DEAD, frees every frame the kernel gave it and tells its reaper.
 */
#include "proc.h"

#include <abi/errno.h>
#include <abi/layout.h>
#include <common/string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/vm.h"
#include "elf.h"
#include "ipc.h"
#include "kcall.h"
#include "klog.h"
#include "kmem.h"
#include "sched.h"

struct thread threads[MAX_THREADS];
struct proc procs[MAX_PROCS];

/* The first process (the boot server): it hears of every death, not only
 * of its own children, so the memory server can be told of all of them. */
static struct proc *root;

int proc_is_root(const struct proc *p)
{
    return p == root;
}

/* Generation counters outlive the slots, so an id comes back only after
 * 2^22 - 1 reuses of the same slot. */
static uint32_t thread_gen[MAX_THREADS], proc_gen[MAX_PROCS];

static uint32_t make_id(uint32_t slot, uint32_t *gen)
{
    if (++*gen >= (1u << (32 - ID_SLOT_BITS)))
        *gen = 1;
    return slot | *gen << ID_SLOT_BITS;
}

struct thread *thread_by_tid(uint32_t tid)
{
    uint32_t slot = tid & ID_SLOT_MASK;
    if (tid == 0 || slot >= MAX_THREADS || threads[slot].tid != tid)
        return 0;
    return &threads[slot];
}

struct proc *proc_by_pid(uint32_t pid)
{
    uint32_t slot = pid & ID_SLOT_MASK;
    if (pid == 0 || slot >= MAX_PROCS || procs[slot].pid != pid)
        return 0;
    return &procs[slot];
}

const char *thread_state_name(uint8_t state)
{
    static const char *const names[] = {"free",      "running",        "ready",   "sending",
                                        "receiving", "awaiting reply", "sleeping"};
    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

int cap_install(struct proc *p, struct thread *t, uint32_t rights)
{
    for (int h = HANDLE_FIRST_FREE; h < CAP_SLOTS; h++) {
        if (p->caps[h].thread && thread_by_tid(p->caps[h].tid))
            continue; /* live capability */
        p->caps[h] = (struct cap){t, t->tid, rights};
        return h;
    }
    return -E_LIMIT;
}

struct thread *cap_lookup(struct proc *p, uint64_t h, uint32_t right, int *err)
{
    if (h == HANDLE_KERNEL || h >= CAP_SLOTS || !p->caps[h].thread) {
        *err = -E_BADHANDLE;
        return 0;
    }
    const struct cap *c = &p->caps[h];
    if (c->thread->tid != c->tid) {
        *err = -E_DEAD;
        return 0;
    }
    if (!(c->rights & right)) {
        *err = -E_PERM;
        return 0;
    }
    return c->thread;
}

/* Map `pages` fresh zeroed kernel-pool frames at va in p. */
static int map_fresh(struct proc *p, uint64_t va, uint64_t pages, uint64_t flags)
{
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa = kmem_frame_alloc();
        if (pa == FRAME_NONE)
            return -E_NOMEM;
        memset(phys_to_virt(pa), 0, 4096);
        int rc = vm_map(p->cr3, va + i * 4096, pa, flags | PTE_U | PTE_OWNED);
        if (rc < 0) {
            kmem_frame_free(pa);
            return rc;
        }
        p->kernel_pages++;
    }
    return 0;
}

static uint64_t stack_top(uint32_t index)
{
    return USER_STACK_TOP - (uint64_t)index * USER_STACK_STRIDE;
}

/* Unmap and free the stack of a thread that leaves a living process. */
static void thread_free_stack(struct proc *p, uint32_t index)
{
    uint64_t top = stack_top(index);
    for (uint64_t va = top - USER_STACK_SIZE; va < top; va += 4096) {
        uint64_t pa = vm_unmap(p->cr3, va);
        if (pa) {
            kmem_frame_free(pa);
            p->kernel_pages--;
        }
    }
}

struct thread *thread_create(struct proc *p, uint64_t rip, uint64_t arg, uint8_t prio)
{
    struct thread *t = 0;
    for (int i = 0; i < MAX_THREADS && !t; i++)
        if (threads[i].state == TS_FREE)
            t = &threads[i];
    if (!t || p->stack_slots == ~0ull)
        return 0;
    uint32_t index = (uint32_t)__builtin_ctzll(~p->stack_slots);
    /* The page under each stack stays unmapped: the guard. */
    uint64_t top = stack_top(index);
    if (map_fresh(p, top - USER_STACK_SIZE, USER_STACK_SIZE / 4096, PTE_W | PTE_NX) < 0) {
        thread_free_stack(p, index); /* whatever part of it was mapped */
        return 0;
    }
    p->stack_slots |= 1ull << index;

    uint32_t slot = (uint32_t)(t - threads);
    memset(t, 0, sizeof(*t));
    t->tid = make_id(slot, &thread_gen[slot]);
    t->proc = p;
    t->badge = (uint64_t)p->pid << 32 | t->tid;
    t->prio = prio < 1 ? 1 : prio >= NUM_PRIO ? NUM_PRIO - 1 : prio;
    t->fpu_fresh = 1; /* no FPU state until its first use */
    t->stack_index = index;
    t->regs.rip = rip;
    t->regs.rsp = top;
    t->regs.rdi = arg;
    t->regs.rflags = RFLAGS_IF; /* user threads always run preemptible */
    t->proc_next = p->threads;
    p->threads = t;
    p->nthreads++;
    sched_ready(t);
    return t;
}

void thread_destroy(struct thread *t)
{
    struct proc *p = t->proc;
    ipc_thread_dying(t);
    irq_thread_dying(t);
    fpu_thread_dying(t);
    sched_unready(t);
    for (struct thread **pp = &p->threads; *pp; pp = &(*pp)->proc_next)
        if (*pp == t) {
            *pp = t->proc_next;
            break;
        }
    p->nthreads--;
    p->stack_slots &= ~(1ull << t->stack_index);
    if (pcpu.cur == t)
        pcpu.cur = 0;
    t->tid = 0;
    t->wake_tick = 0;
    t->state = TS_FREE;
}

void thread_exit(struct thread *t)
{
    struct proc *p = t->proc;
    if (p->nthreads == 1) {
        proc_kill(p, DEATH_EXIT, 0);
        return;
    }
    uint32_t index = t->stack_index;
    thread_destroy(t);
    thread_free_stack(p, index);
}

static int load_segments(struct proc *p, const uint8_t *elf, const struct elf_image *img)
{
    for (uint32_t i = 0; i < img->nsegs; i++) {
        const struct elf_segment *s = &img->segs[i];
        uint64_t flags = (s->flags & ELF_PF_W ? PTE_W : 0) | (s->flags & ELF_PF_X ? 0 : PTE_NX);
        uint64_t first = s->vaddr & ~0xfffull, end = (s->vaddr + s->memsz + 0xfff) & ~0xfffull;
        int rc = map_fresh(p, first, (end - first) / 4096, flags);
        if (rc < 0)
            return rc;
        /* Copy the file bytes through the physmap, page by page. */
        for (uint64_t done = 0; done < s->filesz;) {
            uint64_t va = s->vaddr + done;
            uint64_t chunk = 4096 - (va & 0xfff);
            if (chunk > s->filesz - done)
                chunk = s->filesz - done;
            uint64_t *e = vm_pte(p->cr3, va);
            memcpy((uint8_t *)phys_to_virt(*e & PTE_ADDR) + (va & 0xfff), elf + s->offset + done,
                   chunk);
            done += chunk;
        }
    }
    return 0;
}

static void free_process_slot(struct proc *p)
{
    if (p->cr3)
        vm_space_destroy(p->cr3, kmem_frame_free);
    p->cr3 = 0;
    p->pid = 0;
}

int proc_spawn(const void *elf, uint64_t size, const char *name, uint32_t privs, uint8_t prio,
               struct proc *reaper, struct proc **out)
{
    struct elf_image img;
    const char *why;
    int rc = elf_validate(elf, size, USER_IMAGE_MIN, USER_IMAGE_MAX, &img, &why);
    if (rc < 0) {
        kprintf("kernel: refusing to start \"%s\": %s\n", name, why);
        return rc;
    }
    struct proc *p = 0;
    for (int i = 0; i < MAX_PROCS && !p; i++)
        if (procs[i].pid == 0)
            p = &procs[i];
    if (!p)
        return -E_LIMIT;
    uint32_t slot = (uint32_t)(p - procs);
    memset(p, 0, sizeof(*p));
    p->pid = make_id(slot, &proc_gen[slot]);
    p->privs = privs;
    p->reaper = reaper;
    p->parent_pid = reaper ? reaper->pid : 0;
    p->module = -1;
    strncpy_safe(p->name, name, sizeof(p->name));
    p->cr3 = vm_space_create();
    if (!p->cr3) {
        p->pid = 0;
        return -E_NOMEM;
    }
    p->kernel_pages = 1;
    rc = load_segments(p, elf, &img);
    if (rc < 0) {
        free_process_slot(p);
        return rc;
    }
    if (!thread_create(p, img.entry, 0, prio)) {
        free_process_slot(p);
        return -E_NOMEM;
    }
    if (!reaper)
        root = p;
    *out = p;
    return 0;
}

static const char *death_name(uint32_t reason)
{
    return reason == DEATH_EXIT ? "exited" : reason == DEATH_FAULT ? "faulted" : "was killed";
}

static void queue_death(struct proc *r, struct death d)
{
    if (r->ndeaths == sizeof(r->deaths) / sizeof(r->deaths[0])) {
        kprintf("kernel: %s has %u unreaped deaths; dropping pid %x\n", r->name, r->ndeaths, d.pid);
        return;
    }
    r->deaths[r->ndeaths++] = d;
    struct thread *main = r->threads; /* the oldest thread is last */
    while (main && main->proc_next)
        main = main->proc_next;
    if (main)
        ipc_notify_thread(main, NOTIFY_BIT_DEATH);
}

/* Tell the reaper (KC_WAIT_DEATH + a notification), and the root. Without
 * a reaper the root itself has died: nothing can restart the system. */
static void report_death(struct proc *r, const char *name, uint32_t pid, uint32_t reason,
                         uint64_t detail, uint64_t badge)
{
    if (!r || !r->pid) {
        kprintf("kernel: the root process \"%s\" %s (%lu); nothing can restart the system\n", name,
                death_name(reason), detail);
        qemu_exit(reason == DEATH_EXIT && detail == 0 ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
    }
    struct death d = {pid, reason, detail, badge};
    queue_death(r, d);
    if (root && root->pid && root != r)
        queue_death(root, d);
}

void proc_kill(struct proc *p, uint32_t reason, uint64_t detail)
{
    if (reason != DEATH_EXIT || detail != 0)
        kprintf("kernel: process \"%s\" (pid %x) %s (%s %lu)\n", p->name, p->pid,
                death_name(reason), reason == DEATH_FAULT ? "vector" : "status", detail);
    /* The main thread is the oldest, last on the list; its badge is what
     * others knew the process by. */
    struct thread *main = p->threads;
    while (main && main->proc_next)
        main = main->proc_next;
    uint64_t badge = main ? main->badge : 0;
    while (p->threads)
        thread_destroy(p->threads);
    if (pcpu.cr3 == p->cr3) {
        write_cr3(vm_kernel_pml4);
        pcpu.cr3 = vm_kernel_pml4;
    }
    /* Orphans go to our own reaper, so someone still hears of them. */
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].pid && procs[i].reaper == p)
            procs[i].reaper = p->reaper;
    char name[KC_NAME_MAX];
    strncpy_safe(name, p->name, sizeof(name));
    uint32_t pid = p->pid;
    struct proc *reaper = p->reaper;
    free_process_slot(p);
    report_death(reaper, name, pid, reason, detail, badge);
}
