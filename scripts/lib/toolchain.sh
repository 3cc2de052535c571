# Shared by the scripts: install what a fresh Debian or Ubuntu machine lacks.

step() { printf '\n==> %s\n' "$*"; }

# Runs a command as root (directly, or through sudo).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs Debian packages that are missing.
ensure_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

# Makes cargo available: rustup's if present, else installs rustup (stable toolchain).
ensure_rust() {
    if [ -f "$HOME/.cargo/env" ]; then source "$HOME/.cargo/env"; fi
    if ! command -v cargo >/dev/null 2>&1; then
        ensure_packages curl ca-certificates build-essential
        step "installing Rust (rustup)"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
        source "$HOME/.cargo/env"
    fi
    if ! command -v cc >/dev/null 2>&1; then ensure_packages build-essential; fi
}

# What rustup lacks, added: `ensure_rustup component clippy …`, `ensure_rustup target T …`.
ensure_rustup() {
    command -v rustup >/dev/null 2>&1 || return 0
    local kind=$1 installed
    shift
    installed=$(rustup "$kind" list --installed)
    for item in "$@"; do
        # Installed components carry their host triple: "clippy-x86_64-unknown-linux-gnu".
        grep -qE "^$item(-|\$)" <<<"$installed" || rustup "$kind" add "$item"
    done
}
