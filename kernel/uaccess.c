/*
 * User memory access by page walk (see uaccess.h). The range is checked for
 * wrap-around and against the user half before any page is touched.
 */
#include "uaccess.h"

#include <abi/errno.h>
#include <common/string.h>

#include "arch/x86_64/vm.h"

/* With kbuf == 0 only checks the pages, so a failing copy changes nothing. */
static int walk(struct proc *p, uint64_t uaddr, uint8_t *kbuf, uint64_t len, int write)
{
    if (len == 0)
        return 0;
    if (uaddr >= USER_HALF_END || len > USER_HALF_END - uaddr)
        return -E_FAULT;
    while (len) {
        uint64_t chunk = 4096 - (uaddr & 0xfff);
        if (chunk > len)
            chunk = len;
        uint8_t *u = vm_user_ptr(p->cr3, uaddr, write);
        if (!u)
            return -E_FAULT;
        if (kbuf && write)
            memcpy(u, kbuf, chunk);
        else if (kbuf)
            memcpy(kbuf, u, chunk);
        uaddr += chunk;
        kbuf = kbuf ? kbuf + chunk : 0;
        len -= chunk;
    }
    return 0;
}

static int copy(struct proc *p, uint64_t uaddr, uint8_t *kbuf, uint64_t len, int write)
{
    /* Within one page a single walk decides: the copy happens whole or not
     * at all, so the check pass is not needed (grant entries, messages). */
    if (len && uaddr < USER_HALF_END && (uaddr & 0xfff) + len <= 4096) {
        uint8_t *u = vm_user_ptr(p->cr3, uaddr, write);
        if (!u)
            return -E_FAULT;
        if (write)
            memcpy(u, kbuf, len);
        else
            memcpy(kbuf, u, len);
        return 0;
    }
    int rc = walk(p, uaddr, 0, len, write);
    return rc < 0 ? rc : walk(p, uaddr, kbuf, len, write);
}

int uaccess_read(struct proc *p, uint64_t uaddr, void *dst, uint64_t len)
{
    return copy(p, uaddr, dst, len, 0);
}

int uaccess_write(struct proc *p, uint64_t uaddr, const void *src, uint64_t len)
{
    return copy(p, uaddr, (uint8_t *)(uintptr_t)src, len, 1);
}
