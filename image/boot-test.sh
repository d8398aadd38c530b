#!/usr/bin/env bash
# Boot an appliance image under QEMU's Raspberry Pi 3 model and check from inside the guest that
# the services started and the API answers. QEMU has no SPI controller, so the test's first-boot
# file switches the appliance to the simulated HAT (which also exercises the first-boot setup).
#
#   sudo image/boot-test.sh [IMAGE.img.xz] [--update BUNDLE]   (default: build/evse-<version>.img.xz)
#
# With --update, the guest then installs BUNDLE (signed with a key the image trusts: a release
# key, or the throw-away key of image/test-update.sh) the way an upload through the API would,
# and reports the update's outcome and the version running afterwards.
#
# Slow (about 2 minutes on 2 cores, longer with --update: everything is emulated). Prints PASS
# or FAIL with the evidence the guest reported on its serial console: unit states, HTTP answers,
# socket, data partition.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

py=${EVSE_PYTHON:-$REPO_DIR/.venv/bin/python}
version=$(cd "$REPO_DIR" && "$py" -c 'import appliance; print(appliance.__version__)')
image=$REPO_DIR/build/evse-$version.img.xz bundle=""
while [ $# -gt 0 ]; do
    case $1 in
        --update) bundle=${2:?}; shift 2 ;;
        *) image=$1; shift ;;
    esac
done
timeout_s=${EVSE_BOOT_TEST_TIMEOUT:-2400}

require_root
require_tools qemu-system-aarch64 mcopy mdir losetup mount xz
[ -f "$image" ] || die "no image at $image (build one with image/build-image.sh)"
[ -z "$bundle" ] || [ -f "$bundle" ] || die "no bundle at $bundle"
start=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/evse-boot-test.XXXXXX")
mnt=$work/root
loop=""
qemu_pid=""
cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null || true
    mountpoint -q "$mnt" && umount "$mnt"
    [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

img=$work/disk.img
log "copying $image"
case $image in *.xz) xz -dc -T0 "$image" > "$img" ;; *) cp --sparse=always "$image" "$img" ;; esac
(cd "$REPO_DIR" && "$py" -m image.disk pad "$img") >/dev/null  # QEMU wants 2^n bytes; the data partition grows into the rest
eval "$(cd "$REPO_DIR" && "$py" -m image.disk offsets "$img")"
export MTOOLS_SKIP_CHECK=1
fat="$img@@$BOOT_OFFSET"

log "first-boot file: simulated HAT, hostname, admin password, line limit"
cat > "$work/evse.toml" <<'EOF'
hostname = "evse-boottest"
admin_password = "boot-test-password"
line_limit_a = 25
simulate = true
EOF
mcopy -o -i "$fat" "$work/evse.toml" ::evse.toml

pick() { mdir -b -i "$fat" :: | sed 's|^::/||' | grep -E -m1 "$1" || die "no $2 on the boot partition"; }
kernel=$(pick '^(vmlinuz-.*|kernel8\.img)$' kernel)
initrd=$(pick '^(initrd\.img-.*|initramfs8)$' initrd)
dtb=$(pick '^(bcm2837-rpi-3-b|bcm2710-rpi-3-b)\.dtb$' "Pi 3 device tree")
for f in "$kernel" "$initrd" "$dtb" cmdline.txt; do mcopy -i "$fat" "::$f" "$work/$f"; done
rootarg=$(grep -o 'root=[^ ]*' "$work/cmdline.txt")

log "adding the in-guest check to this copy only"
loop=$(losetup --find --show --offset "$ROOT_OFFSET" --sizelimit "$ROOT_SIZE" "$img")
mkdir -p "$mnt"
mount "$loop" "$mnt"
install -m 0755 "$IMAGE_DIR/boot-test-guest.sh" "$mnt/usr/local/sbin/evse-boot-test"
cat > "$mnt/etc/systemd/system/evse-boot-test.service" <<'EOF'
[Unit]
Description=EVSE boot test: report on the serial console
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/evse-boot-test
[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/evse-boot-test.service "$mnt/etc/systemd/system/multi-user.target.wants/"
[ -z "$bundle" ] || install -m 0644 "$bundle" "$mnt/var/tmp/evse-update.bundle"
umount "$mnt"
losetup -d "$loop"
loop=""

log "booting under qemu-system-aarch64 -M raspi3b ($kernel, $dtb, $rootarg)"
console=$work/console.log
qemu-system-aarch64 -M raspi3b -m 1G -smp 4 -kernel "$work/$kernel" -initrd "$work/$initrd" -dtb "$work/$dtb" \
    -drive "if=sd,format=raw,file=$img" -display none -monitor none -serial "file:$console" -no-reboot \
    -append "console=ttyAMA0,115200 $rootarg rootwait rw fsck.repair=yes modprobe.blacklist=vchiq" &
qemu_pid=$!
while ! grep -q 'EVSE-BOOTTEST RESULT' "$console" 2>/dev/null; do
    if ! kill -0 "$qemu_pid" 2>/dev/null; then break; fi
    if [ $(( $(date +%s) - start )) -gt "$timeout_s" ]; then echo "timed out after $timeout_s s" >&2; break; fi
    sleep 5
done
sleep 2
kill "$qemu_pid" 2>/dev/null || true
qemu_pid=""

echo "---- evidence from inside the guest ----"
grep -a 'EVSE-BOOTTEST' "$console" | sed 's/^.*EVSE-BOOTTEST /  /' || true
echo "----"
size=$(human_size "$image")
if grep -aq 'EVSE-BOOTTEST RESULT PASS' "$console"; then
    echo "PASS: $image ($size) booted and answered; test took $(elapsed "$start")"
else
    echo "---- last console lines ----"; tail -n 40 "$console" | tr -d '\r'
    echo "FAIL: $image ($size); test took $(elapsed "$start")"
    exit 1
fi
