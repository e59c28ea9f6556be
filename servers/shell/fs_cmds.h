/*
 * The shell's file commands (fs_cmds.c): each takes the rest of the
 * command line and returns 0 on success.
 */
#ifndef SHELL_FS_CMDS_H
#define SHELL_FS_CMDS_H

int cmd_ls(const char *args);
int cmd_cat(const char *args);
int cmd_write(const char *args);
int cmd_rm(const char *args);
int cmd_mkdir(const char *args);
int cmd_mv(const char *args);
int cmd_df(const char *args);
/* Make the disk clean before the machine stops (no-op without a server). */
void fs_cmds_sync(void);

#endif
