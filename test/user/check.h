/*
 * The verdict lines of the user-level test programs: one "CHECK <prefix><name>
 * PASS|FAIL[: detail]" line per check, the form the QEMU tests match, and a
 * count of the failures for the program's exit status.
 */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <ipc/ipc.h>
#include <ipc/stdio.h>

#ifndef CHECK_PREFIX
#define CHECK_PREFIX "" /* a program may name its checks "fs.<name>" */
#endif

static int failures;

static inline void check(const char *name, int ok, const char *detail)
{
    failures += !ok;
    printf("CHECK " CHECK_PREFIX "%s %s%s%s\n", name, ok ? "PASS" : "FAIL", detail ? ": " : "",
           detail ? detail : "");
}

static inline void check_rc(const char *name, long got, long want)
{
    char d[96];
    snprintf(d, sizeof(d), "got %ld (%s), want %ld (%s)", got, ipc_strerror(got), want,
             ipc_strerror(want));
    check(name, got == want, got == want ? 0 : d);
}

#endif
