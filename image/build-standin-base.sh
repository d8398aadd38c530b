#!/usr/bin/env bash
# Build a stand-in for "Raspberry Pi OS Lite arm64" from Debian's own arm64 packages, for testing
# the image build where the Raspberry Pi archive is out of reach. Same layout as the official
# image: a FAT firmware partition (raspi-firmware, the kernel, initrd and DTBs) and an ext4 root.
#
#   sudo image/build-standin-base.sh [OUT.img]     (default: $EVSE_IMAGE_CACHE/standin-base.img)
#
# Slow (about 19 minutes on 2 cores: the initramfs is built under emulation); the result is cached.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$CACHE_DIR/standin-base.img}
mirror=${EVSE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What Raspberry Pi OS Lite has and the appliance relies on: systemd, python3, avahi, fdisk, nftables.
packages=systemd-sysv,udev,kmod,dbus,raspi-firmware,linux-image-arm64,python3,avahi-daemon,fdisk,e2fsprogs,dosfstools,iproute2,netbase,ca-certificates,procps,nftables

require_root
require_tools mmdebstrap mkfs.vfat mcopy mke2fs sfdisk python3
enable_binfmt
mkdir -p "$CACHE_DIR" "$(dirname "$out")"
work=$(mktemp -d "$CACHE_DIR/standin.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$(date +%s)

log "mmdebstrap bookworm arm64 ($packages)"
mmdebstrap --mode=root --arch=arm64 --variant=minbase --components=main,non-free-firmware \
    --include="$packages" bookworm "$work/rootfs" "$mirror"

rootfs=$work/rootfs
log "fstab, hostname, QEMU quirks"
cat > "$rootfs/etc/fstab" <<'EOF'
LABEL=RASPIROOT  /               ext4  defaults,noatime  0 1
LABEL=RASPIFIRM  /boot/firmware  vfat  defaults         0 2
EOF
echo raspberrypi > "$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n' > "$rootfs/etc/hosts"
# QEMU's raspi3b has no VideoCore: the vchiq driver only waits and complains.
echo "blacklist vchiq" > "$rootfs/etc/modprobe.d/evse-standin-vchiq.conf"
rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*_Packages

log "assembling $out"
mkdir "$work/firmware"
mv "$rootfs/boot/firmware/"* "$work/firmware/"
(cd "$REPO_DIR" && python3 -m image.disk assemble "$work/firmware" "$rootfs" "$out")
echo "stand-in base: $out ($(human_size "$out")), built in $(elapsed "$start")"
