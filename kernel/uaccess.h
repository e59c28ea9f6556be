/*
 * The kernel's only way to touch user memory: walk the process's page
 * tables and go through the physmap. Works for any process (loaded or not),
 * never faults, and leaves SMAP on: a kernel dereference of a user pointer
 * anywhere else is caught by the CPU.
 */
#ifndef UACCESS_H
#define UACCESS_H

#include <abi/errno.h>
#include <common/string.h>
#include <stdint.h>

#include "arch/x86_64/vm.h"
#include "proc.h"

/* Copy len bytes from p's memory at uaddr. Returns 0 or -E_FAULT (some
 * byte not mapped, not user, or, for writes, not writable); a failing copy
 * changes nothing. */
int uaccess_read(struct proc *p, uint64_t uaddr, void *dst, uint64_t len);
int uaccess_write(struct proc *p, uint64_t uaddr, const void *src, uint64_t len);

/* One end of a copy: user memory at addr of the address space c walks
 * (a cursor the caller may share with other accesses to that space, so a
 * region walked once is not walked again), or, when c is 0, kernel
 * memory at addr. */
struct ucopy_end {
    struct vm_cursor *c;
    uint64_t addr;
};

enum {
    UCOPY_CHECK = 1,  /* walk and check every page, move no byte */
    UCOPY_LOADER = 2, /* the kernel filling a new process: `to` need not be user-writable */
};

static inline int ucopy_in_user_half(struct ucopy_end e, uint64_t len)
{
    return !e.c || (e.addr < USER_HALF_END && len <= USER_HALF_END - e.addr);
}

static inline int ucopy_in_one_page(struct ucopy_end e, uint64_t len)
{
    return !e.c || (e.addr & 0xfff) + len <= 4096;
}

static inline uint8_t *ucopy_ptr(struct ucopy_end e, uint64_t a, int write)
{
    return e.c ? (uint8_t *)vm_cursor_ptr(e.c, a, write) : (uint8_t *)a;
}

/* Must `to`'s user pages be writable? Yes, except for the loader. */
static inline int ucopy_need_write(int flags)
{
    if (flags & UCOPY_LOADER)
        return 0;
    return 1;
}

/* ucopy's slow path, page by page (uaccess.c). */
long ucopy_pages(struct ucopy_end from, struct ucopy_end to, uint64_t len, int flags);

/*
 * The one page-by-page copy (uaccess, grant copies, the ELF loader): len
 * bytes from `from` to `to`, with memmove's result when both are the same
 * space and overlap. A user page must be present, user, not device memory
 * and, on `to`, writable (unless UCOPY_LOADER); else -E_FAULT, the bytes
 * before it staying copied. A range that leaves the user half is -E_FAULT
 * before any byte moves. Inline, the fast path in front: ranges within one
 * page on each side (grant entries, small grants) take one translation per
 * side and one move; anything longer goes to ucopy_pages.
 */
static inline __attribute__((always_inline)) long ucopy(struct ucopy_end from, struct ucopy_end to,
                                                        uint64_t len, int flags)
{
    if (len == 0)
        return 0;
    if (!ucopy_in_user_half(from, len) || !ucopy_in_user_half(to, len))
        return -E_FAULT;
    if (!ucopy_in_one_page(from, len) || !ucopy_in_one_page(to, len))
        return ucopy_pages(from, to, len, flags);
    const uint8_t *s = ucopy_ptr(from, from.addr, 0);
    uint8_t *d = ucopy_ptr(to, to.addr, ucopy_need_write(flags));
    if (!s || !d)
        return -E_FAULT;
    if (!(flags & UCOPY_CHECK))
        memmove(d, s, len);
    return 0;
}

#endif
