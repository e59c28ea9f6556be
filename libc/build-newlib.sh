#!/usr/bin/env bash
# Build newlib (Debian's newlib-source) for Granite into a sysroot under the
# build directory, with the system gcc and the normal x86-64 ABI (SSE on).
# Only the x86_64 C and maths libraries are built: no libgloss, no
# multilibs, no supplied system calls (libc/syscalls.c provides them).
#   libc/build-newlib.sh WORKDIR SYSROOT    (jobs: GRANITE_JOBS, else all cores)
# The result is cached: stamps record a hash of this script; a second run
# with the same script only checks that the libraries are there (CMake
# deletes the outputs of a custom command whose command line changed), and
# installs them again from the build tree if not. Logs: WORKDIR/logs/.
set -euo pipefail
work=${1:?work dir}; sysroot=${2:?sysroot}; jobs=${GRANITE_JOBS:-$(nproc)}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
key=$(sha256sum <"$0" | cut -c1-16) # what the sysroot is built from
build=$work/newlib-build
built=$build/.built-$key
stamp=$sysroot/.built-$key
libs_there() { [ -f "$stamp" ] && [ -f "$sysroot/lib/libc.a" ] && [ -f "$sysroot/lib/libm.a" ]; }
if libs_there; then
    touch "$sysroot"/lib/lib[cm].a # newer than this script, for make
    exit 0
fi

say() { echo "libc: $*"; }
step() { # step NAME LOG command...: run quietly, show the log's tail on failure
    local name=$1 log=$2; shift 2
    say "$name (log: $log)"
    if ! "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "libc: $name FAILED; full log: $log" >&2
        exit 1
    fi
}

install() {
    step "installing newlib into $sysroot" "$work/logs/install-newlib.log" \
        make -C "$build" install-target-newlib DESTDIR="$sysroot.tmp"
    rm -rf "$sysroot" && mv "$sysroot.tmp/x86_64-elf" "$sysroot" && rm -rf "$sysroot.tmp"
    touch "$stamp"
    say "newlib ready in $sysroot"
}
if [ -f "$built" ]; then # built before: only the installed copy went missing
    install
    exit 0
fi

step "fetching newlib-source from Debian" "$work/logs/fetch-newlib.log" \
    "$here/fetch-source.sh" "$work/apt" newlib
deb=$(ls "$work"/apt/dl/newlib-source_*.deb | head -n 1)
src=$work/src
rm -rf "$src/newlib-pkg" && mkdir -p "$src"
step "unpacking $(basename "$deb")" "$work/logs/unpack-newlib.log" sh -c "
    dpkg-deb -x '$deb' '$src/newlib-pkg' &&
    rm -rf '$src/newlib' && mkdir '$src/newlib' &&
    tar -C '$src/newlib' --strip-components=1 -xf '$src'/newlib-pkg/usr/src/newlib/newlib-*.tar.*"
top=$src/newlib

# gcc's own freestanding headers (stddef.h, stdarg.h, float.h...) but never
# the host's /usr/include: newlib brings the C library's headers.
gccinc=$(gcc -print-file-name=include)
cflags="-O2 -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables"
cflags="$cflags -mcmodel=small -march=x86-64 -nostdinc -isystem $gccinc"
rm -rf "$build" "$sysroot" && mkdir -p "$build"
cd "$build"
step "configuring newlib" "$work/logs/configure-newlib.log" \
    "$top/configure" --target=x86_64-elf --prefix=/ --disable-multilib --disable-nls \
    --disable-newlib-supplied-syscalls --enable-newlib-io-long-long \
    --enable-newlib-io-c99-formats --disable-newlib-multithread \
    --enable-newlib-mb=no \
    CC_FOR_TARGET=gcc AR_FOR_TARGET=ar AS_FOR_TARGET=as LD_FOR_TARGET=ld \
    NM_FOR_TARGET=nm RANLIB_FOR_TARGET=ranlib OBJDUMP_FOR_TARGET=objdump \
    READELF_FOR_TARGET=readelf STRIP_FOR_TARGET=strip \
    CFLAGS_FOR_TARGET="$cflags"
step "building newlib with $jobs jobs" "$work/logs/build-newlib.log" \
    make -j"$jobs" all-target-newlib
touch "$built"
install
