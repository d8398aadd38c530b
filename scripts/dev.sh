#!/usr/bin/env bash
# Set up the development environment and run the appliance or its tests.
#   bash scripts/dev.sh sim [evse sim options]   run on the simulated HAT (UI on http://127.0.0.1:8080)
#   bash scripts/dev.sh test [pytest options]    run the linters, then the test suite
# Idempotent: the first run creates .venv and installs the pinned dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
cmd=${1:-}
shift || true

need_root() { if [ "$(id -u)" -ne 0 ]; then echo "sudo"; fi; }

install_debian_packages() {
    # Debian packages the tests need (browser, circuit simulator); one per line, # comments.
    local wanted missing=()
    wanted=$(sed -e 's/#.*//' -e '/^\s*$/d' scripts/apt-packages.txt)
    for pkg in $wanted; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}"
        $(need_root) apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

setup_venv() {
    local extras=$1 stamp="$venv/.installed-$1"
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> creating $venv"
        python3 -m venv "$venv"
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "==> installing the appliance and its pinned dependencies"
        "$venv/bin/pip" install -q -e ".[$extras]"
        touch "$stamp"
    fi
}

build_web() {
    # The web UI: web/ is built into appliance/supervisor/web/ when that is missing or older than its sources.
    local out=appliance/supervisor/web/index.html
    if [ ! -f "$out" ] || [ -n "$(find web/index.html web/src web/public web/package.json web/package-lock.json \
            web/vite.config.js -newer "$out" -print -quit)" ]; then
        command -v npm >/dev/null || { echo "dev.sh: building the web UI needs Node.js >= 20 with npm" >&2; exit 1; }
        echo "==> building the web UI"
        (cd web && npm ci --no-audit --no-fund && npm run build)
    fi
}

case "$cmd" in
    sim)
        build_web
        setup_venv dev
        exec "$venv/bin/evse" sim "$@"
        ;;
    test)
        install_debian_packages
        build_web
        setup_venv test
        echo "==> ruff"
        "$venv/bin/ruff" check .
        echo "==> mypy"
        "$venv/bin/mypy"
        echo "==> pytest"
        set +e
        "$venv/bin/python" -m pytest "$@"
        rc=$?
        set -e
        if [ $rc -eq 5 ]; then echo "no tests were collected"; fi
        exit $rc
        ;;
    *)
        echo "usage: bash scripts/dev.sh sim|test [options]" >&2
        exit 2
        ;;
esac
