#!/usr/bin/env bash
# Fetch one Debian source package for the C-library build, with apt's own
# client and a private apt state under the build directory (no root, nothing
# installed on the host). Third-party source is never committed.
#   libc/fetch-source.sh APTDIR newlib   -> APTDIR/dl/newlib-source_*.deb (the tarball inside)
#   libc/fetch-source.sh APTDIR lua      -> APTDIR/dl/lua5.4_*.dsc and its tarballs (apt-get source)
# The mirror and release are read from the host's apt configuration, so a
# machine with another mirror uses its own.
set -euo pipefail
apt_dir=${1:?apt dir}; what=${2:?newlib|lua}
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" "$apt_dir/dl"
apt_dir=$(cd "$apt_dir" && pwd)

# The host's Debian mirror and suite: deb822 (.sources) or one-line format.
mirror=; suite=; keyring=
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' "$f")
    suite=$(awk '/^Suites:/ {print $2; exit}' "$f")
    keyring=$(awk '/^Signed-By:/ {print $2; exit}' "$f")
    [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
    line=$(grep -hE '^deb +(\[[^]]*\] +)?[a-z]+://[^ ]*debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1 || true)
    mirror=$(echo "$line" | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}')
    suite=$(echo "$line" | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $2}')
fi
[ -n "$mirror" ] || { echo "fetch-source: no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
if [ -z "$suite" ]; then
    . /etc/os-release
    suite=$VERSION_CODENAME
fi
[ -n "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt_dir/sources.list.d/granite.sources" <<SRC
Types: deb deb-src
URIs: $mirror
Suites: $suite
Components: main
Signed-By: $keyring
SRC

apt_opts=(-q -o Dir::Etc::SourceList=/dev/null
          -o Dir::Etc::SourceParts="$apt_dir/sources.list.d"
          -o Dir::State::Lists="$apt_dir/lists"
          -o Dir::Cache="$apt_dir/cache"
          -o Dir::State::status=/var/lib/dpkg/status
          -o APT::Sandbox::User="$(id -un)"
          -o Debug::NoLocking=1)
# A mirror may stumble: each network step gets three tries.
retry() {
    local try
    for try in 1 2 3; do
        "$@" && return 0
        echo "fetch-source: try $try of 3 failed: $*" >&2
        sleep $((try * 5))
    done
    return 1
}
# One index download serves both packages.
if [ ! -f "$apt_dir/updated" ]; then
    retry apt-get "${apt_opts[@]}" update
    touch "$apt_dir/updated"
fi
cd "$apt_dir/dl"
case $what in
newlib)
    ls newlib-source_*.deb >/dev/null 2>&1 || retry apt-get "${apt_opts[@]}" download newlib-source ;;
lua)
    ls lua5.4_*.dsc >/dev/null 2>&1 || retry apt-get "${apt_opts[@]}" --download-only source lua5.4 ;;
*)
    echo "fetch-source: unknown package set '$what'" >&2; exit 2 ;;
esac
