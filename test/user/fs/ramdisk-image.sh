#!/usr/bin/env bash
# The ramdisk's initial contents (test/user/fs/ramdisk.c): a FAT32 volume
# made by mkfs.fat, of which only the first PREFIX KiB hold anything (the
# rest is zeros, as the ramdisk's fresh memory is); this keeps the prefix.
#   ramdisk-image.sh OUT MIB PREFIX_KIB
set -euo pipefail
out=${1:?out} mib=${2:?MiB} prefix=${3:?prefix KiB}
mkfs=$(command -v mkfs.fat || echo /usr/sbin/mkfs.fat)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
rm -f "$tmp"
"$mkfs" -C -F 32 -s 2 -S 512 -n RAMDISK --invariant "$tmp" $((mib * 1024)) >/dev/null 2>&1
# Everything after the prefix must be zeros, or the ramdisk would lose it.
if tail -c +$((prefix * 1024 + 1)) "$tmp" | tr -d '\0' | head -c 1 | grep -q .; then
    echo "ramdisk-image.sh: the volume has data past ${prefix} KiB" >&2
    exit 1
fi
head -c $((prefix * 1024)) "$tmp" >"$out"
