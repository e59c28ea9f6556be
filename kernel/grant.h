/*
 * Grant copies (SYS_GRANT_COPY_FROM/TO) and grant-table registration
 * (KC_GRANT_TABLE). The checks are in grant_verify.c.
 */
#ifndef GRANT_H
#define GRANT_H

#include "proc.h"

long sys_grant_copy_from(struct thread *cur);
long sys_grant_copy_to(struct thread *cur);

#endif
