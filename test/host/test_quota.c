/*
 * Host tests for the budget arithmetic (kernel/quota.c): charging within a
 * budget, lending a child's budget all at once or not at all, repaying it,
 * orphans moving to another lender, and a seeded random tree of processes
 * checked against the invariant used + lent <= limit after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>

#include "hostlib.h"
#include "quota.h"

/* The kernel's assert() ends in panic_at: here it is a test failure (or
 * the failure a test expects, with expect_assert_failure). */
void panic_at(const char *file, int line, const char *fmt, ...)
{
    mock_assert(0, fmt, file, line);
    abort();
}

static void invariant(const struct quota *q)
{
    for (int k = 0; k < Q_KINDS; k++)
        assert_true(q->used[k] + q->lent[k] <= q->limit[k]);
}

static void test_charge_within_budget(void **state)
{
    (void)state;
    struct quota q = {.limit = {10, 2, 1}};
    assert_int_equal(quota_charge(&q, Q_FRAMES, 7), 0);
    assert_int_equal(quota_charge(&q, Q_FRAMES, 4), -E_LIMIT); /* nothing taken */
    assert_int_equal(q.used[Q_FRAMES], 7);
    assert_int_equal(quota_charge(&q, Q_FRAMES, 3), 0);
    assert_int_equal(quota_left(&q, Q_FRAMES), 0);
    assert_int_equal(quota_charge(&q, Q_FRAMES, 1), -E_LIMIT);
    quota_uncharge(&q, Q_FRAMES, 10);
    assert_int_equal(quota_left(&q, Q_FRAMES), 10);
    invariant(&q);
}

static void test_uncharge_more_than_charged_is_a_kernel_bug(void **state)
{
    (void)state;
    struct quota q = {.limit = {10, 2, 1}};
    quota_charge(&q, Q_THREADS, 1);
    expect_assert_failure(quota_uncharge(&q, Q_THREADS, 2));
}

static void test_lend_all_or_nothing(void **state)
{
    (void)state;
    struct quota parent = {.limit = {100, 10, 4}, .used = {20, 1, 1}};
    enum quota_kind k = Q_KINDS;
    const uint64_t too_many_threads[Q_KINDS] = {10, 10, 1};
    assert_int_equal(quota_lend(&parent, too_many_threads, &k), -E_LIMIT);
    assert_int_equal(k, Q_THREADS);
    assert_int_equal(parent.lent[Q_FRAMES], 0); /* the frames were not taken either */
    const uint64_t ok[Q_KINDS] = {80, 9, 3};
    assert_int_equal(quota_lend(&parent, ok, &k), 0);
    assert_int_equal(quota_left(&parent, Q_FRAMES), 0);
    assert_int_equal(quota_charge(&parent, Q_FRAMES, 1), -E_LIMIT); /* all of it is lent */
    const uint64_t one[Q_KINDS] = {0, 0, 1};
    assert_int_equal(quota_lend(&parent, one, &k), -E_LIMIT);
    assert_int_equal(k, Q_PROCS);
    quota_repay(&parent, ok);
    assert_int_equal(quota_left(&parent, Q_FRAMES), 80);
    invariant(&parent);
}

/* A dies with a living child C (carved out of A): A's budget goes back to
 * the root, then C is carved out of the root. */
static void test_orphan_moves_to_the_reaper(void **state)
{
    (void)state;
    struct quota root = {.limit = {1000, 100, 10}, .used = {10, 1, 1}};
    const uint64_t a_limit[Q_KINDS] = {300, 20, 3}, c_limit[Q_KINDS] = {200, 5, 1};
    enum quota_kind k;
    assert_int_equal(quota_lend(&root, a_limit, &k), 0);
    struct quota a = {.limit = {300, 20, 3}, .used = {40, 2, 1}};
    assert_int_equal(quota_lend(&a, c_limit, &k), 0);
    invariant(&a);
    quota_repay(&root, a_limit);
    quota_adopt(&root, c_limit);
    assert_int_equal(root.lent[Q_FRAMES], 200);
    assert_int_equal(root.lent[Q_THREADS], 5);
    assert_int_equal(root.lent[Q_PROCS], 1);
    invariant(&root);
    quota_repay(&root, c_limit);
    assert_int_equal(root.lent[Q_FRAMES], 0);
}

static void test_repay_more_than_lent_is_a_kernel_bug(void **state)
{
    (void)state;
    struct quota q = {.limit = {10, 2, 2}};
    const uint64_t x[Q_KINDS] = {5, 1, 1}, y[Q_KINDS] = {6, 1, 1};
    enum quota_kind k;
    assert_int_equal(quota_lend(&q, x, &k), 0);
    expect_assert_failure(quota_repay(&q, y));
}

/* A random tree: processes start children with random budgets, charge and
 * uncharge, and die (children passing to the dead one's lender). Every
 * refusal must leave the counters as they were, every step must keep the
 * invariant, and when everyone but the root has died, all is back. */
#define NP 64
static struct quota qs[NP];
static int alive[NP], lender[NP];

static void kill_proc(int p)
{
    int to = lender[p];
    quota_uncharge(&qs[p], Q_FRAMES, qs[p].used[Q_FRAMES]);
    quota_repay(&qs[to], qs[p].limit);
    alive[p] = 0;
    for (int c = 0; c < NP; c++)
        if (alive[c] && lender[c] == p) {
            lender[c] = to;
            quota_adopt(&qs[to], qs[c].limit);
        }
}

static void test_random_tree(void **state)
{
    (void)state;
    rng_state = 0x71756f7461ull;
    memset(alive, 0, sizeof(alive));
    qs[0] = (struct quota){.limit = {5000, 256, NP}, .used = {30, 1, 1}};
    alive[0] = 1;
    uint64_t started = 0, refused = 0, orphaned = 0;
    for (int step = 0; step < 200000; step++) {
        int p = (int)(rng() % NP);
        while (!alive[p]) /* the root always lives */
            p = (int)(rng() % NP);
        struct quota before = qs[p];
        switch (rng() % 8) {
        case 0: { /* start a child */
            int c = 1;
            while (c < NP && alive[c])
                c++;
            if (c == NP)
                break;
            uint64_t want[Q_KINDS] = {rng() % 800, 1 + rng() % 20, 1 + rng() % 6};
            enum quota_kind k;
            if (quota_lend(&qs[p], want, &k) < 0) {
                assert_memory_equal(&before, &qs[p], sizeof(before));
                assert_true(want[k] > quota_left(&qs[p], k));
                refused++;
                break;
            }
            started++;
            qs[c] = (struct quota){.limit = {want[0], want[1], want[2]}};
            assert_int_equal(quota_charge(&qs[c], Q_PROCS, 1), 0);
            lender[c] = p;
            alive[c] = 1;
            break;
        }
        case 1:
        case 5: { /* take frames */
            uint64_t n = rng() % 64;
            if (quota_charge(&qs[p], Q_FRAMES, n) < 0) {
                assert_memory_equal(&before, &qs[p], sizeof(before));
                assert_true(n > quota_left(&qs[p], Q_FRAMES));
            }
            break;
        }
        case 2:
        case 3:
        case 4: /* give some back */
            quota_uncharge(&qs[p], Q_FRAMES,
                           qs[p].used[Q_FRAMES] ? rng() % qs[p].used[Q_FRAMES] : 0);
            break;
        default:
            for (int c = 0; c < NP && p != 0; c++)
                orphaned += alive[c] && lender[c] == p;
            if (p != 0)
                kill_proc(p);
        }
        for (int i = 0; i < NP; i++)
            if (alive[i])
                invariant(&qs[i]);
    }
    /* The run went everywhere it should (the seed is fixed). */
    assert_true(started > 1000 && refused > 1000 && orphaned > 100);
    for (int round = 0; round < NP; round++)
        for (int p = 1; p < NP; p++)
            if (alive[p])
                kill_proc(p);
    for (int k = 0; k < Q_KINDS; k++)
        assert_int_equal(qs[0].lent[k], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_charge_within_budget),
        cmocka_unit_test(test_uncharge_more_than_charged_is_a_kernel_bug),
        cmocka_unit_test(test_lend_all_or_nothing),
        cmocka_unit_test(test_orphan_moves_to_the_reaper),
        cmocka_unit_test(test_repay_more_than_lent_is_a_kernel_bug),
        cmocka_unit_test(test_random_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
