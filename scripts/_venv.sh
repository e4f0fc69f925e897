# Sourced by scripts/demo.sh and scripts/test.sh: make .venv and install a requirements file.
# Usage: ensure_venv requirements.txt
# Reinstalls only when the requirements file (or what it includes) changed since the last run.

ensure_venv() {
    local req="$1"
    local python="${PYTHON:-}"
    if [ -z "$python" ]; then
        if command -v python3.11 >/dev/null 2>&1; then
            python=python3.11
        else
            python=python3
        fi
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "==> creating .venv with $python"
        "$python" -m venv .venv
    fi
    local stamp=".venv/.installed-$(basename "$req")"
    local digest
    digest="$(cat "$req" requirements.txt | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        echo "==> installing $req"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
        echo "$digest" >"$stamp"
    else
        echo "==> $req already installed in .venv"
    fi
}
