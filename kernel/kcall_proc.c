/*
 * Kernel-endpoint operations on processes (spawn, kill, deaths, the boot
 * modules they come from), threads, capabilities, and the housekeeping ones:
 * log, time, sleep, arguments, statistics, shutdown (abi/kcall.h).
 * Privileges are checked by the dispatcher.
 */
#include <abi/errno.h>
#include <abi/layout.h>
#include <common/string.h>

#include "arch/x86_64/smp.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/qemu.h"
#include "arch/x86_64/vm.h"
#include "bootinfo.h"
#include "calls_gen.h"
#include "ipc.h"
#include "kcall.h"
#include "klog.h"
#include "kmem.h"
#include "sched.h"
#include "uaccess.h"

uint64_t tsc_khz, boot_unix_time, boot_tsc;

long kc_log(struct thread *cur, const struct kc_log_args *a)
{
    static char buf[1024 + 1];
    uint64_t len = a->len;
    if (len > 1024)
        return -E_RANGE;
    int rc = uaccess_read(cur->proc, a->text, buf, len);
    if (rc < 0)
        return rc;
    buf[len] = '\0';
    kprintf("%s", buf);
    return 0;
}

long kc_exit(struct thread *cur, const struct kc_exit_args *a)
{
    proc_kill(cur->proc, DEATH_EXIT, a->status);
    return SYS_BLOCKED;
}

long kc_self(struct thread *cur)
{
    kc_self_reply(cur, cur->proc->pid, cur->tid, cur->proc->privs, cur->badge);
    return 0;
}

long kc_time(struct thread *cur)
{
    kc_time_reply(cur, sched_ticks, 100, tsc_khz, boot_unix_time, boot_tsc);
    return 0;
}

long kc_yield(struct thread *cur)
{
    sched_ready(cur);
    return 0;
}

long kc_sleep(struct thread *cur, const struct kc_sleep_args *a)
{
    cur->regs.rax = 0;
    return ipc_sleep(cur, a->ticks);
}

long kc_thread_create(struct thread *cur, const struct kc_thread_create_args *a)
{
    uint64_t entry = a->entry;
    uint64_t prio = a->prio ? a->prio : cur->prio;
    if (entry >= USER_TOP)
        return -E_RANGE;
    if (prio > cur->prio)
        return -E_PERM; /* no thread may outrank its creator */
    struct thread *t = thread_create(cur->proc, entry, a->rdi, (uint8_t)prio);
    if (!t)
        return -E_LIMIT;
    t->regs.rsi = a->rsi;
    long h = cap_install(cur->proc, t, CAP_RIGHT_SEND | CAP_RIGHT_XFER);
    kc_thread_create_reply(cur, t->tid);
    return h; /* a full table still leaves a running thread; the caller sees -E_LIMIT */
}

long kc_thread_exit(struct thread *cur)
{
    thread_exit(cur);
    return SYS_BLOCKED;
}

long kc_cap_delete(struct thread *cur, const struct kc_cap_delete_args *a)
{
    struct cap *c = cap_of(cur->proc, a->handle);
    if (!c)
        return -E_BADHANDLE;
    cap_delete(cur->proc, c);
    return 0;
}

long kc_cap_identify(struct thread *cur, const struct kc_cap_identify_args *a)
{
    int err = 0;
    const struct cap *c = cap_get(cur->proc, a->handle, 0, &err);
    if (!c)
        return err;
    kc_cap_identify_reply(cur, c->thread->badge);
    return 0;
}

long kc_module_info(struct thread *cur, const struct kc_module_info_args *a)
{
    uint64_t i = a->index;
    if (i >= bootinfo.module_count)
        return -E_NOENT;
    const struct boot_module *m = &bootinfo.modules[i];
    struct kc_module_info info = {.size = m->end - m->start};
    strncpy_safe(info.name, m->name, sizeof(info.name));
    strncpy_safe(info.args, m->args, sizeof(info.args));
    return uaccess_write(cur->proc, a->info, &info, sizeof(info));
}

/* KC_SPAWN's checks and work; sets *out to the child. */
static long spawn(struct thread *cur, const struct kc_spawn_args *a, struct proc **out)
{
    struct proc *me = cur->proc;
    uint64_t index = a->module;
    uint32_t privs = (uint32_t)a->privs;
    uint64_t prio = a->prio ? a->prio : (PRIO_DEFAULT < cur->prio ? PRIO_DEFAULT : cur->prio);
    uint16_t io_base = (uint16_t)a->io_base, io_count = (uint16_t)a->io_count;
    uint32_t irq_mask = (uint32_t)a->irq_mask;
    uint64_t budget[Q_KINDS] = {a->frames, a->threads, a->procs};
    budget[Q_FRAMES] = budget[Q_FRAMES] ? budget[Q_FRAMES] : KC_SPAWN_FRAMES;
    budget[Q_THREADS] = budget[Q_THREADS] ? budget[Q_THREADS] : KC_SPAWN_THREADS;
    budget[Q_PROCS] = budget[Q_PROCS] ? budget[Q_PROCS] : KC_SPAWN_PROCS;
    if (index >= bootinfo.module_count)
        return -E_NOENT;
    /* A child gets a subset of what its parent has, never more. */
    if ((privs & ~me->privs) || prio > cur->prio || (irq_mask & ~me->irq_mask))
        return -E_PERM;
    if (io_count && (io_base < me->io_base ||
                     (uint32_t)io_base + io_count > (uint32_t)me->io_base + me->io_count))
        return -E_PERM;
    const struct boot_module *m = &bootinfo.modules[index];
    struct proc *p;
    int rc = proc_spawn(phys_to_virt(m->start), m->end - m->start, a->name[0] ? a->name : m->name,
                        privs, (uint8_t)(prio < 1 ? 1 : prio), me, budget, &p);
    if (rc < 0)
        return rc;
    p->module = (int)index;
    p->io_base = io_count ? io_base : 0;
    p->io_count = io_count;
    p->irq_mask = irq_mask;
    /* The child's handle 1 reaches the thread that started it; handle 2,
     * the name service, is ours passed on, or the boot server itself when
     * it is the parent (a process that deleted its own passes on none). */
    const uint32_t rights = CAP_RIGHT_SEND | CAP_RIGHT_XFER;
    cap_set_fixed(p, HANDLE_PARENT, cur, rights);
    if (proc_is_root(me))
        cap_set_fixed(p, HANDLE_NAMES, cur, rights);
    else if (me->caps[HANDLE_NAMES].thread)
        p->caps[HANDLE_NAMES] = me->caps[HANDLE_NAMES]; /* same slot: the same handle, 2 */
    long h = cap_install(me, p->threads, rights);
    if (h < 0) {
        proc_kill(p, DEATH_KILLED, me->pid);
        return h;
    }
    *out = p;
    return h;
}

long kc_spawn(struct thread *cur, const struct kc_spawn_args *a)
{
    struct proc *p;
    long h = spawn(cur, a, &p);
    if (h >= 0)
        kc_spawn_reply(cur, p->pid);
    return h;
}

long kc_spawn_argv(struct thread *cur, const struct kc_spawn_argv_args *a)
{
    static char block[KC_SPAWN_ARGV_MAX]; /* too big for the kernel stack */
    if (a->length > KC_SPAWN_ARGV_MAX)
        return -E_RANGE;
    /* Read before the child exists, so a bad buffer leaves nothing behind. */
    int rc = uaccess_read(cur->proc, a->args, block, a->length);
    if (rc < 0)
        return rc;
    const struct kc_spawn_args s = {
        .module = a->module,
        .privs = a->privs,
        .prio = a->prio,
        .io_base = a->io_base,
        .io_count = a->io_count,
        .irq_mask = a->irq_mask,
        .frames = a->frames,
        .threads = a->threads,
        .procs = a->procs,
    };
    struct proc *p;
    long h = spawn(cur, &s, &p);
    if (h < 0)
        return h;
    /* The block at the top of the main thread's stack (charged to the
     * child with the stack, freed with it); the thread has not run yet. */
    struct thread *t = p->threads;
    uint64_t at = (t->regs.rsp - a->length) & ~15ull;
    rc = uaccess_write(p, at, block, a->length);
    assert(rc == 0); /* the stack's top page was just mapped, and the block fits in it */
    t->regs.rsp = at;
    t->regs.rdi = at;
    t->regs.rsi = a->length;
    kc_spawn_argv_reply(cur, p->pid);
    return h;
}

long kc_kill(struct thread *cur, const struct kc_kill_args *a)
{
    struct proc *p = proc_by_pid((uint32_t)a->pid);
    if (!p)
        return -E_NOENT;
    if (p == cur->proc)
        return -E_INVAL; /* use KC_EXIT */
    /* Only our descendants (those we reap, directly or as orphans passed
     * up to us): never the root, which restarts everyone else, nor a
     * process another branch of the tree started. */
    const struct proc *r = p->reaper;
    while (r && r != cur->proc)
        r = r->reaper;
    if (!r)
        return -E_PERM;
    proc_kill(p, DEATH_KILLED, cur->proc->pid);
    return 0;
}

long kc_wait_death(struct thread *cur)
{
    struct proc *me = cur->proc;
    if (me->ndeaths == 0)
        return -E_AGAIN;
    struct death d = me->deaths[0];
    memmove(&me->deaths[0], &me->deaths[1], (me->ndeaths - 1) * sizeof(d));
    me->ndeaths--;
    kc_wait_death_reply(cur, d.pid, d.reason, d.detail, d.badge);
    return 0;
}

long kc_proc_info(struct thread *cur, const struct kc_proc_info_args *a)
{
    uint64_t slot = a->slot;
    if (slot >= MAX_PROCS)
        return -E_RANGE;
    const struct proc *p = &procs[slot];
    if (!p->pid)
        return -E_NOENT;
    uint32_t handles = 0;
    for (int h = 0; h < CAP_SLOTS; h++)
        handles += p->caps[h].thread != 0;
    struct kc_proc_info info = {
        .pid = p->pid,
        .parent_pid = p->parent_pid,
        .threads = (uint32_t)p->quota.used[Q_THREADS],
        .privileges = p->privs,
        .kernel_pages = p->quota.used[Q_FRAMES],
        .mapped_pages = p->mapped_pages,
        .kernel_limit = p->quota.limit[Q_FRAMES],
        .kernel_lent = p->quota.lent[Q_FRAMES],
        .thread_limit = (uint32_t)p->quota.limit[Q_THREADS],
        .proc_limit = (uint32_t)p->quota.limit[Q_PROCS],
        .handles = handles,
    };
    strncpy_safe(info.name, p->name, sizeof(info.name));
    const struct thread *t = p->threads;
    strncpy_safe(info.state, t ? thread_state_name(t->state) : "dead", sizeof(info.state));
    return uaccess_write(cur->proc, a->info, &info, sizeof(info));
}

long kc_thread_info(struct thread *cur, const struct kc_thread_info_args *a)
{
    if (a->slot >= MAX_THREADS)
        return -E_RANGE;
    const struct thread *t = &threads[a->slot];
    if (t->state == TS_FREE)
        return -E_NOENT;
    kc_thread_info_reply(cur, t->tid, t->proc->pid, t->prio, thread_state_name(t->state), t->cpu);
    return 0;
}

long kc_thread_set_cpu(struct thread *cur, const struct kc_thread_set_cpu_args *a)
{
    struct thread *t = cur;
    if (a->handle != IPC_SELF) {
        int err = 0;
        t = cap_lookup(cur->proc, a->handle, 0, &err);
        if (!t)
            return err;
    }
    if (a->cpu >= smp_cpus_online)
        return -E_RANGE;
    if (t->proc != cur->proc) {
        /* Whom KC_KILL could end, a PRIV_SPAWN caller may also place. */
        const struct proc *r = t->proc->reaper;
        while (r && r != cur->proc)
            r = r->reaper;
        if (!r || !(cur->proc->privs & PRIV_SPAWN))
            return -E_PERM;
    }
    sched_move(t, (uint16_t)a->cpu);
    return 0;
}

long kc_shutdown(struct thread *cur, const struct kc_shutdown_args *a)
{
    kprintf("kernel: shutdown requested by \"%s\" (status %lu)\n", cur->proc->name, a->status);
    qemu_exit(a->status == 0 ? QEMU_EXIT_SUCCESS : QEMU_EXIT_FAILURE);
}

long kc_args(struct thread *cur, const struct kc_args_args *a)
{
    struct proc *p = cur->proc;
    const char *args = p->module >= 0 ? bootinfo.modules[p->module].args : "";
    uint64_t len = strlen(args), size = a->size;
    if (size == 0)
        return (long)len;
    static char buf[MODULE_ARGS_MAX + 1]; /* too big for the kernel stack */
    uint64_t n = len < size - 1 ? len : size - 1;
    memcpy(buf, args, n);
    buf[n] = '\0'; /* one copy: all of it arrives, or nothing */
    int rc = uaccess_write(p, a->buf, buf, n + 1);
    return rc < 0 ? rc : (long)len;
}

long kc_stats(struct thread *cur)
{
    uint64_t np = 0, nt = 0;
    for (int i = 0; i < MAX_PROCS; i++)
        np += procs[i].pid != 0;
    for (int i = 0; i < MAX_THREADS; i++)
        nt += threads[i].state != TS_FREE;
    kc_stats_reply(cur, pcpu.fast_calls, pcpu.fast_reply_recvs, pcpu.slow_calls, pcpu.as_switches,
                   kmem_frames.free, np, nt);
    return 0;
}
