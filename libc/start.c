/*
 * Start-up of a C-library program: arguments, the constructors, then
 * exit(main(argc, argv)). A program started with an argument block
 * (KC_SPAWN_ARGV: the shell's `lua -e CHUNK`) takes its NUL-terminated
 * words as argv[1..]; otherwise what follows a lone "--" on its module
 * line is the program's: `lua.test test -- -e "print(1)"` gives argv =
 * {"lua.test", "-e", "print(1)"}; before it are the boot server's keys
 * (docs/writing-a-server.md).
 */
#include <abi/kcall.h>
#include <ipc/kcall.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define ARGV_MAX 64

int main(int argc, char **argv, char **envp);
void granite_time_start(void);
void __libc_init_array(void);
void __libc_fini_array(void);
extern char **environ;

/* newlib is configured with HAVE_INIT_FINI: it runs _init before the
 * .init_array constructors and _fini after the destructors. Granite has
 * no .init/.fini sections, so there is nothing to run. */
void _init(void) {}

void _fini(void) {}

static char args[KC_ARGS_MAX];
static char name[KC_NAME_MAX + 1];
static char *argv[ARGV_MAX + 1];

static void own_name(void)
{
    uint32_t pid = 0;
    struct kc_proc_info p;
    kc_self(&pid, 0, 0, 0);
    for (uint32_t slot = 0; kc_proc_info(slot, &p) != -E_RANGE; slot++)
        if (p.pid == pid) {
            memcpy(name, p.name, KC_NAME_MAX);
            return;
        }
}

/* argv[1..] from the words of an argument block (the last one may lack
 * its NUL: the block is copied so that it ends in one). */
static int block_words(const char *block, size_t len)
{
    if (len > sizeof(args) - 1)
        len = sizeof(args) - 1;
    memcpy(args, block, len);
    args[len] = '\0';
    int argc = 1;
    for (size_t i = 0; i < len && argc < ARGV_MAX; i += strlen(args + i) + 1)
        argv[argc++] = args + i;
    return argc;
}

void granite_libc_start(const char *block, size_t len)
{
    granite_time_start();
    own_name();
    argv[0] = name;
    int argc = 1;
    if (block) {
        argc = block_words(block, len);
    } else if (kc_args(args, sizeof(args)) > 0) {
        char *words[ARGV_MAX];
        int n = args_split(args, words, ARGV_MAX);
        int i = 0;
        while (i < n && strcmp(words[i], "--") != 0)
            i++;
        for (i++; i < n && argc < ARGV_MAX; i++)
            argv[argc++] = words[i];
    }
    argv[argc] = 0;
    atexit(__libc_fini_array);
    __libc_init_array();
    exit(main(argc, argv, environ));
}
