/*
 * The console server: the only process that may touch COM1 (its ports and
 * IRQ 4 are granted on its grub.cfg line). It writes each client request in
 * one piece, so lines of different clients never mix, and turns the UART's
 * receive interrupt (a notification) into lines for readers.
 */
#include <abi/proto/console.h>
#include <common/string.h>
#include <ipc/grant.h>
#include <ipc/kcall.h>
#include <ipc/server.h>
#include <ipc/stdio.h>

#define COM1      0x3f8
#define LSR       (COM1 + 5)
#define LSR_DATA  0x01
#define LSR_EMPTY 0x20
#define IRQ_COM1  4
#define LINE_MAX  256
#define READERS   8 /* waiting readers, one per process */
#define QUEUED    4

struct reader {
    uint64_t badge;
    uint64_t grant; /* 0: inline reply */
    uint64_t cap;
};

static struct reader readers[READERS];
static int nreaders;
static char line[LINE_MAX];
static size_t line_len;
static char done[QUEUED][LINE_MAX]; /* lines typed before anyone asked */
static size_t done_len[QUEUED];
static int ndone;
static char last;

/* Raw output with \n -> \r\n, in as few kernel calls as possible. */
static long uart_write(const char *s, size_t len)
{
    static char out[2 * CON_WRITE_MAX];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            out[n++] = '\r';
        out[n++] = s[i];
    }
    for (size_t off = 0; off < n;) {
        size_t chunk = n - off > 4096 ? 4096 : n - off;
        long rc = kc_io_write(COM1, LSR, LSR_EMPTY, out + off, chunk);
        if (rc < 0)
            return rc;
        off += chunk;
    }
    return (long)len;
}

static long con_write(struct ipc_msg *m)
{
    static char buf[CON_WRITE_MAX];
    long n = ipc_msg_data(m, buf, sizeof(buf));
    if (n < 0)
        return n;
    return uart_write(buf, (size_t)n) < 0 ? -E_FAULT : n;
}

/* Hand a finished line to reader r. */
static void give_line(const struct reader *r, const char *text, size_t len)
{
    struct ipc_msg m = {0};
    long status = (long)len;
    if (r->grant) {
        if (len > r->cap)
            len = r->cap;
        long rc = grant_copy_to(badge_pid(r->badge), r->grant, 0, text, len);
        if (rc < 0)
            status = rc;
        else
            status = (long)len;
        server_reply(r->badge, &m, status, 1);
        return;
    }
    if (len > IPC_INLINE_MAX)
        len = IPC_INLINE_MAX;
    memcpy(&m.w[2], text, len);
    server_reply(r->badge, &m, (long)len, 8);
}

static int alive(uint32_t pid)
{
    struct kc_proc_info p;
    return kc_proc_info(pid & ID_SLOT_MASK, &p) == 0 && p.pid == pid;
}

static long con_readline(struct ipc_msg *m)
{
    struct reader r = {m->badge, m->w[1], m->w[2]};
    if (ndone > 0) {
        give_line(&r, done[0], done_len[0]);
        ndone--;
        memmove(done, done + 1, sizeof(done[0]) * (size_t)ndone);
        memmove(done_len, done_len + 1, sizeof(done_len[0]) * (size_t)ndone);
        return SERVER_DEFER; /* already answered */
    }
    /* One waiting reader per process, so no process can take every place;
     * places of readers whose process has died are given up. */
    int kept = 0;
    for (int i = 0; i < nreaders; i++) {
        if (badge_pid(readers[i].badge) == badge_pid(r.badge))
            return -E_BUSY;
        if (alive(badge_pid(readers[i].badge)))
            readers[kept++] = readers[i];
    }
    nreaders = kept;
    if (nreaders == READERS)
        return -E_BUSY;
    readers[nreaders++] = r;
    return SERVER_DEFER;
}

static void line_finished(void)
{
    if (nreaders > 0) {
        give_line(&readers[0], line, line_len);
        nreaders--;
        memmove(readers, readers + 1, sizeof(readers[0]) * (size_t)nreaders);
    } else {
        if (ndone == QUEUED) { /* nobody reads: keep the newest lines */
            memmove(done, done + 1, sizeof(done[0]) * (QUEUED - 1));
            memmove(done_len, done_len + 1, sizeof(done_len[0]) * (QUEUED - 1));
            ndone--;
        }
        memcpy(done[ndone], line, line_len);
        done_len[ndone++] = line_len;
    }
    line_len = 0;
}

static void typed(char c)
{
    char prev = last;
    last = c;
    if (c == '\n' && prev == '\r')
        return; /* CR LF is one Enter */
    if (c == '\r' || c == '\n') {
        uart_write("\n", 1);
        line_finished();
    } else if (c == 0x7f || c == '\b') {
        if (line_len > 0) {
            line_len--;
            uart_write("\b \b", 3);
        }
    } else if (c >= 0x20 && c < 0x7f && line_len < LINE_MAX - 1) {
        line[line_len++] = c;
        uart_write(&c, 1);
    }
}

static void drain_uart(void)
{
    uint32_t lsr, c;
    while (kc_io_in(LSR, 1, &lsr) == 0 && (lsr & LSR_DATA) && kc_io_in(COM1, 1, &c) == 0)
        typed((char)c);
}

static void on_notify(uint64_t bits)
{
    if (bits & 1) {
        drain_uart();
        kc_irq_ack(IRQ_COM1);
    }
}

static long direct_sink(const char *text, size_t len)
{
    return uart_write(text, len);
}

static const struct server_op ops[] = {
    {CON_WRITE, con_write},
    {CON_READLINE, con_readline},
};

int main(void)
{
    stdio_set_sink(direct_sink); /* our own printf must not call ourselves */
    long rc = kc_irq_bind(IRQ_COM1, 0);
    if (rc == 0)
        rc = kc_io_out(COM1 + 1, 1, 0x01); /* interrupt when a byte arrives */
    if (rc < 0) {
        printf("console: cannot drive COM1: %s\n", ipc_strerror(rc));
        return 1;
    }
    drain_uart(); /* bytes typed before we started */
    struct server s = {.name = "console",
                       .ops = ops,
                       .nops = sizeof(ops) / sizeof(ops[0]),
                       .on_notify = on_notify};
    return (int)server_run(&s);
}
