/*
 * The shell: a prompt on the console. Commands look at the system (ps,
 * mem, stats), exercise it (echo, demo, bench) and poke it (kill). Started
 * with "script" on its grub.cfg line it runs the commands it reads until
 * the end of input, then powers the machine off with their verdict.
 */
#include <abi/proto/name.h>
#include <common/string.h>
#include <ipc/console.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/mem.h>
#include <ipc/name.h>
#include <ipc/stdio.h>

#include "../../libc/args.h"
#include "../hello/hello.h"
#include "fs_cmds.h"

typedef int (*command_fn)(const char *args);

static int cmd_help(const char *args);

static const char *skip(const char *s)
{
    while (*s == ' ')
        s++;
    return s;
}

/* ps -t: every thread, from KC_THREAD_INFO. */
static int ps_threads(void)
{
    printf("  TID    PID    PRIO  CPU  STATE\n");
    int n = 0;
    for (uint32_t slot = 0;; slot++) {
        uint32_t tid, pid, prio, cpu;
        char state[16];
        long rc = kc_thread_info(slot, &tid, &pid, &prio, state, &cpu);
        if (rc == -E_RANGE)
            break;
        if (rc < 0)
            continue;
        printf("  %-6x %-6x %-5u %-4u %s\n", tid, pid, prio, cpu, state);
        n++;
    }
    printf("  %d threads\n", n);
    return 0;
}

static int cmd_ps(const char *args)
{
    if (strcmp(args, "-t") == 0)
        return ps_threads();
    if (*args) {
        printf("usage: ps [-t]\n");
        return 1;
    }
    struct kc_proc_info p;
    printf("  PID    PARENT  THREADS  STATE            KFRAMES/BUDGET  MAPPED  HANDLES  NAME\n");
    int n = 0;
    for (uint32_t slot = 0;; slot++) {
        long rc = kc_proc_info(slot, &p);
        if (rc == -E_RANGE)
            break;
        if (rc < 0)
            continue;
        printf("  %-6x %-7x %-8u %-16s %6lu/%-8lu %-7lu %-8u %s\n", p.pid, p.parent_pid, p.threads,
               p.state, p.kernel_pages, p.kernel_limit, p.mapped_pages, p.handles, p.name);
        n++;
    }
    printf("  %d processes\n", n);
    return 0;
}

static int cmd_mem(const char *args)
{
    (void)args;
    struct mem_stats st;
    long rc = mem_stats(&st);
    if (rc < 0) {
        printf("mem: memory server unavailable: %s\n", ipc_strerror(rc));
        return 1;
    }
    printf("  user pool: %lu pages (%lu MiB), %lu free (%lu MiB), %lu in use\n", st.pool_pages,
           st.pool_pages >> 8, st.free_pages, st.free_pages >> 8, st.pool_pages - st.free_pages);
    printf("  %lu processes hold pages; %lu allocations served; this shell holds %lu\n",
           st.processes, st.allocations, st.my_pages);
    return 0;
}

static int cmd_echo(const char *args)
{
    size_t len = strlen(args);
    char line[300];
    int n = snprintf(line, sizeof(line), "%s\n", args);
    long rc = console_write(line, (size_t)n);
    if (rc < 0)
        return 1;
    if (len + 1 > IPC_INLINE_MAX)
        printf("  (%zu bytes: sent to the console through a grant)\n", len + 1);
    return 0;
}

static int cmd_stats(const char *args)
{
    (void)args;
    uint64_t k[7];
    kc_stats(k);
    struct ipc_msg m = ipc_msg_make(BOOT_STATS, 1);
    long rc = ipc_call_status(HANDLE_NAMES, &m);
    printf("  kernel: %lu fast-path calls, %lu fast-path reply_recvs, %lu slow-path syscalls, "
           "%lu address-space switches\n",
           k[0], k[1], k[2], k[3]);
    printf("  kernel: %lu processes, %lu threads, %lu free kernel frames\n", k[5], k[6], k[4]);
    if (rc >= 0)
        printf("  boot server: %lu restarts, %lu deaths, %lu faults\n", m.w[1], m.w[2], m.w[3]);
    return 0;
}

static int cmd_kill(const char *args)
{
    struct ipc_msg m = ipc_msg_make(BOOT_KILL, 4);
    name_pack(&m, args);
    long rc = ipc_call_status(HANDLE_NAMES, &m);
    printf("kill %s: %s\n", args,
           rc < 0 ? ipc_strerror(rc) : "killed (restartable servers come back)");
    return rc < 0;
}

static int cmd_bench(const char *args)
{
    (void)args;
    struct ipc_msg m = ipc_msg_make(BOOT_SPAWN, 4);
    name_pack(&m, "bench");
    long rc = ipc_call_status(HANDLE_NAMES, &m);
    if (rc < 0) {
        printf("bench: cannot start the benchmark: %s%s\n", ipc_strerror(rc),
               rc == -E_NOENT ? " (this image has no bench module; use ./granite bench)" : "");
        return 1;
    }
    while (kc_process_running("bench"))
        kc_sleep(10);
    return 0;
}

/* ---- demo: every service, end to end ---------------------------------- */

static int steps, bad;

static void step(const char *what, int ok)
{
    steps++;
    bad += !ok;
    printf("demo: %-58s %s\n", what, ok ? "ok" : "FAILED");
}

static void demo_console(void)
{
    step("console: a short line, inline in the message", console_write("demo: hello\n", 12) == 12);
    char line[201];
    memset(line, '=', 199);
    line[199] = '\n';
    line[200] = '\0';
    step("console: a 200-byte line, through a grant", console_write(line, 200) == 200);
}

static void demo_names(void)
{
    step("names: \"console\" is registered", name_lookup("console") >= 0);
    step("names: \"mem\" is registered", name_lookup("mem") >= 0);
    step("names: an unknown name is -E_NOENT", name_lookup("no-such-thing") == -E_NOENT);
}

static void demo_memory(void)
{
    struct mem_stats before, during, after;
    long rc = mem_stats(&before);
    step("memory: the memory server answers", rc >= 0);
    if (rc < 0)
        return;
    /* Many small blocks, each filled and checked. */
    enum { N = 200 };
    static uint64_t *blocks[N];
    int ok = 1;
    for (int i = 0; ok && i < N; i++) {
        blocks[i] = malloc(64 + (size_t)i * 8);
        ok = blocks[i] != 0;
        for (int w = 0; ok && w < 8; w++)
            blocks[i][w] = (uint64_t)i * 1000 + (uint64_t)w;
    }
    for (int i = 0; ok && i < N; i++)
        for (int w = 0; w < 8; w++)
            ok = ok && blocks[i][w] == (uint64_t)i * 1000 + (uint64_t)w;
    step("memory: malloc of 200 small blocks, data intact", ok);
    for (int i = 0; i < N; i++)
        free(blocks[i]);

    /* A large block has pages of its own, which free() gives back. */
    mem_stats(&before);
    uint8_t *big = malloc(256 << 10);
    for (size_t i = 0; big && i < (256u << 10); i += 4096)
        big[i] = (uint8_t)(i >> 12);
    mem_stats(&during);
    free(big);
    mem_stats(&after);
    printf("demo:   pool %lu pages: %lu free, %lu with 256 KiB allocated, %lu after free()\n",
           before.pool_pages, before.free_pages, during.free_pages, after.free_pages);
    step("memory: 256 KiB taken from the pool and given back",
         big && during.free_pages + 64 <= before.free_pages &&
             after.free_pages == before.free_pages);
    long err = 0;
    void *huge = mem_alloc_pages(1u << 30, &err);
    step("memory: an impossible request is refused, not fatal", !huge && err < 0);
}

static void demo_grants(void)
{
    long hello = name_lookup_wait("hello", 100);
    step("grants: the hello server is there", hello >= 0);
    if (hello < 0)
        return;
    long pid = ipc_handle_pid((uint64_t)hello);
    static char text[3000], loud[3000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = "granted bytes "[i % 14];
    int64_t q = grant_create((uint32_t)pid, text, sizeof(text), GRANT_F_READ);
    int64_t a = grant_create((uint32_t)pid, loud, sizeof(loud), GRANT_F_WRITE);
    struct ipc_msg m = ipc_msg_make(HELLO_SHOUT, IPC_MSG_WORDS);
    m.w[0] = sizeof(text);
    m.w[1] = (uint64_t)q;
    m.w[7] = (uint64_t)a;
    long rc = ipc_call_status((uint64_t)hello, &m);
    grant_revoke((uint64_t)q);
    grant_revoke((uint64_t)a);
    int ok = rc == (long)sizeof(text) && loud[0] == 'G' && loud[14] == 'G' && loud[7] == ' ';
    step("grants: 3000 bytes out through a read grant, back through a write grant", ok);
    /* After the revoke the server can no longer reach our buffer. */
    m = ipc_msg_make(HELLO_SHOUT, IPC_MSG_WORDS);
    m.w[0] = sizeof(text);
    m.w[1] = (uint64_t)q;
    m.w[7] = (uint64_t)a;
    step("grants: a revoked grant is refused by the kernel",
         ipc_call_status((uint64_t)hello, &m) == -E_GRANT_INVALID);
}

static void demo_processes(void)
{
    step("processes: console, mem, hello and shell are running",
         kc_process_running("console") && kc_process_running("mem") &&
             kc_process_running("hello") && kc_process_running("shell"));
}

static int cmd_demo(const char *args)
{
    (void)args;
    steps = bad = 0;
    printf("demo: exercising the console, names, memory, grants and processes\n");
    demo_console();
    demo_names();
    demo_memory();
    demo_grants();
    demo_processes();
    printf("demo: %d of %d steps passed: %s\n", steps - bad, steps,
           bad ? "DEMO FAILED" : "DEMO PASSED");
    return bad != 0;
}

static int cmd_poweroff(const char *args)
{
    (void)args;
    printf("shell: powering off\n");
    stdio_flush();
    fs_cmds_sync();
    kc_shutdown(0);
    return 1;
}

static const struct {
    const char *name;
    command_fn fn;
    const char *help;
} commands[] = {
    {"help", cmd_help, "this list"},
    {"ps", cmd_ps,
     "processes: pid, parent, threads, state, kernel frames, pages, handles; -t threads"},
    {"mem", cmd_mem, "memory server figures"},
    {"echo", cmd_echo, "echo TEXT: print TEXT (through a grant when long)"},
    {"stats", cmd_stats, "kernel IPC counters and restarts"},
    {"kill", cmd_kill, "kill NAME: kill a server (restartable ones come back)"},
    {"bench", cmd_bench, "measure IPC for a few seconds, then a table in microseconds"},
    {"demo", cmd_demo, "exercise console, memory, names and grants end to end"},
    {"ls", cmd_ls, "ls [DIR]: list a directory of the disk"},
    {"cat", cmd_cat, "cat FILE: print a file"},
    {"write", cmd_write, "write FILE TEXT: make FILE hold TEXT and a newline"},
    {"rm", cmd_rm, "rm PATH: remove a file or an empty directory"},
    {"mkdir", cmd_mkdir, "mkdir DIR: make a directory"},
    {"mv", cmd_mv, "mv FROM TO: rename or move"},
    {"df", cmd_df, "disk size and free space"},
    {"poweroff", cmd_poweroff, "stop the machine"},
};

static int cmd_help(const char *args)
{
    (void)args;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        printf("  %-9s %s\n", commands[i].name, commands[i].help);
    printf("  Any other name starts that program of the boot set, e.g. lua -e \"print(1)\":\n"
           "  \"double quotes\" group words; a final & leaves it running in the background.\n");
    return 0;
}

/* ---- programs: NAME ARGS... [&] ----------------------------------------------- */

/* Programs started with & that have not been reported yet. */
static struct {
    uint32_t pid;
    char name[NAME_MAX_LEN];
} jobs[BOOT_RUNS];

static int report_end(const char *name, uint32_t pid, int background, uint32_t reason,
                      uint64_t detail)
{
    char prefix[40] = "";
    if (background)
        snprintf(prefix, sizeof(prefix), "[%x] ", pid);
    if (reason == DEATH_EXIT)
        printf("%s%s: exit status %lu\n", prefix, name, detail);
    else if (reason == DEATH_FAULT)
        printf("%s%s: killed by a fault (exception %lu)\n", prefix, name, detail);
    else
        printf("%s%s: killed\n", prefix, name);
    return reason == DEATH_EXIT && detail == 0 ? 0 : 1;
}

/* BOOT_WAIT for pid: 0 and the ending in *reason, *detail, or -E_*
 * (-E_AGAIN with poll while it runs). */
static long wait_for(uint32_t pid, int poll, uint32_t *reason, uint64_t *detail)
{
    struct ipc_msg m = ipc_msg_make(BOOT_WAIT, 3);
    m.w[1] = pid;
    m.w[2] = poll ? BOOT_WAIT_POLL : 0;
    long rc = ipc_call_status(HANDLE_NAMES, &m);
    *reason = (uint32_t)m.w[1];
    *detail = m.w[2];
    return rc;
}

/* Report the background programs that have ended (all of them, waiting
 * for each, with all set). Returns how many of those failed. */
static int reap_jobs(int all)
{
    int failed = 0;
    for (int i = 0; i < BOOT_RUNS; i++) {
        if (!jobs[i].pid)
            continue;
        uint32_t reason;
        uint64_t detail;
        long rc = wait_for(jobs[i].pid, !all, &reason, &detail);
        if (rc == -E_AGAIN)
            continue;
        if (rc < 0)
            printf("[%x] %s: cannot learn how it ended: %s\n", jobs[i].pid, jobs[i].name,
                   ipc_strerror(rc));
        failed += rc < 0 || report_end(jobs[i].name, jobs[i].pid, 1, reason, detail);
        jobs[i].pid = 0;
    }
    return failed;
}

/* Start the program named by the line's first word with the other words
 * as its arguments (double quotes group words, as on a module line); wait
 * for it and show how it ended, or with a final & leave it running.
 * Returns 0 if it exited with status 0 (or started, with &). */
static int run_program(const char *line)
{
    static char words[256];
    strncpy_safe(words, line, sizeof(words));
    size_t len = strlen(words);
    while (len && words[len - 1] == ' ')
        len--;
    int background = len && words[len - 1] == '&';
    words[len - background] = '\0';
    char *argv[64];
    int argc = args_split(words, argv, 64);
    if (argc == 0)
        return 0;
    /* args_split packed the words at the start: that is the block. */
    size_t block = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - words);
    struct ipc_msg m;
    long rc = ipc_call_data(HANDLE_NAMES, BOOT_RUN, words, block, &m);
    if (rc >= 0)
        rc = (long)m.w[0];
    if (rc == -E_NOENT) {
        printf("shell: unknown command \"%s\"; type help for the list\n", argv[0]);
        return 1;
    }
    if (rc < 0) {
        printf("shell: cannot start %s: %s\n", argv[0], ipc_strerror(rc));
        return 1;
    }
    uint32_t pid = (uint32_t)m.w[1];
    if (background) {
        for (int i = 0; i < BOOT_RUNS; i++)
            if (!jobs[i].pid) {
                jobs[i].pid = pid;
                strncpy_safe(jobs[i].name, argv[0], sizeof(jobs[i].name));
                break;
            }
        printf("[%x] %s started\n", pid, argv[0]);
        return 0;
    }
    uint32_t reason;
    uint64_t detail;
    rc = wait_for(pid, 0, &reason, &detail);
    if (rc < 0) {
        printf("shell: cannot wait for %s: %s\n", argv[0], ipc_strerror(rc));
        return 1;
    }
    return report_end(argv[0], pid, 0, reason, detail);
}

static int run(const char *line)
{
    line = skip(line);
    if (!*line)
        return 0;
    size_t n = 0;
    while (line[n] && line[n] != ' ')
        n++;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strlen(commands[i].name) == n && strncmp(commands[i].name, line, n) == 0)
            return commands[i].fn(skip(line + n));
    return run_program(line);
}

/* ---- the prompt ---------------------------------------------------------- */

/* Started with "script" on its grub.cfg line (the image ./granite run boots
 * when its standard input is not a terminal), the shell reads commands to
 * the end of input (Ctrl-D), then powers off: success only if every
 * command succeeded. Interactively, the end of input is ignored. */
static int script_mode(void)
{
    char args[KC_ARGS_MAX];
    if (kc_args(args, sizeof(args)) < 0)
        return 0;
    for (const char *p = args; (p = strstr(p, "script")) != 0; p += 6)
        if ((p == args || p[-1] == ' ') && (p[6] == ' ' || !p[6]))
            return 1;
    return 0;
}

static void end_of_script(int commands, int failed)
{
    printf("shell: end of input: %d commands, %d failed; powering off\n", commands, failed);
    stdio_flush();
    kc_shutdown(failed != 0);
}

int main(void)
{
    int script = script_mode(), commands = 0, failed = 0;
    if (script) /* give the servers a moment to register before the first lookup */
        name_lookup_wait("hello", 200);
    printf("\nGranite shell. Type help for the commands.\n");
    char line[256];
    for (;;) {
        failed += reap_jobs(0);
        printf("granite> ");
        stdio_flush();
        long rc = console_readline(line, sizeof(line));
        if (rc == -E_EOF && script)
            end_of_script(commands, failed + reap_jobs(1));
        if (rc == -E_EOF) {
            printf("(end of input ignored: type poweroff to stop)\n");
            continue;
        }
        if (rc < 0) {
            kc_sleep(10); /* the console is restarting: try again */
            continue;
        }
        if (!*skip(line))
            continue;
        commands++;
        if (run(line) != 0)
            failed++;
    }
}
