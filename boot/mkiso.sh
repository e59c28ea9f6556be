#!/usr/bin/env bash
# Make a GRUB 2 (i386-pc) rescue ISO from a staging directory:
#   boot/mkiso.sh STAGE_DIR OUT.iso
# grub-mkrescue needs xorriso (and mtools for EFI images); its output goes to
# a log next to the ISO and is shown only when it fails.
set -euo pipefail
stage=$1 iso=$2
log=${iso%.iso}.mkiso.log
for m in "$stage"/boot/*.elf; do
    [ -s "$m" ] || { echo "mkiso: boot file $m is missing or empty" >&2; exit 1; }
done
if ! grub-mkrescue -o "$iso" "$stage" >"$log" 2>&1; then
    echo "mkiso: grub-mkrescue failed for $iso; its log ($log):" >&2
    cat "$log" >&2
    exit 1
fi
