/*
 * Module-line words for argv (see args.h). Words are packed towards the
 * start of the string as they are unquoted, so the output never outruns
 * the input and no memory is needed.
 */
#include "args.h"

int args_split(char *s, char **out, int max)
{
    int n = 0;
    char *w = s; /* where the next byte of a word goes; never after s */
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        char *start = w;
        int quoted = 0;
        for (; *s && (quoted || *s != ' '); s++) {
            if (*s == '"')
                quoted = !quoted;
            else if (*s == '\\' && s[1])
                *w++ = *++s;
            else
                *w++ = *s;
        }
        if (*s)
            s++;     /* the space after the word */
        *w++ = '\0'; /* at most where that space (or the NUL) was */
        if (n < max)
            out[n++] = start;
    }
    return n;
}
