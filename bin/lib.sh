# Shared by bin/run and bin/test: a virtualenv in .venv with the project installed.
# Sourced, not run. Needs ROOT set to the checkout.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    # Install Debian packages only when missing; `apt-get update` once, only then.
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> apt-get install ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

ensure_venv() {
    # ensure_venv EXTRAS: create .venv if missing and (re)install the project when pyproject.toml changed.
    local extras="$1"
    local python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
    if [ ! -x "$ROOT/.venv/bin/python" ]; then
        if ! "$python" -c "import ensurepip, venv" 2>/dev/null; then
            apt_install python3-venv
        fi
        echo "==> creating .venv with $python"
        "$python" -m venv "$ROOT/.venv"
    fi
    local stamp="$ROOT/.venv/.tidings-installed"
    local want
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $extras"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "==> pip install -e .$extras"
        "$ROOT/.venv/bin/python" -m pip install -q --upgrade pip
        "$ROOT/.venv/bin/python" -m pip install -q -e "$ROOT$extras"
        echo "$want" > "$stamp"
    fi
}
