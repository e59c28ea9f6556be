/*
 * In-kernel self-tests, run when the kernel command line says "ktest". Each
 * prints "ktest <name> PASS|FAIL" and the run ends with one summary line and
 * QEMU's exit status.
 */
#ifndef KTEST_H
#define KTEST_H

__attribute__((noreturn)) void ktest_run(void);

/* Deliberate kernel faults for the fault-dump tests ("fault=<kind>"),
 * compiled only into the test kernel (GRANITE_TEST_HOOKS). */
void ktest_fault(const char *kind);

#endif
