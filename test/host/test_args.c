/*
 * Host tests for the module-line splitter of C-library programs
 * (libc/args.c): spaces, double quotes, backslash escapes as GRUB writes
 * them, the word limit, and a seeded mutation loop on exactly-sized copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "hostlib.h"

/* Split text and compare with the expected words (NULL-terminated). */
static void expect_words(const char *text, int max, const char *const *want)
{
    char *s = strdup(text);
    char *out[16];
    int n = args_split(s, out, max);
    int i = 0;
    for (; want[i]; i++) {
        assert_true(i < n);
        assert_string_equal(out[i], want[i]);
    }
    assert_int_equal(n, i);
    free(s);
}

static void test_plain(void **state)
{
    (void)state;
    expect_words("-e print(1)", 16, (const char *const[]){"-e", "print(1)", NULL});
    expect_words("   a   b  ", 16, (const char *const[]){"a", "b", NULL});
    expect_words("", 16, (const char *const[]){NULL});
    expect_words("    ", 16, (const char *const[]){NULL});
}

static void test_quotes(void **state)
{
    (void)state;
    expect_words("one \"two words\" three", 16,
                 (const char *const[]){"one", "two words", "three", NULL});
    expect_words("a\"b c\"d", 16, (const char *const[]){"ab cd", NULL});
    expect_words("\"\" x", 16, (const char *const[]){"", "x", NULL});
    expect_words("\"unterminated quote", 16, (const char *const[]){"unterminated quote", NULL});
}

static void test_escapes(void **state)
{
    (void)state;
    /* GRUB's module line for: lua -e "print('a b')" and it's */
    expect_words("-e \"print(\\'a b\\')\" it\\'s", 16,
                 (const char *const[]){"-e", "print('a b')", "it's", NULL});
    expect_words("a\\\"b \\\\n", 16, (const char *const[]){"a\"b", "\\n", NULL});
    expect_words("a\\ b", 16, (const char *const[]){"a b", NULL});
    expect_words("end\\", 16, (const char *const[]){"end\\", NULL}); /* a lone last backslash */
}

static void test_limit(void **state)
{
    (void)state;
    expect_words("a b c d e", 3, (const char *const[]){"a", "b", "c", NULL});
    expect_words("a b", 0, (const char *const[]){NULL});
}

/* Random strings of the interesting bytes: every word must lie inside the
 * string, in order, without overlapping. */
static void test_mutations(void **state)
{
    (void)state;
    static const char alphabet[] = {' ', '"', '\\', 'a', 'b', '\''};
    rng_state = 0x61726773;
    for (int round = 0; round < 20000; round++) {
        size_t len = rng() % 40;
        char *s = malloc(len + 1);
        for (size_t i = 0; i < len; i++)
            s[i] = alphabet[rng() % sizeof(alphabet)];
        s[len] = '\0';
        char *out[8];
        int n = args_split(s, out, 8);
        assert_true(n >= 0 && n <= 8);
        const char *prev_end = s;
        for (int i = 0; i < n; i++) {
            assert_true(out[i] >= prev_end && out[i] <= s + len);
            prev_end = out[i] + strlen(out[i]) + 1;
            assert_true(prev_end <= s + len + 1);
        }
        free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),     cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_escapes),   cmocka_unit_test(test_limit),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
