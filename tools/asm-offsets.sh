#!/bin/sh
# asm-offsets.sh IN.s OUT.h: the "@ASM_OFFSET name value" lines that the
# compiler wrote for kernel/asm_offsets.c become the #defines of OUT.h.
set -eu
in=$1 out=$2
{
    echo "/* Generated from kernel/asm_offsets.c by tools/asm-offsets.sh: do not edit. */"
    echo "#ifndef ASM_OFFSETS_H"
    echo "#define ASM_OFFSETS_H"
    sed -n 's/.*"@ASM_OFFSET \([A-Z0-9_]*\) \([0-9][0-9]*\)".*/#define \1 \2/p' "$in"
    echo "#endif"
} >"$out.tmp"
grep -q '^#define T_MR ' "$out.tmp" || { echo "asm-offsets.sh: no offsets in $in" >&2; exit 1; }
mv "$out.tmp" "$out"
