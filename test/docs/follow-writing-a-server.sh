#!/usr/bin/env bash
# Follow docs/writing-a-server.md word for word in a scratch copy of the
# repository: every ```c block whose first line names a file under servers/
# becomes that file, every ```cmake block naming a CMakeLists.txt is appended
# to it; then build granite.iso, boot it, and check the new server answers
# and the shell lists it.
#   follow-writing-a-server.sh ROOT SCRATCH
set -uo pipefail
root=$1 scratch=$2
doc=$root/docs/writing-a-server.md
fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$scratch" && mkdir -p "$scratch/src"
tar -C "$root" --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . |
    tar -C "$scratch/src" -xf - || fail "cannot copy the repository to $scratch"

# Extract the files the page tells the reader to write.
awk -v dst="$scratch/src" '
    /^```(c|cmake)$/ { inblock = 1; first = 1; file = ""; next }
    /^```$/ && inblock { inblock = 0; next }
    inblock && first {
        first = 0
        if (match($0, /^\/\* (servers\/[^ :]+):/)) { file = substr($0, 4, RLENGTH - 4); mode = "write" }
        else if (match($0, /^# ([^ :]*CMakeLists\.txt):/)) { file = substr($0, 3, RLENGTH - 3); mode = "append" }
        if (file != "") {
            path = dst "/" file
            if (mode == "write") { system("mkdir -p \"$(dirname \"" path "\")\""); printf "" > path }
            print "docs: " (mode == "write" ? "writing " : "appending to ") file > "/dev/stderr"
        }
    }
    inblock && file != "" { print >> (dst "/" file) }
' "$doc"
for f in servers/counter/counter.h servers/counter/counter.c servers/counter/counter_client.c; do
    [ -s "$scratch/src/$f" ] || fail "the page did not produce $f"
done
grep -q "granite_add_server(NAME counter " "$scratch/src/servers/CMakeLists.txt" ||
    fail "the page did not add the counter to servers/CMakeLists.txt"

echo "docs: building granite.iso in $scratch/build"
cmake -S "$scratch/src" -B "$scratch/build" >"$scratch/configure.log" 2>&1 ||
    { cat "$scratch/configure.log"; fail "configure failed"; }
cmake --build "$scratch/build" -j "$(nproc)" --target iso-granite >"$scratch/build.log" 2>&1 ||
    { grep -E "error|Error" "$scratch/build.log" | head -20; fail "build failed (log: $scratch/build.log)"; }

echo "docs: booting it"
exec "$root/test/qemu/run-qemu.sh" --iso "$scratch/build/iso/granite.iso" --log "$scratch/boot.log" \
    --timeout 120 --exit 33 \
    --input-after 'counter-client: note of' --input 'ps\n' \
    --input-after '[0-9]+ processes' --input 'poweroff\n' \
    --expect 'counter-client: add 10 -> ok, total 30' \
    --expect 'counter: note from pid [0-9a-f]+: x{100}' \
    --expect 'counter-client: note of 199 bytes -> 199' \
    --expect 'receiving +[0-9]+/[0-9]+ +[0-9]+ +[0-9]+ +counter$' \
    --reject 'PANIC' --reject 'EXCEPTION'
