/*
 * User memory access by page walk (see uaccess.h): the slow path of ucopy,
 * the one page-by-page copy of the kernel (its fast path for ranges within
 * one page is inline in uaccess.h), and uaccess_read/write on top of it.
 */
#include "uaccess.h"

#include <abi/errno.h>
#include <common/string.h>

#include "arch/x86_64/vm.h"

/* Bytes from a to the end of its page, or to the end of the copy when the
 * end is kernel memory (contiguous). */
static inline uint64_t room(struct ucopy_end e, uint64_t a, uint64_t left)
{
    uint64_t r = 4096 - (a & 0xfff);
    return e.c && r < left ? r : left;
}

/* The same, backwards: bytes from the start of the page holding end - 1. */
static inline uint64_t room_down(struct ucopy_end e, uint64_t end, uint64_t left)
{
    uint64_t r = ((end - 1) & 0xfff) + 1;
    return e.c && r < left ? r : left;
}

/* The slow path: page by page, each side through its cursor (one entry
 * read per page within a 2 MiB region). Backwards when the destination
 * overlaps above the source in one space, so no byte is read after it was
 * overwritten; each chunk then ends at a page boundary on either side. */
long ucopy_pages(struct ucopy_end from, struct ucopy_end to, uint64_t len, int flags)
{
    int down = from.c && to.c && from.c->pml4 == to.c->pml4 && to.addr > from.addr &&
               to.addr - from.addr < len;
    int wr = ucopy_need_write(flags);
    while (len) {
        uint64_t fa, ta, chunk;
        if (down) {
            chunk = room_down(to, to.addr + len, room_down(from, from.addr + len, len));
            len -= chunk;
            fa = from.addr + len;
            ta = to.addr + len;
        } else {
            chunk = room(to, to.addr, room(from, from.addr, len));
            fa = from.addr;
            ta = to.addr;
            from.addr += chunk;
            to.addr += chunk;
            len -= chunk;
        }
        const uint8_t *s = ucopy_ptr(from, fa, 0);
        uint8_t *d = ucopy_ptr(to, ta, wr);
        if (!s || !d)
            return -E_FAULT;
        if (!(flags & UCOPY_CHECK))
            memmove(d, s, chunk); /* overlapping below its source: forwards is right */
    }
    return 0;
}

/* Whole or not at all: across pages every page is checked before the
 * first byte moves. Within one page the single translation decides, so
 * the check pass is not needed (grant entries, messages). */
static int copy_whole(struct ucopy_end from, struct ucopy_end to, uint64_t len,
                      struct ucopy_end user)
{
    if (!ucopy_in_one_page(user, len)) {
        long rc = ucopy(from, to, len, UCOPY_CHECK);
        if (rc < 0)
            return (int)rc;
    }
    return (int)ucopy(from, to, len, 0);
}

int uaccess_read(struct proc *p, uint64_t uaddr, void *dst, uint64_t len)
{
    struct vm_cursor c = vm_cursor(p->cr3);
    struct ucopy_end u = {&c, uaddr};
    return copy_whole(u, (struct ucopy_end){0, (uint64_t)dst}, len, u);
}

int uaccess_write(struct proc *p, uint64_t uaddr, const void *src, uint64_t len)
{
    struct vm_cursor c = vm_cursor(p->cr3);
    struct ucopy_end u = {&c, uaddr};
    return copy_whole((struct ucopy_end){0, (uint64_t)src}, u, len, u);
}
