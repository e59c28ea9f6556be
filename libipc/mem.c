/*
 * Memory server client (see ipc/mem.h). Like the console, the handle is
 * found again after the server restarts: a request that meets a dead
 * server fails once, the next one reaches the new instance. A request
 * through a handle that answers -E_BADHANDLE reached nobody, so it is sent
 * again at once through a fresh lookup.
 */
#include <abi/proto/mem.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>

static long handle = -1;

static long mem_call(const struct ipc_msg *req, struct ipc_msg *m)
{
    for (int tries = 0;; tries++) {
        if (handle < 0)
            handle = name_lookup_wait("mem", 100);
        if (handle < 0)
            return handle;
        *m = *req;
        long rc = ipc_call_status((uint64_t)handle, m);
        if (rc == -E_DEAD || rc == -E_BADHANDLE) {
            kc_cap_delete((uint64_t)handle); /* a stale handle deletes nothing */
            handle = -1;
        }
        if (rc != -E_BADHANDLE || tries > 0)
            return rc;
    }
}

void *mem_alloc_pages(uint64_t pages, long *err)
{
    return mem_alloc_pages_at(0, pages, err);
}

void *mem_alloc_pages_at(void *end, uint64_t pages, long *err)
{
    struct ipc_msg req = ipc_msg_make(MEM_ALLOC, 3), m;
    req.w[1] = pages;
    req.w[2] = (uint64_t)end;
    long rc = mem_call(&req, &m);
    if (err)
        *err = rc < 0 ? rc : 0;
    return rc < 0 ? 0 : (void *)m.w[1];
}

void *mem_alloc_dma(uint64_t pages, uint64_t *phys, long *err)
{
    struct ipc_msg req = ipc_msg_make(MEM_ALLOC_DMA, 2), m;
    req.w[1] = pages;
    long rc = mem_call(&req, &m);
    if (err)
        *err = rc < 0 ? rc : 0;
    if (rc < 0)
        return 0;
    *phys = m.w[2];
    return (void *)m.w[1];
}

long mem_free_pages(void *addr, uint64_t pages)
{
    struct ipc_msg req = ipc_msg_make(MEM_FREE, 3), m;
    req.w[1] = (uint64_t)addr;
    req.w[2] = pages;
    return mem_call(&req, &m);
}

long mem_stats(struct mem_stats *out)
{
    struct ipc_msg req = ipc_msg_make(MEM_STATS, 1), m;
    long rc = mem_call(&req, &m);
    if (rc >= 0)
        *out = (struct mem_stats){m.w[1], m.w[2], m.w[3], m.w[4], m.w[5]};
    return rc;
}
