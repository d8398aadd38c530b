#!/usr/bin/env bash
# One command for an over-the-air update test: a throw-away signing key, an image of the last
# commit that trusts it (besides the release keys), and a bundle of the same commit one patch
# version higher, signed with it. Nothing is committed; the release key is not needed.
#
#   sudo image/test-update.sh BASE.img[.xz] [--out DIR] [--boot-test] [--dry-run]
#
# --boot-test then boots the image under QEMU and installs the bundle in it (image/boot-test.sh
# IMAGE --update BUNDLE); without it, that command is printed. --dry-run prints every command
# and runs none (no root needed). The private key is deleted at the end; its .pub stays in DIR.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { echo "usage: sudo image/test-update.sh BASE.img[.xz] [--out DIR] [--boot-test] [--dry-run]" >&2; exit 2; }
base="" out=$REPO_DIR/build/test-update boot_test=0 dry_run=0
while [ $# -gt 0 ]; do
    case $1 in
        --out) out=${2:?}; shift 2 ;;
        --boot-test) boot_test=1; shift ;;
        --dry-run) dry_run=1; shift ;;
        -*) usage ;;
        *) [ -z "$base" ] || usage; base=$1; shift ;;
    esac
done
[ -n "$base" ] && [ -f "$base" ] || usage
py=${EVSE_PYTHON:-$REPO_DIR/.venv/bin/python}
[ -x "$py" ] || die "no Python with the appliance's dependencies at $py (run: bash scripts/dev.sh test, or set EVSE_PYTHON)"
[ $dry_run = 1 ] || require_root
cd "$REPO_DIR"
version=$("$py" -c 'import appliance; print(appliance.__version__)')
next=$("$py" -c 'import re, sys
m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", sys.argv[1]) or sys.exit(f"version {sys.argv[1]} is not MAJOR.MINOR.PATCH")
print(f"{m[1]}.{m[2]}.{int(m[3]) + 1}")' "$version")

run() {
    printf '+ %s\n' "$*"
    [ $dry_run = 1 ] || "$@"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/evse-test-update.XXXXXX")
trap 'rm -rf "$work"' EXIT
key=$work/test-update-key.pem
image=$out/evse-$version.img.xz
bundle=$out/evse-$next.bundle

log "image $version trusting a throw-away key, bundle $next signed with it, in $out"
run mkdir -p "$out"
run "$py" -m appliance.system.release_tool keygen "$key"
run cp "$work/test-update-key.pub" "$out/test-update-key.pub"
run "$IMAGE_DIR/build-image.sh" "$base" --out "$out" --trust-key "$work/test-update-key.pub"
run "$IMAGE_DIR/bundle-wheels.sh" "$work/wheels" --version "$next"
run "$py" -m appliance.system.release_tool bundle --key "$key" --wheels "$work/wheels" -o "$bundle"
run "$py" -m appliance.system.release_tool verify "$bundle" --pubkey "$work/test-update-key.pub"
if [ $boot_test = 1 ]; then
    run "$IMAGE_DIR/boot-test.sh" "$image" --update "$bundle"
else
    echo "next: sudo $IMAGE_DIR/boot-test.sh $image --update $bundle"
fi
