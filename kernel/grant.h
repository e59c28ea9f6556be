/*
 * Grant copies (SYS_GRANT_COPY_FROM/TO) and grant-table registration
 * (KC_GRANT_TABLE); their handlers are declared in calls_gen.h. The checks
 * are in grant_verify.c.
 */
#ifndef GRANT_H
#define GRANT_H

#include "grant_verify.h"
#include "proc.h"

/* Grant tables as the kernel reads them: in each granter's own memory. */
extern const struct grant_source grant_kernel_source;

#endif
