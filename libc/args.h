/*
 * Splitting a module line into argv (libc/start.c), and the shell's
 * command lines into a program's arguments by the same rules; pure, so the
 * host tests and a fuzzer check it.
 */
#ifndef LIBC_ARGS_H
#define LIBC_ARGS_H

/* Split s in place into words: spaces separate them, "double quotes" group
 * words, a backslash takes the next character as it is (GRUB writes a
 * module line's quotes and backslashes that way). Stores at most max word
 * pointers into out, all inside s; returns how many it stored. */
int args_split(char *s, char **out, int max);

#endif
