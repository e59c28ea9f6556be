/*
 * The user half of every address space. The kernel enforces these bounds:
 * ELF segments must fit the image window, the memory server maps only
 * inside the heap window, granted pages are mapped only inside the map
 * window (SYS_GRANT_MAP), drivers map device memory only inside the
 * device window, and the top page of the user half is never
 * mapped (see docs/abi.md on SYSRET).
 */
#ifndef ABI_LAYOUT_H
#define ABI_LAYOUT_H

/* clang-format off */
#define USER_PAGE_SIZE     0x1000ull
#define USER_IMAGE_MIN     0x0000000000400000ull /* programs link at 4 MiB */
#define USER_IMAGE_MAX     0x0000000040000000ull /* ... and end below 1 GiB */
#define USER_HEAP_MIN      0x0000000100000000ull /* memory-server mappings */
#define USER_HEAP_MAX      0x0000010000000000ull
#define USER_MAP_MIN       0x0000100000000000ull /* grant-map window: SYS_GRANT_MAP */
#define USER_MAP_MAX       0x0000200000000000ull
#define USER_DEVICE_MIN    0x0000010000000000ull /* device memory (KC_MMIO_MAP) */
#define USER_DEVICE_MAX    0x0000010100000000ull
#define USER_STACK_TOP     0x00007fff00000000ull /* main thread's stack top */
#define USER_STACK_SIZE    0x10000ull            /* 64 KiB per thread */
#define USER_STACK_STRIDE  (USER_STACK_SIZE + USER_PAGE_SIZE) /* + guard page */
#define USER_TOP           0x00007ffffffff000ull /* first address never mapped */
/* clang-format on */

#endif
