/*
 * libFuzzer target for the module-line splitter of C-library programs
 * (libc/args.c): any bytes up to the first NUL are a module line. The words
 * must equal those of an independent statement of the rules, and lie in
 * order inside the line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define MAX 16

/* The rules again, written differently: a word is a maximal run outside
 * quotes without spaces; quotes toggle; a backslash before a byte yields it. */
static int reference(const char *in, size_t len, char words[][512], int max)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        if (in[i] == ' ') {
            i++;
            continue;
        }
        size_t k = 0;
        int quoted = 0;
        for (; i < len && (quoted || in[i] != ' '); i++) {
            if (in[i] == '"')
                quoted ^= 1;
            else if (in[i] == '\\' && i + 1 < len)
                words[n < max ? n : max][k++] = in[++i];
            else
                words[n < max ? n : max][k++] = in[i];
        }
        words[n < max ? n : max][k] = '\0';
        if (n < max)
            n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 500)
        return 0;
    size_t len = strnlen((const char *)data, size);
    char *line = malloc(len + 1); /* exactly the line and its NUL */
    if (!line)
        abort();
    memcpy(line, data, len);
    line[len] = '\0';
    static char want[MAX + 1][512];
    int nwant = reference(line, len, want, MAX);

    char *out[MAX];
    int n = args_split(line, out, MAX);
    if (n != nwant)
        abort();
    const char *after = line;
    for (int i = 0; i < n; i++) {
        if (out[i] < after || out[i] > line + len || strcmp(out[i], want[i]) != 0)
            abort();
        after = out[i] + strlen(out[i]) + 1;
    }
    free(line);
    return 0;
}
