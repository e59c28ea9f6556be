/*
 * Start-up of a C-library program: arguments from the module line, the
 * constructors, then exit(main(argc, argv)). On the module line, what
 * follows a lone "--" is the program's: `lua.test test -- -e "print(1)"`
 * gives argv = {"lua.test", "-e", "print(1)"}; before it are the boot
 * server's keys (docs/writing-a-server.md).
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

void granite_libc_start(void)
{
    granite_time_start();
    own_name();
    argv[0] = name;
    int argc = 1;
    if (kc_args(args, sizeof(args)) > 0) {
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
