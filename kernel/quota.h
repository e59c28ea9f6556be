/*
 * Budgets for the kernel's finite resources (kernel frames, thread slots,
 * process slots): what a process may hold, what it holds itself, and what
 * it has lent to its children. Pure counters, so the host tests run them;
 * the policy of who pays for what is in proc.c, kmem.c and docs/security.md.
 */
#ifndef QUOTA_H
#define QUOTA_H

#include <stdint.h>

enum quota_kind {
    Q_FRAMES,  /* kernel frames: page tables, image pages, thread stacks */
    Q_THREADS, /* thread slots */
    Q_PROCS,   /* process slots: the process itself and the children it may start */
    Q_KINDS
};

struct quota {
    uint64_t limit[Q_KINDS]; /* the budget, for the process and its children together */
    uint64_t used[Q_KINDS];  /* held by the process itself */
    uint64_t lent[Q_KINDS];  /* limits of its living children, carved out of this one */
};

/* What is left to use or lend. */
static inline uint64_t quota_left(const struct quota *q, enum quota_kind k)
{
    return q->limit[k] - q->used[k] - q->lent[k];
}

/* Take n of kind k for the process itself: 0, or -E_LIMIT when it would
 * pass the budget (nothing is taken then). */
int quota_charge(struct quota *q, enum quota_kind k, uint64_t n);

/* Give back n of kind k. Precondition: at least n are charged. */
void quota_uncharge(struct quota *q, enum quota_kind k, uint64_t n);

/* Carve a child's budget `want` out of q, all kinds or none: 0, or -E_LIMIT
 * with *short_kind set to the first kind that does not fit. */
int quota_lend(struct quota *q, const uint64_t want[Q_KINDS], enum quota_kind *short_kind);

/* A child carved out of another lender (which died) is now carved out of
 * q. Precondition: that lender's whole limit was repaid to q just before,
 * and the child's limit was part of what it had lent, so it fits. */
void quota_adopt(struct quota *q, const uint64_t limit[Q_KINDS]);

/* A child's budget `limit` comes back (it died, or moved to another
 * lender). Precondition: it was lent by q. */
void quota_repay(struct quota *q, const uint64_t limit[Q_KINDS]);

#endif
