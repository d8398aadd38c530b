#!/usr/bin/env bash
# Boot an appliance image under QEMU's Raspberry Pi 3 model and check from inside the guest that
# the services started and the API answers. QEMU has no SPI controller, so the test's first-boot
# file switches the appliance to the simulated HAT (which also exercises the first-boot setup).
#
#   sudo image/boot-test.sh [IMAGE.img.xz] [--update BUNDLE | --powercut]   (default: build/evse-<version>.img.xz)
#
# With --update, the guest then installs BUNDLE (signed with a key the image trusts: a release
# key, or the throw-away key of image/test-update.sh) the way an upload through the API would,
# and reports the update's outcome and the version running afterwards.
#
# With --powercut, the guest is killed (SIGKILL to QEMU: the power cut of a whole machine) while
# the supervisor writes telemetry, then booted again: before the supervisor starts, the guest
# checks that the database opens and passes `PRAGMA integrity_check`, and the host compares the
# last telemetry row kept with the guest's clock at the cut (at most 10 s may be lost, SPEC §5).
#
# Slow (about 2 minutes on 2 cores, longer with --update: everything is emulated). Prints PASS
# or FAIL with the evidence the guest reported on its serial console: unit states, HTTP answers,
# socket, data partition.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

py=${EVSE_PYTHON:-$REPO_DIR/.venv/bin/python}
version=$(cd "$REPO_DIR" && "$py" -c 'import appliance; print(appliance.__version__)')
image=$REPO_DIR/build/evse-$version.img.xz bundle="" powercut=""
while [ $# -gt 0 ]; do
    case $1 in
        --update) bundle=${2:?}; shift 2 ;;
        --powercut) powercut=1; shift ;;
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
add_check() {  # SCRIPT NAME DESCRIPTION ORDERING: a one-shot unit in this copy of the image that runs SCRIPT at boot
    install -m 0755 "$IMAGE_DIR/$1" "$mnt/usr/local/sbin/$2"
    printf '[Unit]\nDescription=%s\n%s\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/%s\n[Install]\nWantedBy=multi-user.target\n' \
        "$3" "$4" "$2" > "$mnt/etc/systemd/system/$2.service"
    ln -sf "/etc/systemd/system/$2.service" "$mnt/etc/systemd/system/multi-user.target.wants/"
}
add_check boot-test-guest.sh evse-boot-test "EVSE boot test: report on the serial console" "After=multi-user.target"
[ -z "$bundle" ] || install -m 0644 "$bundle" "$mnt/var/tmp/evse-update.bundle"
if [ -n "$powercut" ]; then
    add_check powercut-check.sh evse-powercut-check "EVSE boot test: the database as a power cut left it" \
        "RequiresMountsFor=/var/lib/evse
Before=evse-supervisor.service"
    echo cut > "$mnt/var/tmp/evse-powercut"
fi
umount "$mnt"
losetup -d "$loop"
loop=""

boot() {  # CONSOLE UNTIL-PATTERN: run the guest until the pattern appears on its console (or it stops)
    log "booting under qemu-system-aarch64 -M raspi3b ($kernel, $dtb, $rootarg)"
    qemu-system-aarch64 -M raspi3b -m 1G -smp 4 -kernel "$work/$kernel" -initrd "$work/$initrd" -dtb "$work/$dtb" \
        -drive "if=sd,format=raw,file=$img" -display none -monitor none -serial "file:$1" -no-reboot \
        -append "console=ttyAMA0,115200 $rootarg rootwait rw fsck.repair=yes modprobe.blacklist=vchiq" &
    qemu_pid=$!
    while ! grep -aqE "$2" "$1" 2>/dev/null; do
        if ! kill -0 "$qemu_pid" 2>/dev/null; then break; fi
        if [ $(( $(date +%s) - start )) -gt "$timeout_s" ]; then echo "timed out after $timeout_s s" >&2; break; fi
        sleep 5
    done
}
console=$work/console.log
cut_verdict=""
if [ -n "$powercut" ]; then
    first=$work/console-before-cut.log
    boot "$first" 'EVSE-BOOTTEST (POWERCUT ARMED|RESULT)'
    if grep -aq 'EVSE-BOOTTEST POWERCUT ARMED' "$first"; then
        wait_s=$(( 15 + RANDOM % 11 ))  # 1.5 to 2.5 batches: the cut falls anywhere in a batch
        log "supervisor writing; cutting the guest's power in $wait_s s"
        sleep "$wait_s"
        kill -KILL "$qemu_pid"
        wait "$qemu_pid" 2>/dev/null || true
        qemu_pid=""
        cut_clock=$(grep -a 'EVSE-BOOTTEST CLOCK' "$first" | tail -1 | sed 's/.*CLOCK \([0-9.]*\).*/\1/')
        log "guest killed at its clock ${cut_clock:-unknown}; booting it again"
        boot "$console" 'EVSE-BOOTTEST RESULT'
        check=$(grep -a 'EVSE-BOOTTEST POWERCUT-CHECK' "$console" | tail -1 | sed 's/.*POWERCUT-CHECK //' | tr -d '\r')
        last=$(printf '%s' "$check" | sed -n "s/.*last telemetry t=\([0-9.]*\).*/\1/p")
        echo "---- power cut ----"
        echo "  guest clock at the cut: ${cut_clock:-unknown}"
        echo "  after the cut, before the supervisor: ${check:-no report}"
        if [ -n "$cut_clock" ] && [ -n "$last" ] && printf '%s' "$check" | grep -q 'integrity ok;'; then
            lost=$(awk -v c="$cut_clock" -v l="$last" 'BEGIN { printf "%.1f", c - l }')
            echo "  telemetry lost: $lost s (at most 10 s, plus 1 s for the clock's resolution)"
            awk -v x="$lost" 'BEGIN { exit !(x <= 11.0) }' && cut_verdict=ok
        fi
        [ -n "$cut_verdict" ] || cut_verdict=failed
    else
        cat "$first" > "$console"
        cut_verdict=failed
    fi
else
    boot "$console" 'EVSE-BOOTTEST RESULT'
fi
sleep 2
[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
qemu_pid=""

echo "---- evidence from inside the guest ----"
grep -a 'EVSE-BOOTTEST' "$console" | sed 's/^.*EVSE-BOOTTEST /  /' || true
echo "----"
size=$(human_size "$image")
if grep -aq 'EVSE-BOOTTEST RESULT PASS' "$console" && [ "$cut_verdict" != failed ]; then
    echo "PASS: $image ($size) booted and answered; test took $(elapsed "$start")"
else
    echo "---- last console lines ----"; tail -n 40 "$console" | tr -d '\r'
    echo "FAIL: $image ($size); test took $(elapsed "$start")"
    exit 1
fi
