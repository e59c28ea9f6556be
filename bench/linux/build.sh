#!/bin/bash
# build.sh OUT_DIR: assemble the Linux bench guest in OUT_DIR: vmlinuz (Debian's
# kernel) and initramfs.cpio.gz (busybox-static, our static ipcbench and
# diskbench, init.sh, and the kernel modules the benchmark disk needs).
# needs: cpio gzip gcc libc6-dev qemu-system-x86 (and apt-get, dpkg-deb)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)

missing=
for tool in cpio gzip gcc dpkg-deb apt-get; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	echo "build.sh: missing tools:$missing (Debian: apt-get install -y cpio gzip gcc libc6-dev)" >&2
	exit 1
fi

# LINUX_BENCH_CACHE overrides where the .debs are kept between builds.
cache=$("$here/fetch.sh" ${LINUX_BENCH_CACHE:+"$LINUX_BENCH_CACHE"})
kernel_deb=$(ls "$cache"/linux-image-6.*-amd64_*.deb | sort -V | tail -n 1)
busybox_deb=$(ls "$cache"/busybox-static_*.deb | sort -V | tail -n 1)

work="$out/work"
rm -rf "$work"
mkdir -p "$work/kernel" "$work/busybox" "$work/rootfs/bin"
echo "build.sh: extracting $(basename "$kernel_deb") and $(basename "$busybox_deb")" >&2
dpkg-deb -x "$kernel_deb" "$work/kernel"
dpkg-deb -x "$busybox_deb" "$work/busybox"

vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -n 1)
cp "$vmlinuz" "$out/vmlinuz"
cp "$work/busybox/bin/busybox" "$work/rootfs/bin/busybox"

for prog in ipcbench diskbench; do
	if ! gcc -static -O2 -Wall -Wextra -Werror -o "$out/$prog" "$here/$prog.c" "$here/benchlib.c"; then
		echo "build.sh: compiling $prog failed (static libc comes with libc6-dev)" >&2
		exit 1
	fi
	cp "$out/$prog" "$work/rootfs/$prog"
done

# Debian builds virtio, the FAT file system and its code pages as modules, and
# the .deb has no modules.dep (depmod makes it on install), so the order comes
# from each module's own depends= field. /lib/modules/order lists them for
# init.sh, dependencies first.
disk_modules="virtio_pci virtio_blk vfat nls_cp437 nls_ascii"
moddir=$(ls -d "$work"/kernel/lib/modules/*/ | head -n 1)
mkdir -p "$work/rootfs/lib/modules"
declare -A ko_path=() placed=()
while IFS= read -r ko; do
	name=$(basename "$ko" .ko)
	ko_path[${name//-/_}]=$ko
done < <(find "$moddir/kernel" -name '*.ko')
place_module() { # name: its dependencies, then itself
	local name=${1//-/_} dep deps
	[ -n "${placed[$name]:-}" ] && return 0
	placed[$name]=1
	if [ -z "${ko_path[$name]:-}" ]; then
		# Built into this kernel: nothing to load.
		grep -q "/${name//_/[-_]}\.ko\$" "$moddir/modules.builtin" && return 0
		echo "build.sh: kernel module $name is neither in the .deb nor built in" >&2
		return 1
	fi
	deps=$(tr '\0' '\n' <"${ko_path[$name]}" | sed -n 's/^depends=//p')
	for dep in ${deps//,/ }; do
		place_module "$dep" || return 1
	done
	cp "${ko_path[$name]}" "$work/rootfs/lib/modules/$name.ko"
	echo "$name" >>"$work/rootfs/lib/modules/order"
}
for m in $disk_modules; do
	place_module "$m"
done
echo "build.sh: modules for the disk: $(tr '\n' ' ' <"$work/rootfs/lib/modules/order")" >&2

cp "$here/init.sh" "$work/rootfs/init"
chmod 755 "$work/rootfs/init" "$work/rootfs/ipcbench" "$work/rootfs/diskbench" "$work/rootfs/bin/busybox"
mkdir -p "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/tmp" "$work/rootfs/mnt"

# /dev/console is not needed here: the kernel's built-in initramfs provides it.
(cd "$work/rootfs" && find . | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet | gzip -9 -n) >"$out/initramfs.cpio.gz"
rm -rf "$work"
echo "build.sh: built $out/vmlinuz ($(basename "$vmlinuz")) and $out/initramfs.cpio.gz" >&2
