#!/usr/bin/env bash
# Every C source and header follows the checked-in .clang-format.
#   check-format.sh ROOT
set -uo pipefail
root=$1
cd "$root" || exit 1
command -v clang-format >/dev/null ||
    { echo "FAIL: clang-format is not installed (apt-get install clang-format)"; exit 1; }
bad=0
while IFS= read -r f; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (fix: clang-format -i $f)"
        bad=$((bad + 1))
    fi
done < <(find kernel libipc libc servers common include bench test -name '*.[ch]' | sort)
[ $bad -eq 0 ] && echo "PASS: every C file follows .clang-format" || echo "FAIL: $bad files"
exit $((bad > 0))
