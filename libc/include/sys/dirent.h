/*
 * Directory entries on Granite (newlib leaves <sys/dirent.h> to the
 * system). Directories are read through the file-system hook, granite/fs.h.
 */
#ifndef _SYS_DIRENT_H
#define _SYS_DIRENT_H

#include <sys/types.h>

#define DT_UNKNOWN 0
#define DT_DIR     4
#define DT_REG     8

struct dirent {
    ino_t d_ino;
    unsigned char d_type;
    char d_name[768]; /* a FAT long name in UTF-8: 255 UTF-16 units and a NUL */
};

typedef struct {
    int dd_fd; /* the hook's directory handle */
    struct dirent dd_ent;
} DIR;

#endif
