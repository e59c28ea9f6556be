#!/usr/bin/env bash
# Fetch Debian's lua5.4 source package (apt-get source, see
# libc/fetch-source.sh) and unpack it into SRC: upstream Lua with Debian's
# security fixes (its cve-* patches, from Lua's authors), without Debian's
# packaging patches (shared-library build, Debian's module paths). Nothing
# else is changed. Cached: a second run does nothing.
#   programs/lua/unpack-lua.sh APTDIR SRC LOGDIR
set -euo pipefail
apt_dir=${1:?apt dir}; src=${2:?source dir}; logs=${3:?log dir}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$logs"
# Done before, and every file still there (CMake deletes the outputs of a
# custom command whose command line changed)?
complete() {
    [ -f "$src/.unpacked" ] || return 1
    local f
    while read -r f; do [ -f "$src/$f" ] || return 1; done <"$src/.unpacked"
}
if complete; then
    touch "$src"/src/*.c # newer than this script, for make
    exit 0
fi
step() { # step NAME LOG command...
    local name=$1 log=$2; shift 2
    echo "lua: $name (log: $log)"
    if ! "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "lua: $name FAILED; full log: $log" >&2
        exit 1
    fi
}
step "fetching lua5.4 source from Debian" "$logs/fetch-lua.log" \
    "$here/../../libc/fetch-source.sh" "$apt_dir" lua
dsc=$(ls "$apt_dir"/dl/lua5.4_*.dsc | head -n 1)
rm -rf "$src"
# apt checked the files against the signed index: no second signature check.
step "unpacking $(basename "$dsc")" "$logs/unpack-lua.log" sh -c "
    dpkg-source --no-check --skip-patches -x '$dsc' '$src' &&
    cd '$src' && for p in \$(grep -i cve debian/patches/series); do
        echo \"applying \$p\" && patch -p1 --batch <debian/patches/\$p || exit 1
    done"
(cd "$src" && find src -type f) >"$src/.unpacked"
