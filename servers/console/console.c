/*
 * The console server: the only process that may touch COM1 (its ports and
 * IRQ 4 are granted on its grub.cfg line). It writes each client request in
 * one piece, so lines of different clients never mix, and turns the UART's
 * receive interrupt (a notification) into lines for readers. Input nobody
 * has asked for yet waits, unechoed, in a few queued lines and then in the
 * UART (flow control: the sender is held, nothing is dropped); a line is
 * echoed when its reader takes it, so typed-ahead or piped commands appear
 * after the prompt they answer. Ctrl-D at the start of a line is the end
 * of input (-E_EOF to its reader).
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
#define CTRL_D    0x04
#define EOF_MARK  ((size_t)-1) /* a queued "line" that is the end of input */

struct reader {
    uint64_t badge;
    uint64_t grant; /* 0: inline reply */
    uint64_t cap;
};

static struct reader readers[READERS];
static int nreaders;
static char line[LINE_MAX];
static size_t line_len, line_shown; /* bytes of the line typed; of those, echoed */
static char done[QUEUED][LINE_MAX]; /* lines typed before anyone asked, not echoed */
static size_t done_len[QUEUED];     /* or EOF_MARK */
static int ndone;
static int held; /* the queue was full: IRQ_COM1 is left masked, input waits in the UART */
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

/* Hand a finished line (or the end of input, len EOF_MARK) to reader r. */
static void give_line(const struct reader *r, const char *text, size_t len)
{
    struct ipc_msg m = {0};
    if (len == EOF_MARK) {
        server_reply(r->badge, &m, -E_EOF, 1);
        return;
    }
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

static void drain_uart(void);

/* The queue has room again: take what waited in the UART, and let it
 * interrupt again unless that filled the queue once more. */
static void resume_input(void)
{
    if (!held)
        return;
    drain_uart();
    if (ndone < QUEUED) {
        held = 0;
        kc_irq_ack(IRQ_COM1);
    }
}

/* Echo what the reader of the current line has not seen of it yet. */
static void show_line(void)
{
    if (line_shown < line_len)
        uart_write(line + line_shown, line_len - line_shown);
    line_shown = line_len;
}

static long con_readline(struct ipc_msg *m)
{
    struct reader r = {m->badge, m->w[1], m->w[2]};
    if (ndone > 0) {
        if (done_len[0] != EOF_MARK) { /* echoed now, after its reader's prompt */
            uart_write(done[0], done_len[0]);
            uart_write("\n", 1);
        }
        give_line(&r, done[0], done_len[0]);
        ndone--;
        memmove(done, done + 1, sizeof(done[0]) * (size_t)ndone);
        memmove(done_len, done_len + 1, sizeof(done_len[0]) * (size_t)ndone);
        resume_input();
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
    if (nreaders == 1)
        show_line(); /* typed before anyone asked: this reader's line */
    return SERVER_DEFER;
}

/* The line (len EOF_MARK: the end of input) goes to the first waiting
 * reader, or into the queue, which drain_uart keeps from overflowing. */
static void line_finished(size_t len)
{
    if (nreaders > 0) {
        give_line(&readers[0], line, len);
        nreaders--;
        memmove(readers, readers + 1, sizeof(readers[0]) * (size_t)nreaders);
    } else {
        memcpy(done[ndone], line, line_len);
        done_len[ndone++] = len;
    }
    line_len = line_shown = 0;
}

static void typed(char c)
{
    char prev = last;
    last = c;
    /* Echo as typed only what goes to a reader that is waiting now. */
    int echo = nreaders > 0;
    if (c == '\n' && prev == '\r')
        return; /* CR LF is one Enter */
    if (c == '\r' || c == '\n') {
        if (echo) {
            show_line();
            uart_write("\n", 1);
        }
        line_finished(line_len);
    } else if (c == CTRL_D) {
        if (line_len == 0)
            line_finished(EOF_MARK);
    } else if (c == 0x7f || c == '\b') {
        if (line_len > 0) {
            if (line_shown == line_len) {
                uart_write("\b \b", 3);
                line_shown--;
            }
            line_len--;
        }
    } else if (c >= 0x20 && c < 0x7f && line_len < LINE_MAX - 1) {
        line[line_len++] = c;
        if (echo)
            show_line();
    }
}

/* Take typed bytes from the UART while the queue has room for the lines
 * they may finish; the rest stay there (and the sender waits). */
static void drain_uart(void)
{
    uint32_t lsr, c;
    while (ndone < QUEUED && kc_io_in(LSR, 1, &lsr) == 0 && (lsr & LSR_DATA) &&
           kc_io_in(COM1, 1, &c) == 0)
        typed((char)c);
}

static void on_notify(uint64_t bits)
{
    if (bits & 1) {
        drain_uart();
        if (ndone < QUEUED)
            kc_irq_ack(IRQ_COM1);
        else
            held = 1; /* acknowledged when a reader makes room */
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
