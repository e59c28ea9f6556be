/*
 * hostile.noisy_neighbour: one unprivileged process (noisy, the isolation
 * agent's ISO_NOISE) hammers every interface it can reach for three
 * seconds, from as many threads as its budget allows, while a well-behaved
 * client (noisy.client) keeps starting threads and asking the console, the
 * memory server, the name service and hello: every one of its requests
 * must succeed. Afterwards every kernel frame, process, thread and pool
 * page the noisy one held is back, its names are gone, and the servers
 * are the same processes with the same handle tables. Pass or fail never
 * depends on how fast anything ran; only the figures printed do.
 */
#include <common/string.h>
#include <ipc/kcall.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "iso_control.h"
#include "iso_proto.h"

#define NOISE_TICKS 300 /* three seconds */
#define BATCH       20  /* client rounds between looks at the noisy one */

static struct agent noisy = {.module = "noisy"}, client = {.module = "noisy.client"};

static const char *const servers[] = {"boot", "console", "mem", "hello"};
#define NSERVERS 4

int main(void)
{
    if (name_lookup_wait("hello", 500) < 0 || name_lookup_wait("mem", 500) < 0 ||
        name_lookup_wait("console", 500) < 0) {
        printf("noisy: the server set did not come up\n");
        return 1;
    }
    uint32_t pids[NSERVERS];
    long handles[NSERVERS];
    for (int i = 0; i < NSERVERS; i++) {
        pids[i] = pid_of(servers[i]);
        handles[i] = handles_of(pids[i]);
    }
    uint64_t before[4], after[4], t0 = 0, t1 = 0;
    system_snapshot(before);
    const struct kc_budget budget = {400, 16, 1};
    long rc = agent_start(&client, 8, 0);
    if (rc == 0)
        rc = agent_start(&noisy, 8, &budget);
    if (rc < 0) {
        printf("noisy: cannot start the agents: %s\n", ipc_strerror(rc));
        return 1;
    }

    kc_time(&t0, 0, 0, 0, 0);
    agent_order(&noisy, ISO_NOISE, NOISE_TICKS, 0, 0, 0);
    uint64_t rounds = 0, batches = 0;
    long first_error = 0, step = 0;
    int done = 0;
    while (!done) {
        done = agent_poll(&noisy); /* one more batch after the noise ends */
        agent_run(&client, ISO_WORK, BATCH, 0, 0);
        rounds += client.r[1] <= BATCH ? client.r[1] : 0;
        batches++;
        if (client.r[1] != BATCH && !first_error) {
            first_error = (long)client.r[2];
            step = (long)client.r[3];
        }
    }
    kc_time(&t1, 0, 0, 0, 0);
    /* Its own noise must not kill it: a death here (a fault in its own
     * bookkeeping, say) would hide what the other checks look for. */
    check("noisy.alive_after_its_noise", noisy.badge != 0, 0);
    char d[256];
    snprintf(d, sizeof(d),
             "%lu of %lu rounds in %lu batches over %lu ticks; first error %s at step %ld", rounds,
             batches * BATCH, batches, t1 - t0, ipc_strerror(first_error), step);
    check("noisy.client_served_throughout", rounds == batches * BATCH && batches >= 2, d);
    snprintf(d, sizeof(d),
             "%lu requests from %lu threads: %lu refused with an error, %lu accepted, %lu answers "
             "outside the ABI",
             noisy.r[1], noisy.r[5], noisy.r[2], noisy.r[3], noisy.r[4]);
    check("noisy.every_answer_defined", noisy.r[1] > 0 && noisy.r[2] > 0 && noisy.r[4] == 0, d);
    printf("noisy: %s\n", d);

    agent_end(&noisy);
    agent_end(&client);
    check("noisy.names_freed_when_it_dies", name_lookup("noise.0") == -E_NOENT, 0);
    int same = 1;
    char *p = d;
    for (int i = 0; i < NSERVERS; i++) {
        uint32_t pid = pid_of(servers[i]);
        long h = handles_of(pid);
        same = same && pid == pids[i] && h == handles[i];
        p += snprintf(p, (size_t)(d + sizeof(d) - p), "%s%s: pid %x -> %x, handles %ld -> %ld",
                      i ? "; " : "", servers[i], pids[i], pid, handles[i], h);
    }
    check("noisy.servers_unharmed", same, d);
    int back = system_back_to(before, after);
    snprintf(d, sizeof(d),
             "before/after: free kernel frames %lu/%lu, processes %lu/%lu, threads %lu/%lu, free "
             "pool pages %lu/%lu",
             before[0], after[0], before[1], after[1], before[2], after[2], before[3], after[3]);
    check("noisy.everything_back_after_it_dies", back, d);
    printf("noisy: %d checks failed\n", check_failures);
    return check_failures;
}
