#!/bin/bash
# fetch.sh [CACHE_DIR]: download Debian's current amd64 kernel and busybox-static
# .debs into CACHE_DIR (default: <repo>/build/bench/linux-pkgs), once. Prints the
# cache dir on stdout; progress and errors go to stderr. Nothing here is committed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${1:-$root/build/bench/linux-pkgs}
export DEBIAN_FRONTEND=noninteractive

say() { echo "fetch.sh: $*" >&2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@" # -n: fail rather than wait for a password
	else
		say "need root (or sudo) to run: $*"
		return 1
	fi
}

updated=0
apt_update() {
	[ "$updated" = 1 ] && return 1
	say "refreshing apt package lists (apt-get update)..."
	as_root apt-get update -qq >&2 || { say "apt-get update failed"; return 1; }
	updated=1
}

# The meta package names the concrete kernel, e.g. linux-image-6.1.0-56-amd64.
kernel_pkg() {
	{ apt-cache depends linux-image-amd64 2>/dev/null || true; } |
		awk '!found && $1 == "Depends:" && $2 ~ /^linux-image-6\..*-amd64$/ { print $2; found = 1 }'
}

have() { compgen -G "$cache/$1" >/dev/null; }

# Downloads into a scratch dir first so an interrupted fetch never looks cached.
download() {
	local pkg=$1 tmp="$cache/.partial"
	rm -rf "$tmp" && mkdir -p "$tmp"
	chmod a+rwx "$tmp" # so apt's unprivileged sandbox user can write there as root
	say "downloading $pkg..."
	# Lists that are merely stale name versions the mirror has dropped: refresh once.
	if ! (cd "$tmp" && apt-get download -q "$pkg" >&2); then
		apt_update && (cd "$tmp" && apt-get download -q "$pkg" >&2) ||
			{ say "could not download Debian package '$pkg'"; rm -rf "$tmp"; return 1; }
	fi
	mv "$tmp"/*.deb "$cache"/ && rm -rf "$tmp"
}

mkdir -p "$cache"

if ! have 'linux-image-6.*-amd64_*.deb'; then
	if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
		apt_update
	fi
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ]; then
		apt_update || true
		pkg=$(kernel_pkg)
	fi
	[ -n "$pkg" ] || { say "apt cannot resolve the kernel that 'linux-image-amd64' depends on"; exit 1; }
	download "$pkg"
fi

if ! have 'busybox-static_*.deb'; then
	ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt_update
	download busybox-static
fi

echo "$cache"
