#!/usr/bin/env bash
# Runs `jiaohao-bench perf` with its databases on a slow disk made for the run: a real block
# device whose I/O operations are throttled (qemu-storage-daemon's throttle filter over an image
# file, exported over FUSE, attached as a loop device, formatted ext4). A synced commit then costs
# milliseconds, like a hall PC's plain SATA disk, whatever this machine's own disk does today.
#
#   bash crates/jiaohao-bench/slow-disk.sh [IOPS] [-- perf options]    # IOPS default 1000
#
# Needs root, /dev/fuse, a free loop device and qemu-utils (qemu-storage-daemon); builds
# nothing: run `cargo build --release -p jiaohao -p jiaohao-bench` first.
set -euo pipefail
cd "$(dirname "$0")/../.."

iops=${1:-1000}
shift || true
[[ ${1:-} == -- ]] && shift

bench=target/release/jiaohao-bench
test -x "$bench" || { echo "build first: cargo build --release -p jiaohao -p jiaohao-bench" >&2; exit 1; }
command -v qemu-storage-daemon >/dev/null || { echo "needs qemu-storage-daemon (apt-get install qemu-utils)" >&2; exit 1; }

dir=$(mktemp -d)
daemon=""
loop=""
cleanup() {
  mountpoint -q "$dir/mnt" && umount "$dir/mnt"
  [[ -n $loop ]] && losetup -d "$loop"
  [[ -n $daemon ]] && kill "$daemon" && wait "$daemon" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

truncate -s 512M "$dir/disk.img"
touch "$dir/export.img"
qemu-storage-daemon \
  --object "throttle-group,id=slow,x-iops-total=$iops" \
  --blockdev "driver=file,node-name=image,filename=$dir/disk.img" \
  --blockdev "driver=throttle,node-name=throttled,file=image,throttle-group=slow" \
  --export "type=fuse,id=disk,node-name=throttled,mountpoint=$dir/export.img,writable=on" &
daemon=$!
for _ in $(seq 1 50); do
  [[ $(stat -c %s "$dir/export.img") -gt 0 ]] && break
  sleep 0.1
done
loop=$(losetup -f --show "$dir/export.img")
mkfs.ext4 -q "$loop"
mkdir "$dir/mnt"
mount "$loop" "$dir/mnt"
echo "slow disk: $loop on $dir/mnt, throttled to $iops I/O operations a second"
TMPDIR="$dir/mnt" "$bench" perf "$@"
