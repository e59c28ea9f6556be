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
#define BOOT_RUN       0x106 /* data as ipc_call_data (w0 = length, w1 = grant or 0,
                                w2.. inline): NUL-terminated words, the name of a module
                                marked "program" and then its arguments (needs "control")
                                -> w0 status, w1 = pid. Starts one more instance, named
                                after the module, with those words as its argument block
                                (KC_SPAWN_ARGV). -E_NOENT no such program; -E_INVAL the
                                data does not end in a NUL; -E_RANGE more than
                                BOOT_RUN_MAX bytes; -E_LIMIT BOOT_RUNS runs of the
                                caller's not yet waited for (or the table is full);
                                KC_SPAWN's errors */
#define BOOT_WAIT      0x107 /* w1 = pid of a run of the caller's, w2 = 0 or BOOT_WAIT_POLL
                                -> w0 status, w1 = reason (DEATH_*), w2 = detail; the reply
                                waits for the program's end (with BOOT_WAIT_POLL: -E_AGAIN
                                while it runs) and forgets the run. -E_NOENT not a run of
                                the caller's, -E_BUSY another thread waits for it. The
                                runs of a process that dies are forgotten (the programs
                                go on) */
#define BOOT_WAIT_POLL 1
#define BOOT_RUNS      8    /* runs a process may have that it has not waited for */
#define BOOT_RUN_MAX   2048 /* BOOT_RUN's data: the name and the argument block */
/* clang-format on */

#endif
