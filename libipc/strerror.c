/*
 * Names for the shared error codes (abi/errno.h).
 */
#include <ipc/ipc.h>

static const char *const names[E_MAX] = {
    [0] = "success",
    [E_INVAL] = "invalid argument",
    [E_NOSYS] = "no such call",
    [E_PERM] = "not permitted",
    [E_BADHANDLE] = "bad handle",
    [E_DEAD] = "peer is dead",
    [E_AGAIN] = "would block",
    [E_TIMEDOUT] = "timed out",
    [E_NOMEM] = "out of memory",
    [E_FAULT] = "bad address",
    [E_RANGE] = "out of range",
    [E_NOENT] = "no such entry",
    [E_EXIST] = "already exists",
    [E_BUSY] = "busy",
    [E_LIMIT] = "table full or budget used up",
    [E_BADELF] = "bad executable",
    [E_TRUNC] = "truncated",
    [E_OVERLAP] = "overlap",
    [E_GRANT_NOTABLE] = "granter has no grant table",
    [E_GRANT_INDEX] = "grant index out of range",
    [E_GRANT_INVALID] = "grant not in use (or revoked)",
    [E_GRANT_STALE] = "grant revoked, its slot reused",
    [E_GRANT_GRANTEE] = "not the grantee",
    [E_GRANT_ACCESS] = "grant does not allow this access",
    [E_GRANT_RANGE] = "outside the granted range",
    [E_GRANT_DEPTH] = "indirect grant chain too deep",
    [E_IO] = "device I/O error",
    [E_NOACCEPT] = "receiver does not accept a handle",
    [E_NOSPC] = "no space left",
    [E_NOTDIR] = "not a directory",
    [E_ISDIR] = "is a directory",
    [E_NOTEMPTY] = "directory not empty",
    [E_NAMETOOLONG] = "name too long",
    [E_CORRUPT] = "file system corrupt",
    [E_STALE] = "stale handle (server restarted)",
    [E_EOF] = "end of input",
};

const char *ipc_strerror(long err)
{
    if (err < 0)
        err = -err;
    return err < E_MAX && names[err] ? names[err] : "unknown error";
}
