/*
 * console.no_interleaving: several copies of this program print long lines
 * at full speed at the same time (the letter comes from the module line:
 * "letter=X"). The console writes each request whole, so the test rejects
 * any serial line that mixes two letters.
 */
#include <common/string.h>
#include <ipc/kcall.h>
#include <ipc/stdio.h>

#define LINES 200

int main(void)
{
    char args[64], run[101];
    kc_args(args, sizeof(args));
    const char *l = strstr(args, "letter=");
    char letter = l ? l[7] : 'X';
    memset(run, letter, sizeof(run) - 1);
    run[sizeof(run) - 1] = '\0';
    for (int i = 0; i < LINES; i++)
        printf("interleave %c %03d %s\n", letter, i, run); /* > 48 bytes: through a grant */
    return 0;
}
