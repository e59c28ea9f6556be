/*
 * Benchmark kernel only: the bare in-kernel copy that grant copies are
 * compared with: the same memcpy (8-byte moves) page by page through the
 * physmap, without checks or page walks. The frames are fresh from the
 * allocator: under QEMU TCG, writes to pages where boot-time code once ran
 * (the kernel image's own .bss among them) stay ~14x slower, which would
 * flatter the grant copy.
 */
#include <common/string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/vm.h"
#include "kcall.h"
#include "klog.h"
#include "kmem.h"

#define MAX_PAGES 256 /* 1 MiB */
#define BATCHES   101

static uint64_t src[MAX_PAGES], dst[MAX_PAGES];
static uint32_t samples[BATCHES];

static void sort(uint32_t *a, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            uint32_t t = a[j];
            a[j] = a[j - 1];
            a[j - 1] = t;
        }
}

static void copy(uint64_t len)
{
    for (uint64_t p = 0; p * 4096 < len; p++) {
        uint64_t chunk = len - p * 4096 < 4096 ? len - p * 4096 : 4096;
        memcpy(phys_to_virt(dst[p]), phys_to_virt(src[p]), chunk);
    }
}

void kbench_copies(void)
{
    static const uint32_t sizes[] = {64, 4096, 65536, MAX_PAGES * 4096};
    static const char *const names[] = {"64B", "4KiB", "64KiB", "1MiB"};
    for (int i = 0; i < MAX_PAGES; i++) {
        src[i] = kmem_frame_alloc();
        dst[i] = kmem_frame_alloc();
        if (src[i] == FRAME_NONE || dst[i] == FRAME_NONE)
            panic("benchmark kernel: no frames for the copy baseline");
        memset(phys_to_virt(src[i]), 0x5a, 4096);
    }
    kprintf("BENCH-INFO tsc_khz=%lu\n", tsc_khz);
    for (int s = 0; s < 4; s++) {
        uint32_t per = sizes[s] >= 65536 ? (sizes[s] == MAX_PAGES * 4096 ? 1 : 4) : 64;
        for (int b = -10; b < BATCHES; b++) { /* 10 warm-up batches */
            uint64_t t0 = rdtsc_fenced();
            for (uint32_t i = 0; i < per; i++)
                copy(sizes[s]);
            uint64_t t = (rdtsc_fenced() - t0) / per;
            if (b >= 0)
                samples[b] = (uint32_t)t;
        }
        sort(samples, BATCHES);
        kprintf("BENCH kernel.copy_%s cycles_median=%u cycles_min=%u batches=%d per_batch=%u "
                "kind=copy\n",
                names[s], samples[BATCHES / 2], samples[0], BATCHES, per);
    }
    for (int i = 0; i < MAX_PAGES; i++) {
        kmem_frame_free(src[i]);
        kmem_frame_free(dst[i]);
    }
}
