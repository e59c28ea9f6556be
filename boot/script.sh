#!/usr/bin/env bash
# Script a booted system: boot ISO (an image whose shell has "script" on its
# grub.cfg line) and type standard input's lines at its prompt, then the end
# of input, Ctrl-D (once a second from then on: a program that reads the
# console, such as lua's prompt, takes one, and the shell needs another).
# The serial output goes to stdout; the exit status is QEMU's (33: every
# command succeeded, 35: one failed, 37: kernel panic).
#   boot/script.sh ISO [qemu.sh's options, e.g. --disk FILE] < commands
set -uo pipefail
iso=${1:?usage: boot/script.sh ISO [--disk FILE] < commands}
shift
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp) fifo=$(mktemp -u)
mkfifo "$fifo"
exec 3<&0
(
    # Nothing is typed before the shell's first prompt: until then GRUB and
    # the kernel own the serial port, and bytes typed would be lost.
    until grep -q 'granite> ' "$log"; do sleep 0.1; done
    awk 1 <&3 # every line, the last one with its newline
    while printf '\004'; do sleep 1; done
) >"$fifo" 2>/dev/null &
feeder=$!
"$here/qemu.sh" test "$iso" "$@" <"$fifo" | tee "$log" | tr -d '\r'
status=${PIPESTATUS[0]}
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
rm -f "$log" "$fifo"
exit "$status"
