/*
 * Boot server protocol (name service and process control). Every server
 * reply in Granite carries its status in w0 (>= 0 success, -E_* error);
 * names are up to 23 bytes in w1..w3. Who may register which name is in
 * docs/writing-a-server.md.
 */
#ifndef ABI_PROTO_NAME_H
#define ABI_PROTO_NAME_H

/* clang-format off */
#define NAME_MAX_LEN   24

#define NAME_REGISTER  0x100 /* w1..w3 name, IPC_INFO_CAP with the server's handle
                                (IPC_SELF) -> w0 status: -E_EXIST when the name is
                                another's (a boot module's own name, or held, or
                                reserved for a restarting module); -E_LIMIT past 4
                                names per module or process, or the table is full;
                                -E_INVAL without a handle or name */
#define NAME_LOOKUP    0x101 /* w1..w3 name, IPC_INFO_ACCEPT -> w0 status, IPC_INFO_CAP
                                handle; -E_NOENT no such name, -E_AGAIN its module is
                                being restarted, -E_NOACCEPT the call did not accept */
#define BOOT_KILL      0x102 /* w1..w3 name of a running server (needs "control") */
#define BOOT_SPAWN     0x103 /* w1..w3 module name (needs "control") -> w0 status */
#define BOOT_DIED      0x104 /* boot -> bus server, then memory server: w1 = pid that died;
                                to the memory server w2 = 1 if the bus server has stopped the
                                devices it held (bus mastering off: its DMA pages may go) */
#define BOOT_STATS     0x105 /* -> w0 status, w1 restarts, w2 deaths, w3 faults */
/* clang-format on */

#endif
