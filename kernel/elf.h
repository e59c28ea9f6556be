/*
 * ELF64 executable validator: decides whether a boot module may become a
 * process, and describes its loadable segments. Pure logic, also compiled
 * into the host tests; nothing is read outside [img, img + size).
 */
#ifndef ELF_H
#define ELF_H

#include <stdint.h>

#define ELF_MAX_PHDRS   16
#define ELF_MAX_SEGS    8
#define ELF_MAX_MEMSIZE (64ull << 20) /* sum of segment sizes */

/* clang-format off */
#define ELF_PF_X 1
#define ELF_PF_W 2
#define ELF_PF_R 4
/* clang-format on */

struct elf_segment {
    uint64_t vaddr, memsz;   /* [vaddr, vaddr + memsz) in the process */
    uint64_t offset, filesz; /* bytes taken from the file; the rest is zero */
    uint32_t flags;          /* ELF_PF_* */
};

struct elf_image {
    uint64_t entry;
    uint32_t nsegs;
    struct elf_segment segs[ELF_MAX_SEGS];
};

/*
 * Check that [img, img + size) is a static x86_64 executable whose loadable
 * segments lie inside [lo, hi), do not overlap, are not both writable and
 * executable, and whose entry point is in executable code. Returns 0 and
 * fills *out, or -E_BADELF with *why naming the first problem found.
 */
int elf_validate(const void *img, uint64_t size, uint64_t lo, uint64_t hi, struct elf_image *out,
                 const char **why);

#endif
