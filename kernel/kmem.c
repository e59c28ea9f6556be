/*
 * Kernel physical memory (see kmem.h). The bitmap is carved out of the first
 * usable range big enough for it, so its size follows the machine's RAM.
 */
#include "kmem.h"

#include "arch/x86_64/layout.h"
#include "arch/x86_64/vm.h"
#include "bootinfo.h"
#include "klog.h"

#define MAX_RANGES 64

struct frame_alloc kmem_frames;
uint64_t kmem_phys_max;
uint64_t kmem_pool_base, kmem_pool_end, kmem_pool_state;

/* The kernel keeps this much for page tables, kernel stacks, program
 * images and thread stacks; the rest of the largest range is the pool. */
#define KERNEL_RESERVE (64ull << 20)

static struct phys_range usable[MAX_RANGES];
static uint64_t bitmap_pa;

extern char __kernel_phys_start[], __kernel_phys_end[];

static const char *mem_type(uint32_t t)
{
    switch (t) {
    case 1:
        return "usable";
    case 3:
        return "ACPI reclaimable";
    case 4:
        return "ACPI NVS";
    case 5:
        return "bad RAM";
    default:
        return "reserved";
    }
}

/* Every entry of the boot memory map, whatever its type (kmem_is_device_range). */
static struct phys_range map_ranges[MAX_RANGES];
static size_t map_count;
static int map_truncated;

#define PLATFORM_BASE 0xfec00000ull /* I/O APIC, HPET, local APIC */
#define PLATFORM_END  0xff000000ull

static int overlaps(uint64_t base, uint64_t end, uint64_t b, uint64_t e)
{
    return base < e && b < end;
}

int kmem_is_device_range(uint64_t base, uint64_t size)
{
    uint64_t end = base + size;
    if (size == 0 || end < base || map_truncated)
        return 0;
    if (overlaps(base, end, 0, 0x100000) || overlaps(base, end, PLATFORM_BASE, PLATFORM_END))
        return 0;
    for (size_t i = 0; i < map_count; i++)
        if (overlaps(base, end, map_ranges[i].base, map_ranges[i].end))
            return 0;
    return 1;
}

void kmem_init(const struct mb2_info *mb, uint64_t info_pa, uint64_t info_size)
{
    struct phys_range avail[MAX_RANGES], holes[MAX_RANGES + MB2_MAX_MODULES + 4];
    size_t na = 0, nh = 0;

    kprintf("kernel: memory map (%u entries):\n", mb->mmap_count);
    for (uint32_t i = 0; i < mb->mmap_count; i++) {
        const struct mb2_mmap_entry *e = mb2_mmap_at(mb, i);
        uint64_t end = e->base + e->length;
        if (end < e->base)
            end = UINT64_MAX; /* a length that wraps: clamp, the allocator trims */
        kprintf("  [%016lx - %016lx) %8lu KiB  %s\n", e->base, end, e->length >> 10,
                mem_type(e->type));
        if (map_count < MAX_RANGES)
            map_ranges[map_count++] = (struct phys_range){e->base, end};
        else
            map_truncated = 1; /* then nothing counts as a device range */
        if (e->type == MB2_MEM_AVAILABLE) {
            if (na < MAX_RANGES)
                avail[na++] = (struct phys_range){e->base, end};
            if (end > kmem_phys_max)
                kmem_phys_max = end;
        } else if (nh < MAX_RANGES) {
            holes[nh++] = (struct phys_range){e->base, end};
        }
    }
    /* Low 1 MiB: real-mode IVT, BIOS data, EBDA, VGA. Never ours. */
    holes[nh++] = (struct phys_range){0, 0x100000};
    holes[nh++] = (struct phys_range){(uint64_t)__kernel_phys_start, (uint64_t)__kernel_phys_end};
    holes[nh++] = (struct phys_range){info_pa, info_pa + info_size};
    for (uint32_t i = 0; i < mb->module_count; i++)
        holes[nh++] = (struct phys_range){mb->modules[i].start, mb->modules[i].end};

    int n = frame_usable_ranges(avail, na, holes, nh, usable, MAX_RANGES);
    if (n < 0)
        panic("no usable memory in the boot memory map (error %d)", n);

    /* Carve the user pool from the top of the largest range, leaving the
     * kernel KERNEL_RESERVE (or half of everything on a small machine). */
    uint64_t total = 0;
    int big = 0;
    for (int i = 0; i < n; i++) {
        total += usable[i].end - usable[i].base;
        if (usable[i].end - usable[i].base > usable[big].end - usable[big].base)
            big = i;
    }
    uint64_t keep = total / 2 < KERNEL_RESERVE ? total / 2 : KERNEL_RESERVE;
    uint64_t pool = total - keep;
    if (pool > usable[big].end - usable[big].base - FRAME_SIZE)
        pool = (usable[big].end - usable[big].base) / 2;
    pool &= ~(FRAME_SIZE - 1);
    kmem_pool_end = usable[big].end;
    kmem_pool_base = kmem_pool_end - pool;
    /* Two 32-bit words (owner, page) per pool frame, plus a page of header. */
    kmem_pool_state = (pool / FRAME_SIZE * 8 + FRAME_SIZE - 1) / FRAME_SIZE + 1;
    holes[nh++] = (struct phys_range){kmem_pool_base, kmem_pool_end};
    n = frame_usable_ranges(avail, na, holes, nh, usable, MAX_RANGES);
    if (n < 0)
        panic("no memory left for the kernel after the user pool (error %d)", n);

    /* The bitmap takes frames from the first range that can hold it; that
     * range must be inside the boot map (first GiB) until vm_init. */
    size_t words = frame_bitmap_words(usable, (size_t)n);
    uint64_t bytes = (words * 8 + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
    for (int i = 0; i < n && !bitmap_pa; i++)
        if (usable[i].end - usable[i].base > bytes && usable[i].base + bytes <= (1ull << 30))
            bitmap_pa = usable[i].base;
    if (!bitmap_pa)
        panic("no room below 1 GiB for the frame bitmap (%lu bytes)", bytes);
    frame_init(&kmem_frames, usable, (size_t)n, (uint64_t *)(KERNEL_VBASE + bitmap_pa), words);
    for (uint64_t pa = bitmap_pa; pa < bitmap_pa + bytes; pa += FRAME_SIZE)
        if (frame_take(&kmem_frames, pa) < 0)
            panic("bitmap frame %lx not free", pa);

    kprintf("kernel: %d usable ranges, %lu frames (%lu MiB) free for the kernel, bitmap %lu KiB\n",
            n, kmem_frames.free, kmem_frames.free >> 8, bytes >> 10);
    kprintf("kernel: user pool [%lx - %lx) %lu MiB for the memory server\n", kmem_pool_base,
            kmem_pool_end, (kmem_pool_end - kmem_pool_base) >> 20);
}

void kmem_after_vm(void)
{
    kmem_frames.bitmap = phys_to_virt(bitmap_pa);
}

uint64_t kmem_frame_alloc(void)
{
    return frame_alloc(&kmem_frames);
}

void kmem_frame_free(uint64_t pa)
{
    int rc = frame_free(&kmem_frames, pa);
    if (rc < 0)
        panic("freeing frame %lx: error %d (double free or foreign frame)", pa, rc);
}

uint64_t kmem_frame_alloc_for(struct quota *q)
{
    if (q && quota_charge(q, Q_FRAMES, 1) < 0)
        return FRAME_NONE;
    uint64_t pa = kmem_frame_alloc();
    if (pa == FRAME_NONE && q)
        quota_uncharge(q, Q_FRAMES, 1);
    return pa;
}

void kmem_frame_free_for(struct quota *q, uint64_t pa)
{
    kmem_frame_free(pa);
    if (q)
        quota_uncharge(q, Q_FRAMES, 1);
}
