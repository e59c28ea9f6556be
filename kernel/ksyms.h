/*
 * Kernel symbol lookup for fault dumps and backtraces (text from the
 * "ksyms" boot module; see ksyms.c).
 */
#ifndef KSYMS_H
#define KSYMS_H

#include <stdint.h>

void ksyms_init(const char *text, uint64_t len);

/* Nearest text symbol at or below addr; returns 0 when none is known. */
int ksyms_lookup(uint64_t addr, const char **name, int *name_len, uint64_t *offset);

#endif
