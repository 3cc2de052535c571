# Shared by the scripts: the installers, checked as a user would meet them.
#
#   build_installers          npm ci && npm run build for the .deb and the .rpm
#   check_installers          the packaged desktop entry, icons and files
#   clean_debian_root DIR     a minimal Debian 12 made with debootstrap (cached between runs)
#   install_and_run_in_root   apt-get install ./the.deb into that root, then run the installed
#                             /usr/bin/claraverse there under Xvfb with test services: they run,
#                             quitting stops them, nothing is left

# Where the packaging build goes: its own target folder, so its lighter profile does not
# rebuild the tests' artefacts.
PACKAGE_TARGET=${PACKAGE_TARGET:-$PWD/target/package}
# A clean Debian 12 root, made once per machine and copied for each run.
ROOT_CACHE=${ROOT_CACHE:-/var/tmp/claraverse-ci/bookworm-minbase.tar}

# What building and checking the installers takes: Node.js and npm for the Tauri CLI, rpm
# to read the .rpm, desktop-file-validate, debootstrap for the clean root, curl to ask the
# bridge installed there.
ensure_packaging_tools() {
    ensure_packages rpm desktop-file-utils debootstrap curl
    if ! command -v npm >/dev/null 2>&1; then ensure_packages npm; fi
}

# The Debian mirror apt itself uses here.
debian_mirror() {
    local uri
    uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
    if [ -z "$uri" ]; then
        uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

# Builds the .deb and the .rpm with the npm script, as a release does. CI uses a lighter
# profile than the shipped one (no LTO, parallel code generation, opt-level 1): the same
# code and bundles in a third of the time. A release build keeps Cargo.toml's profile.
build_installers() {
    step "installers: npm ci && npm run build (.deb and .rpm; CI profile: no LTO)"
    npm ci --no-audit --no-fund
    CARGO_TARGET_DIR="$PACKAGE_TARGET" \
        CARGO_PROFILE_RELEASE_LTO=false \
        CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
        npm run build -- --bundles deb rpm --ci
}

deb_file() { ls "$PACKAGE_TARGET"/release/bundle/deb/*.deb | head -1; }
rpm_file() { ls "$PACKAGE_TARGET"/release/bundle/rpm/*.rpm | head -1; }

# What a user's package manager and desktop see: the desktop entry passes
# desktop-file-validate, the icons come at several sizes, the binary is /usr/bin/claraverse
# with the MCP bridge, /usr/bin/clara-mcp, beside it.
check_installers() {
    step "installers: desktop entry, icons and files"
    local deb rpm contents entry work
    deb=$(deb_file)
    rpm=$(rpm_file)
    ls -l "$deb" "$rpm"
    contents=$(dpkg -c "$deb")
    grep -qE ' (\./)?usr/bin/claraverse$' <<<"$contents" || { echo "the .deb has no /usr/bin/claraverse" >&2; return 1; }
    grep -qE ' (\./)?usr/bin/clara-mcp$' <<<"$contents" || { echo "the .deb has no /usr/bin/clara-mcp (the MCP bridge)" >&2; return 1; }
    local sizes
    sizes=$(grep -oE 'usr/share/icons/hicolor/[^/]+/apps/claraverse.png' <<<"$contents" | sort -u)
    echo "$sizes"
    [ "$(wc -l <<<"$sizes")" -ge 3 ] || { echo "the .deb has fewer than 3 icon sizes" >&2; return 1; }
    work=$(mktemp -d)
    dpkg-deb -x "$deb" "$work"
    entry=$(ls "$work"/usr/share/applications/*.desktop)
    cat "$entry"
    desktop-file-validate "$entry"
    grep -q '^Categories=.*Utility' "$entry" || { echo "the desktop entry has no category" >&2; return 1; }
    grep -q '^Comment=' "$entry" || { echo "the desktop entry has no description" >&2; return 1; }
    dpkg-deb -f "$deb" Package Version Depends Maintainer Description | sed 's/^/  /'
    rpm -qp --queryformat 'rpm: %{NAME} %{VERSION} %{LICENSE}\n' "$rpm"
    # Read whole first: grep -q stops early, and a writer cut off fails the pipeline.
    contents=$(rpm -qpl "$rpm")
    grep -qx /usr/bin/claraverse <<<"$contents" || { echo "the .rpm has no /usr/bin/claraverse" >&2; return 1; }
    grep -qx /usr/bin/clara-mcp <<<"$contents" || { echo "the .rpm has no /usr/bin/clara-mcp (the MCP bridge)" >&2; return 1; }
    rm -rf "$work"
}

# A minimal Debian 12 in DIR (debootstrap --variant=minbase, from the mirror apt uses).
clean_debian_root() {
    local root=$1
    if [ ! -s "$ROOT_CACHE" ]; then
        step "making a clean Debian 12 root (debootstrap, cached in $ROOT_CACHE)"
        local fresh
        fresh=$(mktemp -d)
        debootstrap --variant=minbase bookworm "$fresh" "$(debian_mirror)" >/dev/null
        mkdir -p "$(dirname "$ROOT_CACHE")"
        tar -C "$fresh" -cf "$ROOT_CACHE.part" . && mv "$ROOT_CACHE.part" "$ROOT_CACHE"
        rm -rf "$fresh"
    fi
    mkdir -p "$root"
    tar -C "$root" -xf "$ROOT_CACHE"
}

# Mounts what programs in the root expect, until unmount_root.
mount_root() {
    local root=$1
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    mount --bind /dev/pts "$root/dev/pts"
    mount -t sysfs sys "$root/sys"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
}

unmount_root() {
    local root=$1
    for mount_point in dev/pts dev sys proc; do
        umount -l "$root/$mount_point" 2>/dev/null || true
    done
}

# Installs the .deb into a clean root with apt-get (a missing Depends shows here), then
# runs the installed app there under Xvfb on two test services, one with a child, and the
# MCP bridge installed beside it (${APP_DIR}/clara-mcp): all run, the bridge answers its
# health check; SIGTERM (as a logout sends) stops them cleanly; nothing is left.
install_and_run_in_root() {
    local root deb
    root=$(mktemp -d /var/tmp/claraverse-root.XXXXXX)
    chmod 755 "$root"
    deb=$(deb_file)
    clean_debian_root "$root"
    mount_root "$root"
    # shellcheck disable=SC2064
    trap "unmount_root '$root'; rm -rf '$root'" RETURN
    step "installers: apt-get install ./$(basename "$deb") in the clean root"
    cp "$deb" "$root/tmp/"
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "/tmp/$(basename "$deb")" >/dev/null
    chroot "$root" dpkg -s "$(dpkg-deb -f "$deb" Package)" | grep -E '^(Package|Status|Version|Installed-Size)'
    # What the test itself needs there: a display and a D-Bus session (not the app's).
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        xvfb xauth dbus procps >/dev/null

    step "installers: the installed /usr/bin/claraverse runs its services, and stops them"
    mkdir -p "$root/test/state"
    cat >"$root/test/services.toml" <<'EOF'
[services.one]
command = ["sh", "-c", "sleep 600 & echo $$! > /test/one-child.pid; echo $$$$ > /test/one.pid; wait"]

[services.two]
command = ["sh", "-c", "echo $$$$ > /test/two.pid; exec sleep 600"]
depends_on = { one = "started" }

[services.bridge]
command = ["${APP_DIR}/clara-mcp", "--listen", "127.0.0.1:18092"]
health = { http = "http://127.0.0.1:18092/health", interval = "1s" }
EOF
    # The features were chosen already: no welcome view, the services start at once.
    echo '{ "features": [], "stopped": [] }' >"$root/test/state/choices.json"
    chroot "$root" env HOME=/root CLARAVERSE_STATE_DIR=/test/state \
        dbus-run-session -- xvfb-run -a /usr/bin/claraverse --config /test/services.toml \
        >"$root/test/app.log" 2>&1 &
    local runner=$! pids=() file
    for _ in $(seq 1 120); do
        [ -s "$root/test/one.pid" ] && [ -s "$root/test/one-child.pid" ] && [ -s "$root/test/two.pid" ] && break
        sleep 0.5
    done
    for file in one one-child two; do
        [ -s "$root/test/$file.pid" ] || { echo "service $file never ran; the app said:" >&2; cat "$root/test/app.log" >&2; return 1; }
        pids+=("$(cat "$root/test/$file.pid")")
    done
    for pid in "${pids[@]}"; do kill -0 "$pid" || { echo "process $pid is not running" >&2; return 1; }; done
    echo "services running in the clean root: pids ${pids[*]}"
    # The chroot shares this machine's network: the installed bridge answers here.
    for _ in $(seq 1 120); do curl -fsS http://127.0.0.1:18092/health >/dev/null 2>&1 && break; sleep 0.5; done
    curl -fsS http://127.0.0.1:18092/health || { echo "the installed MCP bridge never answered; the app said:" >&2; cat "$root/test/app.log" >&2; return 1; }
    echo " <- the MCP bridge installed beside the app, run from \${APP_DIR}"
    local app
    app=$(pgrep -f -x '/usr/bin/claraverse --config /test/services.toml' | head -1)
    [ -n "$app" ] || { echo "the app is not running" >&2; return 1; }
    kill -TERM "$app"
    local status=0
    wait "$runner" || status=$?
    grep -q "stopping every service before exiting" "$root/test/app.log" || {
        echo "the app did not stop its services cleanly; it said:" >&2; cat "$root/test/app.log" >&2; return 1; }
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        if kill -0 "$pid" 2>/dev/null; then echo "left behind after quitting: $pid" >&2; return 1; fi
    done
    if curl -fsS http://127.0.0.1:18092/health >/dev/null 2>&1; then
        echo "the MCP bridge still answers after quitting" >&2; return 1
    fi
    [ "$status" -eq 0 ] || { echo "the app exited with $status after SIGTERM" >&2; return 1; }
    echo "the app quit cleanly and left nothing behind"
}
