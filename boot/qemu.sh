#!/usr/bin/env bash
# The one place that knows how Granite is started in QEMU.
#   boot/qemu.sh run   ISO            serial console on this terminal (Ctrl-A X quits)
#   boot/qemu.sh debug ISO KERNEL.elf  wait for GDB on :1234; writes a gdb script
#   boot/qemu.sh test  ISO            serial on stdout, no display, for scripts
#   boot/qemu.sh icount ISO           as test, with -icount shift=0 (rdtsc = instructions)
# Any mode: --disk IMG (after the other arguments) attaches IMG as a
# virtio-blk disk, with the options of bench/disk-device.sh.
# TCG by default (KVM is absent or broken on our machines); GRANITE_ACCEL=kvm
# opts in. GRANITE_MEM sets the RAM size (default 256M), GRANITE_CPUS the
# number of CPUs (default 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:?mode}; iso=${2:?iso}
[ -f "$iso" ] || { echo "qemu.sh: no ISO at $iso (build it first: cmake --build build)" >&2; exit 2; }
accel=${GRANITE_ACCEL:-tcg}
cpus=${GRANITE_CPUS:-1}
[[ $cpus =~ ^[1-9][0-9]?$ ]] || { echo "qemu.sh: GRANITE_CPUS=$cpus: want a number of CPUs, 1 to 99" >&2; exit 2; }
args=(-accel "$accel" -cpu max -m "${GRANITE_MEM:-256M}" -smp "$cpus" -no-reboot
      -cdrom "$iso" -boot d
      -device isa-debug-exit,iobase=0xf4,iosize=0x04)
rest=("${@:3}")
for i in "${!rest[@]}"; do
    if [ "${rest[$i]}" = --disk ]; then
        disk=${rest[$((i + 1))]:?--disk needs an image}
        [ -f "$disk" ] || { echo "qemu.sh: no disk image at $disk" >&2; exit 2; }
        # shellcheck source=../bench/disk-device.sh
        . "$here/../bench/disk-device.sh"
        bench_disk_qemu_args "$disk"
        args+=("${BENCH_DISK_QEMU_ARGS[@]}")
    fi
done
case $mode in
run)
    exec qemu-system-x86_64 "${args[@]}" -display none -serial mon:stdio ;;
debug)
    kernel=${3:?kernel elf}
    gdbinit=$(dirname "$iso")/granite.gdb
    cat >"$gdbinit" <<GDB
set architecture i386:x86-64
symbol-file $kernel
target remote localhost:1234
GDB
    echo "QEMU is waiting for GDB. In another terminal: gdb -x $gdbinit" >&2
    exec qemu-system-x86_64 "${args[@]}" -display none -serial mon:stdio -s -S ;;
test)
    exec qemu-system-x86_64 "${args[@]}" -display none -monitor none -serial stdio ;;
icount)
    exec qemu-system-x86_64 "${args[@]}" -display none -monitor none -serial stdio -icount shift=0 ;;
*)
    echo "qemu.sh: unknown mode '$mode' (run, debug, test, icount)" >&2; exit 2 ;;
esac
