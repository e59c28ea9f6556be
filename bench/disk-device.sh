# shellcheck shell=bash
# The one place that says how the benchmark disk is made and attached in QEMU.
# Sourced by bench/linux/run.sh and by Granite's disk benchmark, so both
# systems are measured on the same device behind the same host cache:
#   . bench/disk-device.sh
#   bench_disk_image IMG && bench_disk_qemu_args IMG
#   qemu-system-x86_64 ... "${BENCH_DISK_QEMU_ARGS[@]}"
#
# cache=writeback: QEMU goes through the host's page cache and the guest sees
# a volatile write cache, so its flushes (fsync, BLK_FLUSH) become host
# fdatasyncs. Reads then come from host memory, so the figures measure the
# guest's storage stack and QEMU's virtio emulation rather than this
# machine's disk, which is shared and noisy; and it works wherever the image
# lives (cache=none needs O_DIRECT, which tmpfs lacks).
# disable-legacy=on: a virtio 1.0 device only (PCI id 1af4:1042), the
# interface Granite's driver speaks; Linux uses that interface anyway.
# num-queues=1, queue-size=256: pinned rather than left to QEMU's defaults
# (which follow the vCPU count and the QEMU version). MSI-X is left on: Linux
# uses it; a driver that does not (Granite's takes INTx) simply ignores it.

BENCH_DISK_MIB=64 # the raw image; the benchmarks use its first 16 MiB
BENCH_DISK_ID=benchdisk
BENCH_DISK_DRIVE="format=raw,if=none,id=$BENCH_DISK_ID,cache=writeback,aio=threads"
BENCH_DISK_DEVICE="virtio-blk-pci,drive=$BENCH_DISK_ID,disable-legacy=on,num-queues=1,queue-size=256"

# bench_disk_image IMG: a fresh raw image of BENCH_DISK_MIB MiB, every block
# written (zeros) and synced, so that no timed write pays for the host
# allocating blocks and no run sees what an earlier one left behind.
bench_disk_image() {
    local img=${1:?image path}
    rm -f "$img"
    dd if=/dev/zero of="$img" bs=1M count="$BENCH_DISK_MIB" conv=fsync status=none
}

# bench_disk_qemu_args IMG: sets the array BENCH_DISK_QEMU_ARGS to the QEMU
# options attaching IMG as the benchmark disk.
bench_disk_qemu_args() {
    local img=${1:?image path}
    # -drive splits on commas; a comma in the file name is written twice.
    # shellcheck disable=SC2034 # for the caller
    BENCH_DISK_QEMU_ARGS=(-drive "file=${img//,/,,},$BENCH_DISK_DRIVE" -device "$BENCH_DISK_DEVICE")
}
