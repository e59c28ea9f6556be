#!/bin/bash
# run.sh OUT_DIR MODE: boot the guest that build.sh assembled under QEMU TCG
# (MODE wall: real time; MODE icount: -icount shift=0, so rdtsc counts retired
# guest instructions). BENCH lines go to stdout, progress to stderr.
# In wall mode the guest also gets the benchmark disk (bench/disk-device.sh),
# a fresh image OUT_DIR/disk.img, and runs diskbench on it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() { echo "usage: $0 OUT_DIR wall|icount" >&2; exit 2; }
[ $# -eq 2 ] || usage
out=$1
mode=$2

# Each default takes ~30 s of host time here, leaving room under the 2-minute
# budget on slower hosts; icount emulates more slowly, hence fewer batches.
# LINUX_BENCH_ARGS overrides (ipcbench options, e.g. "-q" for a smoke test),
# LINUX_DISK_ARGS the diskbench options ("off": no disk at all).
# No disk under icount: there the TSC also counts the time the guest waits
# idle for QEMU's I/O thread, so a disk figure would be no instruction count.
case $mode in
wall) icount=() default_args="-n 1000 -k 64 -w 1000" default_disk="-n 5 -r 4096 -k 64" ;;
icount) icount=(-icount shift=0) default_args="-n 400 -k 64 -w 1000" default_disk=off ;;
*) usage ;;
esac
args=${LINUX_BENCH_ARGS:-$default_args}
disk_args=${LINUX_DISK_ARGS:-$default_disk}
limit=${LINUX_BENCH_TIMEOUT:-600}

for f in vmlinuz initramfs.cpio.gz; do
	[ -f "$out/$f" ] || { echo "run.sh: $out/$f missing; run build.sh $out first" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	{ echo "run.sh: qemu-system-x86_64 not found (Debian: apt-get install -y qemu-system-x86)" >&2; exit 1; }

log="$out/linux-$mode.log"
rm -f "$log"
disk=() cmdline_disk=
if [ "$disk_args" != off ]; then
	# shellcheck source-path=SCRIPTDIR source=../disk-device.sh
	. "$here/../disk-device.sh"
	bench_disk_image "$out/disk.img"
	bench_disk_qemu_args "$out/disk.img"
	disk=("${BENCH_DISK_QEMU_ARGS[@]}")
	cmdline_disk=" diskargs=${disk_args// /,}"
fi
echo "booting Linux guest ($mode), ipcbench $args, diskbench $disk_args ..." >&2
start=$SECONDS
set +e
# The kernel command line splits on spaces, so the arguments carry commas instead.
timeout "$limit" qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 1 "${icount[@]}" \
	-kernel "$out/vmlinuz" -initrd "$out/initramfs.cpio.gz" "${disk[@]}" \
	-append "console=ttyS0 quiet mitigations=off benchargs=${args// /,}$cmdline_disk" \
	-display none -serial "file:$log" -no-reboot -monitor none
rc=$?
set -e
echo "Linux guest ($mode) finished in $((SECONDS - start)) s (qemu exit $rc)" >&2

# The serial console ends lines with CR LF.
bench=$(tr -d '\r' <"$log" 2>/dev/null | grep -a '^BENCH' || true)
if ! grep -qx 'BENCH-DONE' <<<"$bench" || grep -q '^BENCH-ERROR' <<<"$bench"; then
	[ "$rc" -eq 124 ] && echo "run.sh: QEMU timed out after $limit s" >&2
	grep -a '^BENCH-ERROR' <<<"$bench" >&2 || true
	echo "run.sh: the Linux guest did not finish (no BENCH-DONE, or a BENCH-ERROR); see $log" >&2
	exit 1
fi
echo "$bench"
