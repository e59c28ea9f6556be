#!/usr/bin/env bash
# After user.fs_persist_write: the note typed at Granite's shell is on the
# disk as the host sees it, and fsck.fat -n finds the volume clean.
#   fs-notes-check.sh IMG
set -euo pipefail
img=${1:?disk image}
fsck=$(command -v fsck.fat || echo /usr/sbin/fsck.fat)
out=$("$fsck" -n "$img" 2>&1) || { echo "$out"; echo "host: fsck.fat -n failed"; exit 1; }
echo "$out"
extra=$(grep -cvE '^fsck\.fat [0-9.]+ |: [0-9]+ files, [0-9]+/[0-9]+ clusters$' <<<"$out" || true)
[ "$extra" -eq 0 ] || { echo "host: fsck.fat -n reported $extra problem lines"; exit 1; }
note=$(MTOOLS_SKIP_CHECK=1 mtype -i "$img" ::/notes.txt)
[ "$note" = hello ] || { echo "host: /notes.txt holds '$note', want 'hello'"; exit 1; }
echo "host: mtype ::/notes.txt says hello; fsck.fat clean"
