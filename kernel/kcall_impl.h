/*
 * Private to the kernel endpoint: how handlers read their arguments and
 * write their results (message words in the caller's saved registers), and
 * the handler list the dispatch table in kcall.c refers to.
 */
#ifndef KCALL_IMPL_H
#define KCALL_IMPL_H

#include "proc.h"

/* Message word i of t's saved registers (abi/syscall.h order). */
uint64_t *kcall_word(struct thread *t, int i);

#define ARG(i)       (*kcall_word(cur, (i)))
#define OUT(i, v)    (*kcall_word(cur, (i)) = (uint64_t)(v))
#define OUT_WORDS(n) (cur->regs.rsi = (uint64_t)(n)*8)

/* kcall_proc.c */
long kc_log(struct thread *cur);
long kc_exit(struct thread *cur);
long kc_self(struct thread *cur);
long kc_time(struct thread *cur);
long kc_yield(struct thread *cur);
long kc_sleep(struct thread *cur);
long kc_thread_create(struct thread *cur);
long kc_thread_exit(struct thread *cur);
long kc_cap_delete(struct thread *cur);
long kc_cap_identify(struct thread *cur);
long kc_module_info(struct thread *cur);
long kc_spawn(struct thread *cur);
long kc_kill(struct thread *cur);
long kc_wait_death(struct thread *cur);
long kc_proc_info(struct thread *cur);
long kc_shutdown(struct thread *cur);
long kc_args(struct thread *cur);
long kc_stats(struct thread *cur);

/* kcall_io.c */
long kc_io_in(struct thread *cur);
long kc_io_out(struct thread *cur);
long kc_io_write(struct thread *cur);
long kc_irq_bind(struct thread *cur);
long kc_irq_ack(struct thread *cur);

/* kcall_mem.c */
long kc_map(struct thread *cur);
long kc_unmap(struct thread *cur);
long kc_meminfo(struct thread *cur);

/* kcall_dev.c */
long kc_dev_assign(struct thread *cur);
long kc_mmio_map(struct thread *cur);

/* grant.c */
long kc_grant_table(struct thread *cur);

#endif
