/*
 * Temporary: lets the isolation tests build against the ABI as it is before
 * issue 11 is fixed (no capability acceptance), so they can be seen failing first.
 */
#ifndef ISO_COMPAT_H
#define ISO_COMPAT_H

#include <ipc/kcall.h>

#define ATTACKER_FRAMES 300 /* the attacker's kernel-frame budget */

#ifndef IPC_INFO_ACCEPT
#define IPC_INFO_ACCEPT 0 /* today every message's capability is installed */
#endif
#ifndef E_NOACCEPT
#define E_NOACCEPT 28
#endif

#endif
