# Shared by bin/demo and bin/test: the virtualenv and the configuration.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# The configuration: trytond.conf with its repository-relative paths made
# absolute (SQLite takes the database path as a URI).
render_conf() {
    mkdir -p "$ROOT/var/db" "$ROOT/var/filestore" "$ROOT/var/mail"
    sed -e "s#^path = var/#path = $ROOT/var/#" \
        -e "s#^root = web/#root = $ROOT/web/#" \
        "$ROOT/trytond.conf" > "$ROOT/var/trytond.conf"
    export TRYTOND_CONFIG="$ROOT/var/trytond.conf"
}

# Debian packages, installed only when missing (needs root or sudo).
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

# The virtualenv with trytond 8.0 and the module installed from this tree.
python_install() {
    local extras="$1"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating the virtualenv in .venv"
        python3 -m venv "$VENV"
    fi
    # shellcheck disable=SC1091
    . "$VENV/bin/activate"
    log "installing Python packages"
    pip install -q --upgrade pip >/dev/null 2>&1 || true
    pip install -q "$ROOT[$extras]" 2>&1 | grep -v -i warning || true
    # The module itself, always fresh from the working tree
    pip install -q --no-deps --force-reinstall "$ROOT" 2>&1 \
        | grep -v -i warning || true
    python -c 'import trytond.modules.office_admin' || {
        log "the module did not install"; exit 1; }
}

# The web client: sao from npm with its own dependencies in its folder.
web_install() {
    local sao="$ROOT/web/node_modules/tryton-sao"
    if [ ! -f "$sao/node_modules/.package-lock.json" ] \
            || [ ! -d "$sao/node_modules/jquery" ]; then
        log "installing the web client (tryton-sao 8.0 from npm)"
        (cd "$ROOT/web" && npm install --no-audit --no-fund --loglevel=error)
        (cd "$sao" && npm install --omit=dev --legacy-peer-deps --no-audit \
            --no-fund --loglevel=error)
    fi
    web_patch "$sao"
}

# Our fixes to sao (web/patches/*.patch, paths relative to tryton-sao),
# applied once: a patch that reverses cleanly is already there.
web_patch() {
    local sao="$1" patch
    command -v patch >/dev/null || apt_install patch
    for patch in "$ROOT"/web/patches/*.patch; do
        [ -f "$patch" ] || continue
        if patch -d "$sao" -p1 -R --dry-run -s -f <"$patch" >/dev/null 2>&1
        then
            continue
        fi
        log "patching the web client: $(basename "$patch")"
        patch -d "$sao" -p1 -N -s -f --no-backup-if-mismatch <"$patch" || {
            log "$(basename "$patch") does not apply to this tryton-sao"
            exit 1; }
    done
    # sao's own Chinese lacks strings (login, Preferences…): ours are
    # merged over its locale file (once: merging again changes nothing)
    local ours="$ROOT/web/locale/zh_CN.json" theirs="$sao/locale/zh_CN.json"
    if [ -f "$ours" ] && [ -f "$theirs" ]; then
        python3 - "$theirs" "$ours" <<'PY'
import json
import sys
theirs, ours = sys.argv[1:]
with open(theirs, encoding='utf-8') as f:
    strings = json.load(f)
with open(ours, encoding='utf-8') as f:
    overlay = json.load(f)
if any(strings.get(k) != v for k, v in overlay.items()):
    strings.update(overlay)
    with open(theirs, 'w', encoding='utf-8') as f:
        json.dump(strings, f, ensure_ascii=False)
    print("office_admin: sao's Chinese completed")
PY
    fi
}
