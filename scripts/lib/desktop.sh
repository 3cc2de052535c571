# Shared by the scripts: what the desktop app needs to build, run and be tested.

# Debian/Ubuntu packages for Tauri 2 on Linux, a headless display, WebKit's WebDriver,
# a D-Bus session, ImageMagick for screenshots, Node.js for the web UI's tests, and MinGW
# for checking the app's Windows build (its resource compiler).
ensure_desktop_packages() {
    ensure_packages libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev \
        libssl-dev build-essential pkg-config file xvfb xauth libgl1-mesa-dri webkit2gtk-driver dbus \
        imagemagick gcc-mingw-w64-x86-64
    if ! command -v node >/dev/null 2>&1; then ensure_packages nodejs; fi
}

# tauri-driver, the WebDriver intermediary for Tauri apps.
ensure_tauri_driver() {
    if [ -x "$HOME/.cargo/bin/tauri-driver" ] || command -v tauri-driver >/dev/null 2>&1; then return 0; fi
    step "installing tauri-driver"
    cargo install tauri-driver --locked
}
