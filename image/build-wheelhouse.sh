#!/usr/bin/env bash
# Wheels for the appliance on the Pi (arm64, Python 3.11 as in bookworm): the appliance's own
# wheel and every pinned dependency, built in a small Debian arm64 chroot under qemu-user-static
# because some dependencies (spidev) publish no arm64 wheel. Needs PyPI once; the image build
# and update bundles then use the result offline.
#
#   sudo image/build-wheelhouse.sh OUT_DIR
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:?usage: build-wheelhouse.sh OUT_DIR}
py=${EVSE_PYTHON:-$REPO_DIR/.venv/bin/python}
builder=$CACHE_DIR/wheel-builder-bookworm-arm64.tar
mirror=${EVSE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

require_root
require_tools mmdebstrap tar
[ -x "$py" ] || die "no Python with the appliance's build tools at $py (run: bash scripts/dev.sh test, or set EVSE_PYTHON)"
enable_binfmt
mkdir -p "$CACHE_DIR"
if [ ! -f "$builder" ]; then
    log "wheel builder chroot (cached in $builder)"
    mmdebstrap --mode=root --arch=arm64 --variant=apt \
        --include=python3-pip,python3-venv,python3-dev,gcc,libc6-dev,ca-certificates bookworm "$builder.new.tar" "$mirror"
    mv "$builder.new.tar" "$builder"
fi

work=$(mktemp -d "$CACHE_DIR/wheels.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/chroot"
tar -C "$work/chroot" -xf "$builder"
cp /etc/resolv.conf "$work/chroot/etc/resolv.conf"
# This machine's CA bundle, so a site's TLS proxy is trusted inside the chroot as it is outside.
cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$work/chroot/etc/ssl/build-host-ca.crt"
log "appliance wheel"
build_app_wheel "$py" "$work/chroot/src"
log "arm64 wheels of its dependencies (pip under emulation)"
chroot "$work/chroot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        PIP_CERT=/etc/ssl/build-host-ca.crt PIP_DEFAULT_TIMEOUT=180 /bin/sh -euc '
    python3 -m venv /opt/pip
    /opt/pip/bin/pip wheel --quiet --disable-pip-version-check --wheel-dir /out /src/*.whl pip'
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$work/chroot/out" "$out"   # complete or not there at all: the image build caches it by name
ls "$out"
echo "wheelhouse: $out ($(ls "$out" | wc -l) wheels)"
