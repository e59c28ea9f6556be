/*
 * The checker pair's protocol: messages whose every word the client can
 * predict, and data of any size whose checksum it knows.
 */
#ifndef CHECKER_PROTO_H
#define CHECKER_PROTO_H

#include <stdint.h>

#include "../testlib.h"

#define CHK_ECHO 1 /* w0..w7 -> w1..w7 each XOR CHK_KEY, w0 = status */
#define CHK_SUM  2 /* data of any size (ipc_call_data) -> w0 = length, w1 = checksum */
#define CHK_KEY  0x5a5aa5a5c3c33c3cull

#endif
