#!/bin/busybox sh
# shellcheck shell=dash
# /init of the Linux bench initramfs: mount the pseudo filesystems, run
# /ipcbench with the arguments from the kernel's benchargs= parameter and, when
# diskargs= is given, /diskbench on the virtio disk (raw, then through vfat);
# print BENCH-DONE if all of it succeeded, and power off.
# Both parameters use commas for spaces (benchargs=-n,100,-k,64): no quoting to get wrong.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp /mnt
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

args=
disk=
diskargs=
for word in $(cat /proc/cmdline); do
	case $word in
	benchargs=*) args=$(echo "${word#benchargs=}" | tr , ' ') ;;
	diskargs=*) disk=1 diskargs=$(echo "${word#diskargs=}" | tr , ' ') ;;
	esac
done

finish() {
	poweroff -f
	# QEMU runs with -no-reboot, so a reboot also ends it should poweroff fail.
	reboot -f
}

error() {
	echo "BENCH-ERROR $*"
	finish
}

# The modules in /lib/modules/order (dependencies first, from build.sh), then
# the disk, which virtio_blk's probe announces to devtmpfs.
disk_up() {
	for m in $(cat /lib/modules/order); do
		insmod "/lib/modules/$m.ko" || error "insmod $m failed"
	done
	tries=0
	while [ ! -b /dev/vda ]; do
		tries=$((tries + 1))
		[ $tries -le 100 ] || error "disk no /dev/vda 10 s after loading virtio_blk"
		sleep 0.1
	done
}

echo "guest: kernel $(uname -r), $(nproc) cpu, clocksource" \
	"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)," \
	"ipcbench args: ${args:-(defaults)}"
# shellcheck disable=SC2086 # $args is meant to split into options
/ipcbench $args || error "ipcbench exited with status $?"

if [ -n "$disk" ]; then
	disk_up
	echo "guest: disk /dev/vda, $(cat /sys/block/vda/size) sectors, write cache" \
		"'$(cat /sys/block/vda/queue/write_cache)', diskbench args: ${diskargs:-(defaults)}"
	# shellcheck disable=SC2086 # $diskargs is meant to split into options
	/diskbench $diskargs -p linux.disk. /dev/vda || error "diskbench (raw) exited with status $?"
	# The same through a FAT32 file system, the kind Granite's file server has.
	mkdosfs /dev/vda >/dev/null || error "mkdosfs /dev/vda failed"
	mount -t vfat /dev/vda /mnt || error "mount -t vfat /dev/vda failed"
	# shellcheck disable=SC2086
	/diskbench $diskargs -p linux.disk.fs_ /mnt/bench.dat || error "diskbench (vfat) exited with status $?"
	umount /mnt || error "umount /mnt failed"
fi

echo "BENCH-DONE"
finish
