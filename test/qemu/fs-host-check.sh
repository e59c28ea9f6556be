#!/usr/bin/env bash
# After user.fs_disk: the disk as the host's own tools see it. fsck.fat -n
# must print nothing but its banner and summary; mtools reads back what
# fs.check wrote in Granite, byte for byte (test/user/fs/fs_check.c's
# pattern: byte at offset o is (7o + o/2048) mod 256).
#   fs-host-check.sh IMG
set -euo pipefail
img=${1:?disk image}
fsck=$(command -v fsck.fat || echo /usr/sbin/fsck.fat)
out=$("$fsck" -n "$img" 2>&1) || { echo "$out"; echo "host: fsck.fat -n failed"; exit 1; }
echo "$out"
extra=$(grep -cvE '^fsck\.fat [0-9.]+ |: [0-9]+ files, [0-9]+/[0-9]+ clusters$' <<<"$out" || true)
[ "$extra" -eq 0 ] || { echo "host: fsck.fat -n reported $extra problem lines"; exit 1; }
export MTOOLS_SKIP_CHECK=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in hello.txt after.txt big.bin driver-kill.bin killed.bin run.lua; do
    mcopy -n -i "$img" "::/$f" "$work/$f" || { echo "host: mcopy of /$f failed"; exit 1; }
done
printf 'hello, disk\nmore\n' | cmp - "$work/hello.txt"
printf 'after' | cmp - "$work/after.txt"
python3 - "$work" <<'PY'
import os, sys
work = sys.argv[1]
def pattern(n):
    return bytes((o * 7 + (o >> 11)) & 0xFF for o in range(n))
for name, size in (("big.bin", 3 << 19), ("driver-kill.bin", 4 << 20), ("killed.bin", None)):
    data = open(os.path.join(work, name), "rb").read()
    if size is not None and len(data) != size:
        sys.exit(f"host: /{name} has {len(data)} bytes, want {size}")
    if data != pattern(len(data)):
        sys.exit(f"host: /{name} differs from the pattern")
    print(f"host: /{name}: {len(data)} bytes as written in Granite")
PY
mdir -i "$img" ::/ | head -n 20
echo "host: fsck.fat clean; mtools reads every file fs.check wrote"
