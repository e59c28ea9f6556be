/*
 * libFuzzer target for the ELF64 validator (kernel/elf.c): any byte string is
 * a boot module; whatever elf_validate accepts is re-checked here from the
 * raw headers against the rules the loader relies on.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <abi/errno.h>
#include <abi/layout.h>

#include "elf.h"
#include "fuzz_copy.h"

#define LO USER_IMAGE_MIN
#define HI USER_IMAGE_MAX

/* Offsets into the ELF64 header and program header, from the spec rather
 * than from elf.c's structs, so a layout mistake there would show up. */
#define EH_TYPE      16
#define EH_MACHINE   18
#define EH_ENTRY     24
#define EH_PHOFF     32
#define EH_PHENTSIZE 54
#define EH_PHNUM     56
#define PH_SIZE      56
#define PT_LOAD      1
#define PT_DYNAMIC   2
#define PT_INTERP    3

typedef unsigned __int128 u128;

static uint64_t rd(const uint8_t *p, size_t off, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[off + (size_t)i];
    return v;
}

static uint64_t page_down(uint64_t v)
{
    return v & ~(USER_PAGE_SIZE - 1);
}

static u128 page_up(u128 v)
{
    return (v + USER_PAGE_SIZE - 1) & ~(u128)(USER_PAGE_SIZE - 1);
}

static void check_image(const uint8_t *img, size_t size, const struct elf_image *im)
{
    if (size < 64 || rd(img, 0, 4) != 0x464c457f || rd(img, EH_TYPE, 2) != 2 ||
        rd(img, EH_MACHINE, 2) != 62 || rd(img, EH_PHENTSIZE, 2) != PH_SIZE)
        abort();
    uint64_t phoff = rd(img, EH_PHOFF, 8), phnum = rd(img, EH_PHNUM, 2);
    if (phnum == 0 || (u128)phoff + phnum * PH_SIZE > size)
        abort();
    if (im->nsegs == 0 || im->nsegs > ELF_MAX_SEGS)
        abort();

    /* The segments reported are exactly the non-empty PT_LOADs, in order, and
     * nothing asks for a dynamic loader the kernel does not have. */
    uint32_t n = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + i * PH_SIZE;
        uint32_t type = (uint32_t)rd(ph, 0, 4);
        if (type == PT_DYNAMIC || type == PT_INTERP)
            abort();
        if (type != PT_LOAD || rd(ph, 40, 8) == 0)
            continue;
        if (n >= im->nsegs)
            abort();
        const struct elf_segment *s = &im->segs[n++];
        if (s->flags != rd(ph, 4, 4) || s->offset != rd(ph, 8, 8) || s->vaddr != rd(ph, 16, 8) ||
            s->filesz != rd(ph, 32, 8) || s->memsz != rd(ph, 40, 8))
            abort();
    }
    if (n != im->nsegs)
        abort();

    u128 total = 0;
    volatile uint8_t sink = 0;
    for (uint32_t i = 0; i < im->nsegs; i++) {
        const struct elf_segment *s = &im->segs[i];
        if (s->memsz == 0 || s->filesz > s->memsz)
            abort();
        if (s->vaddr < LO || (u128)s->vaddr + s->memsz > HI)
            abort();
        if ((u128)s->offset + s->filesz > size)
            abort();
        if ((s->flags & ELF_PF_W) && (s->flags & ELF_PF_X))
            abort();
        total += s->memsz;
        /* The loader copies these bytes: read them all so ASan checks it. */
        for (uint64_t k = 0; k < s->filesz; k += 251)
            sink ^= img[s->offset + k];
        if (s->filesz)
            sink ^= img[s->offset + s->filesz - 1];
        /* Pages are mapped with one segment's rights: no page is shared. */
        for (uint32_t j = 0; j < i; j++) {
            const struct elf_segment *o = &im->segs[j];
            if (page_down(s->vaddr) < page_up((u128)o->vaddr + o->memsz) &&
                page_down(o->vaddr) < page_up((u128)s->vaddr + s->memsz))
                abort();
        }
    }
    (void)sink;
    if (total > ELF_MAX_MEMSIZE)
        abort();

    uint64_t entry = rd(img, EH_ENTRY, 8);
    if (im->entry != entry)
        abort();
    for (uint32_t i = 0; i < im->nsegs; i++) {
        const struct elf_segment *s = &im->segs[i];
        if ((s->flags & ELF_PF_X) && entry >= s->vaddr && entry - s->vaddr < s->memsz)
            return;
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = fuzz_copy(data, size);

    struct elf_image im;
    const char *why = NULL;
    int rc = elf_validate(copy, size, LO, HI, &im, &why);
    if (why == NULL)
        abort();
    if (rc == 0)
        check_image(copy, size, &im);
    else if (rc != -E_BADELF || strlen(why) == 0)
        abort();

    free(copy);
    return 0;
}
