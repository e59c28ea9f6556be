/*
 * The noisy neighbour's hammering, as an order of the isolation agent
 * (iso_proto.h, ISO_NOISE).
 */
#ifndef NOISE_H
#define NOISE_H

#include <ipc/ipc.h>

/* m->w[1] = ticks to go on for; the results replace m's words. */
void noise(struct ipc_msg *m);

#endif
