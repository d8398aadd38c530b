# Shell helpers shared by the image scripts (sourced, not run).
# shellcheck shell=bash

IMAGE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$IMAGE_DIR")
# Downloads, the stand-in base and the wheelhouse are cached outside the repository.
CACHE_DIR=${EVSE_IMAGE_CACHE:-/var/cache/evse-image}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_root() {
    [ "$(id -u)" -eq 0 ] || die "run as root: it mounts images and runs arm64 programs in a chroot"
}

require_tools() {
    local tool missing=()
    for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
    [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (apt-get install mmdebstrap qemu-user-static \
binfmt-support dosfstools mtools fdisk e2fsprogs device-tree-compiler xz-utils qemu-system-arm)"
}

# arm64 programs run on this machine through qemu-user-static's binfmt_misc handler.
enable_binfmt() {
    if [ "$(uname -m)" = aarch64 ]; then return; fi
    if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    if ! grep -qs enabled /proc/sys/fs/binfmt_misc/qemu-aarch64; then
        update-binfmts --enable qemu-aarch64
    fi
    grep -qs enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "cannot enable qemu-aarch64 in binfmt_misc"
}

human_size() { numfmt --to=iec-i --suffix=B "$(stat -c %s "$1")"; }

elapsed() { local s=$(( $(date +%s) - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# The cached arm64 wheels of the dependencies (built once, needs PyPI), keyed by pyproject.toml
# without its version line: a version bump reuses them. Callers copy them into a wheelhouse of
# their own before adding the appliance's wheel, so parallel builds never share one directory.
dependency_wheelhouse() {
    local deps
    deps=$CACHE_DIR/wheelhouse-$(grep -v '^version *=' "$REPO_DIR/pyproject.toml" | sha256sum | cut -c1-12)
    [ -d "$deps" ] || "$IMAGE_DIR/build-wheelhouse.sh" "$deps" >&2
    echo "$deps"
}

# The appliance's own wheel, from the last commit (not from whatever is being edited in the
# working tree) plus the built web UI, which is not in git (scripts/dev.sh builds it). VERSION,
# when given, replaces the version in that copy: a test bundle newer than the image, nothing
# committed (image/test-update.sh).
build_app_wheel() {
    local py=$1 out=$2 version=${3:-} src
    [ -f "$REPO_DIR/appliance/supervisor/web/index.html" ] \
        || die "the web UI is not built: (cd web && npm ci && npm run build), or run bash scripts/dev.sh test"
    src=$(mktemp -d)
    git -C "$REPO_DIR" archive HEAD | tar -x -C "$src"
    cp -a "$REPO_DIR/appliance/supervisor/web" "$src/appliance/supervisor/"
    if [ -n "$version" ]; then
        sed -i "s/^version = \".*\"/version = \"$version\"/" "$src/pyproject.toml"
        sed -i "s/^__version__ = \".*\"/__version__ = \"$version\"/" "$src/appliance/__init__.py"
    fi
    rm -f "$out"/evse_appliance-*.whl
    "$py" -m pip wheel --quiet --no-deps -w "$out" "$src"
    rm -rf "$src"
    log "evse_appliance ${version:+$version }wheel from commit $(git -C "$REPO_DIR" rev-parse --short HEAD)"
}
