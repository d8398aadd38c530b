#!/usr/bin/env bash
# Turn an official Raspberry Pi OS Lite arm64 image (Pi 3, 4, 5, Zero 2 W) into the flashable
# appliance image evse-<version>.img.xz, offline: the base image's own programs run under
# qemu-user-static in a chroot, and the appliance comes from a wheelhouse, never the network.
#
#   sudo image/build-image.sh BASE.img[.xz] [--wheelhouse DIR] [--out DIR] [--trust-key KEY.pub]
#
# Without --wheelhouse, the arm64 wheels of the dependencies are built once with
# image/build-wheelhouse.sh (needs PyPI) and cached by the hash of pyproject.toml without its
# version line; each build copies them and adds its own appliance wheel, so builds of different
# versions can run side by side. --trust-key makes the image also accept bundles signed with
# that key (a test image; see image/test-update.sh). Prints PASS or FAIL, the image size and time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { echo "usage: sudo image/build-image.sh BASE.img[.xz] [--wheelhouse DIR] [--out DIR] [--trust-key KEY.pub]" >&2; exit 2; }
base="" wheelhouse="" out=$REPO_DIR/build trust_key=""
while [ $# -gt 0 ]; do
    case $1 in
        --wheelhouse) wheelhouse=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --trust-key) trust_key=${2:?}; shift 2 ;;
        -*) usage ;;
        *) [ -z "$base" ] || usage; base=$1; shift ;;
    esac
done
[ -n "$base" ] && [ -f "$base" ] || usage
[ -z "$trust_key" ] || [ -f "$trust_key" ] || die "no public key at $trust_key"
py=${EVSE_PYTHON:-$REPO_DIR/.venv/bin/python}
ROOT_GROW_MIB=1024   # room for a second software version during updates
DATA_MIB=256         # grows to fill the card on first boot

require_root
require_tools losetup mount e2fsck resize2fs sfdisk mcopy dtc xz fstrim chroot
[ -x "$py" ] || die "no Python with the appliance's dependencies at $py (run: bash scripts/dev.sh test, or set EVSE_PYTHON)"
enable_binfmt
start=$(date +%s)
version=$(cd "$REPO_DIR" && "$py" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
code_version=$(cd "$REPO_DIR" && "$py" -c 'import appliance; print(appliance.__version__)')
[ "$version" = "$code_version" ] || die "pyproject.toml says $version but appliance.__version__ is $code_version"

mkdir -p "$CACHE_DIR" "$out"
work=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
root=$work/root
boot=$work/boot
img=$work/evse-$version.img
cleanup() {
    for m in "$root/proc" "$root/dev" "$root"; do
        mountpoint -q "$m" && umount "$m"
    done
    losetup -j "$img" -n -O NAME 2>/dev/null | xargs -r -n1 losetup -d
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$wheelhouse" ]; then
    deps=$(dependency_wheelhouse)
    wheelhouse=$work/wheelhouse
    mkdir "$wheelhouse"
    cp "$deps"/*.whl "$wheelhouse/"
    build_app_wheel "$py" "$wheelhouse"
fi
ls "$wheelhouse"/evse_appliance-"$version"-*.whl "$wheelhouse"/pip-*.whl >/dev/null \
    || die "$wheelhouse lacks the evse_appliance $version wheel or pip's"

log "base image $base"
case $base in
    *.xz) xz -dc -T0 "$base" > "$img" ;;
    *) cp --sparse=always "$base" "$img" ;;
esac
log "root +$ROOT_GROW_MIB MiB, data partition $DATA_MIB MiB"
eval "$(cd "$REPO_DIR" && "$py" -m image.disk grow "$img" --root-grow-mib "$ROOT_GROW_MIB" --data-mib "$DATA_MIB")"
root_dev=$(losetup --find --show --offset "$ROOT_OFFSET" --sizelimit "$ROOT_SIZE" "$img")
e2fsck -f -y "$root_dev" >/dev/null || [ $? -le 1 ]
resize2fs "$root_dev" >/dev/null 2>&1
mkdir -p "$root"
mount "$root_dev" "$root"
[ -d "$root/boot/firmware" ] || die "no /boot/firmware in the base image: expected Raspberry Pi OS bookworm or later"
# The FAT partition is read and written with mtools: no vfat driver needed on this machine.
export MTOOLS_SKIP_CHECK=1
fat="$img@@$BOOT_OFFSET"
mkdir -p "$boot"
mcopy -s -p -m -i "$fat" '::*' "$boot/"

log "customising (services, config.txt, overlay, first-boot template)"
(cd "$REPO_DIR" && "$py" -m image.customize "$root" "$boot")
if [ -n "$trust_key" ]; then
    log "also trusting update bundles signed with $trust_key (a test image)"
    install -D -m 0644 "$trust_key" "$root/etc/evse/update-keys/$(basename "$trust_key")"
fi
mcopy -s -o -p -m -i "$fat" "$boot"/* ::/

log "installing evse-appliance $version into a venv (arm64 Python under emulation)"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mkdir -p "$root/var/tmp/evse-wheels"
cp "$wheelhouse"/*.whl "$root/var/tmp/evse-wheels/"
venv=/opt/evse/versions/$version/venv
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /bin/sh -euc "
    python3 -m venv --system-site-packages --without-pip $venv
    $venv/bin/python \$(ls /var/tmp/evse-wheels/pip-*.whl)/pip install --quiet --no-index --no-cache-dir \
        --disable-pip-version-check --find-links /var/tmp/evse-wheels evse-appliance==$version pip
    echo $version > /opt/evse/versions/$version/.installed
    ln -sfn versions/$version /opt/evse/current
    systemd-sysusers
    /usr/lib/evse/evse-python -I -c 'import appliance.system.launch, appliance.system.update, appliance.supervisor; import appliance; print(\"imports fine:\", appliance.__version__)'
"
rm -rf "$root/var/tmp/evse-wheels"
umount "$root/dev" "$root/proc"

log "checking for secrets"
if ! (cd "$REPO_DIR" && "$py" -m image.secretscan "$root/opt/evse" "$root/etc/evse" "$root/usr/lib/evse" "$boot"); then
    echo "FAIL: secrets found in the image (above)"; exit 1
fi
for user in evse evse-pilot; do
    grep -q "^$user:" "$root/etc/passwd" || { echo "FAIL: no $user user"; exit 1; }
done
# pigpiod.service requires the nftables rule that keeps all but the pilot's user away from it.
[ -x "$root/usr/sbin/nft" ] || { echo "FAIL: no nft in the base image (package nftables)"; exit 1; }
fstrim "$root" >/dev/null 2>&1 || true   # freed blocks read as zeros: a smaller .xz
umount "$root"
e2fsck -f -y "$root_dev" >/dev/null || [ $? -le 1 ]

log "compressing"
xz -T0 -6 -c "$img" > "$out/evse-$version.img.xz"
echo "PASS: $out/evse-$version.img.xz ($(human_size "$out/evse-$version.img.xz"); $(human_size "$img") uncompressed)," \
     "built in $(elapsed "$start"); sha256 $(sha256sum "$out/evse-$version.img.xz" | cut -c1-16)…"
