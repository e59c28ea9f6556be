/*
 * hostile.sleeper: the smallest process there is, for spawning until the
 * kernel refuses.
 */
#include <ipc/kcall.h>

int main(void)
{
    for (;;)
        kc_sleep(100000);
}
