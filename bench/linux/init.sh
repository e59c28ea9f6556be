#!/bin/busybox sh
# shellcheck shell=dash
# /init of the Linux bench initramfs: mount the pseudo filesystems, run
# /ipcbench with the arguments from the kernel's benchargs= parameter, power off.
# benchargs uses commas for spaces (benchargs=-n,100,-k,64): no quoting to get wrong.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

args=
for word in $(cat /proc/cmdline); do
	case $word in
	benchargs=*) args=$(echo "${word#benchargs=}" | tr , ' ') ;;
	esac
done

echo "guest: kernel $(uname -r), $(nproc) cpu, clocksource" \
	"$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)," \
	"ipcbench args: ${args:-(defaults)}"
# shellcheck disable=SC2086 # $args is meant to split into options
/ipcbench $args
rc=$?
[ $rc -eq 0 ] || echo "BENCH-ERROR ipcbench exited with status $rc"

poweroff -f
# QEMU runs with -no-reboot, so a reboot also ends it should poweroff fail.
reboot -f
