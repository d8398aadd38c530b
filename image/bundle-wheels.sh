#!/usr/bin/env bash
# The wheels of an update bundle: the cached arm64 wheels of the dependencies (built once by
# image/build-wheelhouse.sh, needs PyPI and root) and the appliance's wheel from the last commit,
# in a directory of their own. Sign the result with `python -m appliance.system.release_tool bundle`.
#
#   sudo image/bundle-wheels.sh OUT_DIR [--version VERSION]
#
# --version replaces the committed version in the appliance's wheel (test bundles only).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { echo "usage: sudo image/bundle-wheels.sh OUT_DIR [--version VERSION]" >&2; exit 2; }
out="" version=""
while [ $# -gt 0 ]; do
    case $1 in
        --version) version=${2:?}; shift 2 ;;
        -*) usage ;;
        *) [ -z "$out" ] || usage; out=$1; shift ;;
    esac
done
[ -n "$out" ] || usage
py=${EVSE_PYTHON:-$REPO_DIR/.venv/bin/python}
[ -x "$py" ] || die "no Python with the appliance's build tools at $py (run: bash scripts/dev.sh test, or set EVSE_PYTHON)"
[ ! -e "$out" ] || die "$out exists: give a new directory"

deps=$(dependency_wheelhouse)
mkdir -p "$out"
cp "$deps"/*.whl "$out/"
build_app_wheel "$py" "$out" "$version"
echo "bundle wheels: $out ($(ls "$out" | wc -l) wheels)"
