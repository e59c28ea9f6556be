/*
 * ELF64 validation (see elf.h). Headers are copied out with memcpy before
 * use, so a misaligned or short image never causes a wild or unaligned read;
 * every addition that could wrap is checked first.
 */
#include "elf.h"

#include <abi/errno.h>
#include <common/string.h>

struct ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
_Static_assert(sizeof(struct ehdr) == 64, "ELF64 header");

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
_Static_assert(sizeof(struct phdr) == 56, "ELF64 program header");

/* clang-format off */
#define PT_LOAD    1
#define PT_DYNAMIC 2
#define PT_INTERP  3
#define ET_EXEC    2
#define EM_X86_64  62
/* clang-format on */

static int fail(const char **why, const char *msg)
{
    *why = msg;
    return -E_BADELF;
}

static uint64_t page_down(uint64_t v)
{
    return v & ~0xfffull;
}

/* Precondition: v <= hi, hi well below UINT64_MAX - 4095. */
static uint64_t page_up(uint64_t v)
{
    return (v + 0xfff) & ~0xfffull;
}

static int check_header(const struct ehdr *h, uint64_t size, const char **why)
{
    static const uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
    if (memcmp(h->ident, magic, 4) != 0)
        return fail(why, "not an ELF file (bad magic)");
    if (h->ident[4] != 2)
        return fail(why, "not a 64-bit ELF file");
    if (h->ident[5] != 1)
        return fail(why, "not little-endian");
    if (h->ident[6] != 1 || h->version != 1)
        return fail(why, "unknown ELF version");
    if (h->type != ET_EXEC)
        return fail(why, "not an executable (ET_EXEC); shared objects and PIEs are refused");
    if (h->machine != EM_X86_64)
        return fail(why, "not an x86_64 executable");
    if (h->ehsize != sizeof(struct ehdr))
        return fail(why, "bad ELF header size");
    if (h->phentsize != sizeof(struct phdr))
        return fail(why, "bad program header entry size");
    if (h->phnum == 0 || h->phnum > ELF_MAX_PHDRS)
        return fail(why, "no program headers, or too many");
    if (h->phoff > size || (uint64_t)h->phnum * sizeof(struct phdr) > size - h->phoff)
        return fail(why, "program headers lie outside the file");
    return 0;
}

static int check_segment(const struct phdr *p, uint64_t size, uint64_t lo, uint64_t hi,
                         const char **why)
{
    if (p->filesz > p->memsz)
        return fail(why, "segment has more file bytes than memory bytes");
    if (p->offset > size || p->filesz > size - p->offset)
        return fail(why, "segment data lies outside the file");
    if (p->vaddr < lo || p->vaddr > hi || p->memsz > hi - p->vaddr)
        return fail(why, "segment outside the user image window");
    if (p->align > 1 && (p->align & (p->align - 1)) != 0)
        return fail(why, "segment alignment is not a power of two");
    if ((p->flags & ELF_PF_W) && (p->flags & ELF_PF_X))
        return fail(why, "segment is both writable and executable");
    return 0;
}

int elf_validate(const void *img, uint64_t size, uint64_t lo, uint64_t hi, struct elf_image *out,
                 const char **why)
{
    struct ehdr h;
    *out = (struct elf_image){0};
    *why = "ok";
    if (!img || size < sizeof(h))
        return fail(why, "file smaller than an ELF header");
    memcpy(&h, img, sizeof(h));
    int rc = check_header(&h, size, why);
    if (rc < 0)
        return rc;

    uint64_t total = 0;
    for (uint16_t i = 0; i < h.phnum; i++) {
        struct phdr p;
        memcpy(&p, (const uint8_t *)img + h.phoff + (uint64_t)i * sizeof(p), sizeof(p));
        if (p.type == PT_INTERP || p.type == PT_DYNAMIC)
            return fail(why, "dynamically linked (only static executables run)");
        if (p.type != PT_LOAD || p.memsz == 0)
            continue; /* notes, GNU_STACK and empty segments need nothing */
        rc = check_segment(&p, size, lo, hi, why);
        if (rc < 0)
            return rc;
        if (out->nsegs == ELF_MAX_SEGS)
            return fail(why, "too many loadable segments");
        if (p.memsz > ELF_MAX_MEMSIZE - total)
            return fail(why, "image too large");
        total += p.memsz;
        /* Pages are the unit of mapping: two segments may not share one. */
        uint64_t b = page_down(p.vaddr), e = page_up(p.vaddr + p.memsz);
        for (uint32_t j = 0; j < out->nsegs; j++) {
            const struct elf_segment *o = &out->segs[j];
            if (b < page_up(o->vaddr + o->memsz) && page_down(o->vaddr) < e)
                return fail(why, "loadable segments overlap");
        }
        out->segs[out->nsegs++] =
            (struct elf_segment){p.vaddr, p.memsz, p.offset, p.filesz, p.flags};
    }
    if (out->nsegs == 0)
        return fail(why, "no loadable segment");
    for (uint32_t j = 0; j < out->nsegs; j++) {
        const struct elf_segment *s = &out->segs[j];
        if ((s->flags & ELF_PF_X) && h.entry >= s->vaddr && h.entry - s->vaddr < s->memsz) {
            out->entry = h.entry;
            return 0;
        }
    }
    return fail(why, "entry point is not inside an executable segment");
}
