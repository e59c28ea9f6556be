/*
 * Granite error codes: the one list shared by the kernel, libipc and every
 * server. Calls return the negated code (-E_INVAL); 0 or a positive value is
 * success. Numbers are ABI: append, never renumber.
 */
#ifndef ABI_ERRNO_H
#define ABI_ERRNO_H

/* clang-format off */
#define E_INVAL          1  /* malformed argument (bad flag, length > 64, ...) */
#define E_NOSYS          2  /* unknown system call or kernel-endpoint operation */
#define E_PERM           3  /* caller lacks the privilege or right */
#define E_BADHANDLE      4  /* handle out of range or empty slot */
#define E_DEAD           5  /* peer died (or is not there any more) */
#define E_AGAIN          6  /* non-blocking call would have blocked */
#define E_TIMEDOUT       7  /* blocking call ran out of time */
#define E_NOMEM          8  /* out of memory (kernel frames, or a frame budget) */
#define E_FAULT          9  /* user address unmapped, not user, or not writable */
#define E_RANGE         10  /* value or address outside the allowed range */
#define E_NOENT         11  /* no such name, module or process */
#define E_EXIST         12  /* already exists / already registered */
#define E_BUSY          13  /* resource in use */
#define E_LIMIT         14  /* a table is full, or a budget used up (handles, threads, processes) */
#define E_BADELF        15  /* executable rejected by the ELF validator */
#define E_TRUNC         16  /* data ends before its header says it does */
#define E_OVERLAP       17  /* regions overlap where they must not */
/* grant verification failures (docs/grants.md gives the order of the checks) */
#define E_GRANT_NOTABLE 20  /* granter dead or has no (valid) grant table */
#define E_GRANT_INDEX   21  /* grant index past the end of the table */
#define E_GRANT_INVALID 22  /* slot not in use (never used, or its grant revoked), or bad flags */
#define E_GRANT_STALE   23  /* the slot holds a newer grant: this one was revoked, its slot reused */
#define E_GRANT_GRANTEE 24  /* caller is not the grantee */
#define E_GRANT_ACCESS  25  /* read or write right missing */
#define E_GRANT_RANGE   26  /* offset/length outside the granted range */
#define E_GRANT_DEPTH   27  /* indirect chain too deep, or a loop */
/* device drivers */
#define E_IO            28  /* the device failed the request, or misbehaved and was reset
                               while it was in flight: its effect is unknown */
#define E_NOACCEPT      29  /* the receiver did not accept a capability (IPC_INFO_ACCEPT) */
/* storage: the FAT file-system core (servers/fs) and its server */
#define E_NOSPC         30  /* no free cluster left, or the directory is full */
#define E_NOTDIR        31  /* a path component or the target is not a directory */
#define E_ISDIR         32  /* the target is a directory */
#define E_NOTEMPTY      33  /* directory not empty */
#define E_NAMETOOLONG   34  /* a name over 255 UTF-16 units, or a path too long */
#define E_CORRUPT       35  /* the on-disk structures are inconsistent */
#define E_STALE         36  /* a file handle from an earlier instance of its server: reopen */
/* input */
#define E_EOF           37  /* end of input: the console's Ctrl-D at the start of a line */
#define E_MAX           38
/* clang-format on */

#endif
