/*
 * Start-up of a freestanding program: run main() and end the process with
 * its result (C-library programs start in libc/start.c instead).
 */
#include <ipc/kcall.h>
#include <ipc/stdio.h>

int main(void);

void libipc_start(void)
{
    int status = main();
    stdio_flush();
    kc_exit(status);
}
