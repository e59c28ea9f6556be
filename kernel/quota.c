/*
 * Budget arithmetic (see quota.h). The invariant, for every kind:
 * used + lent <= limit. Every function keeps it or changes nothing.
 */
#include "quota.h"

#include <abi/errno.h>

#include "klog.h"

int quota_charge(struct quota *q, enum quota_kind k, uint64_t n)
{
    if (n > quota_left(q, k))
        return -E_LIMIT;
    q->used[k] += n;
    return 0;
}

void quota_uncharge(struct quota *q, enum quota_kind k, uint64_t n)
{
    assert(n <= q->used[k]);
    q->used[k] -= n;
}

int quota_lend(struct quota *q, const uint64_t want[Q_KINDS], enum quota_kind *short_kind)
{
    for (int k = 0; k < Q_KINDS; k++)
        if (want[k] > quota_left(q, (enum quota_kind)k)) {
            *short_kind = (enum quota_kind)k;
            return -E_LIMIT;
        }
    for (int k = 0; k < Q_KINDS; k++)
        q->lent[k] += want[k];
    return 0;
}

void quota_repay(struct quota *q, const uint64_t limit[Q_KINDS])
{
    for (int k = 0; k < Q_KINDS; k++) {
        assert(limit[k] <= q->lent[k]);
        q->lent[k] -= limit[k];
    }
}

void quota_adopt(struct quota *q, const uint64_t limit[Q_KINDS])
{
    for (int k = 0; k < Q_KINDS; k++) {
        assert(limit[k] <= quota_left(q, (enum quota_kind)k));
        q->lent[k] += limit[k];
    }
}
