# Shared by the scripts: a running Docker engine and the test images, without a registry.

# Starts Docker (installing Debian's docker.io where missing) unless one answers already.
# Returns non-zero, with a message, where no engine can be had.
ensure_docker() {
    if docker_answers; then return 0; fi
    if ! command -v dockerd >/dev/null 2>&1; then
        ensure_packages docker.io || { echo "cannot install docker.io" >&2; return 1; }
    fi
    step "starting the Docker engine"
    if command -v systemctl >/dev/null 2>&1 && systemctl start docker 2>/dev/null && docker_answers_within 30; then
        return 0
    fi
    as_root sh -c 'nohup dockerd >/tmp/clara-dockerd.log 2>&1 &'
    if docker_answers_within 60; then return 0; fi
    echo "the Docker engine did not start; its log:" >&2
    tail -20 /tmp/clara-dockerd.log >&2 || true
    return 1
}

# Stops the Docker engine (systemd's, or a dockerd started as above) and waits until it is
# gone: for the test that stops Docker under running containers.
stop_docker() {
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker 2>/dev/null; then
        as_root systemctl stop docker.socket docker
    else
        as_root pkill -TERM -x dockerd || true
    fi
    for _ in $(seq 1 90); do
        if ! pgrep -x dockerd >/dev/null && ! docker_answers; then return 0; fi
        sleep 1
    done
    echo "the Docker engine did not stop within 90 s" >&2
    return 1
}

docker_answers() {
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

docker_answers_within() {
    local seconds=$1
    for _ in $(seq 1 "$seconds"); do
        if docker_answers; then return 0; fi
        sleep 1
    done
    return 1
}

# Images the tests use, made from busybox-static with no registry:
#   clara-test/busybox:1          busybox applets, /tmp, /www with an index page
#   clara-test/busybox-health:1   the same, with a HEALTHCHECK on /tmp/healthy
build_test_images() {
    ensure_packages busybox-static
    if docker image inspect clara-test/busybox:1 clara-test/busybox-health:1 >/dev/null 2>&1; then
        return 0
    fi
    step "making the test images"
    local root
    root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in sh httpd sleep touch test echo cat true false rm ls mkdir env kill wget nc printf; do
        ln -s busybox "$root/bin/$applet"
    done
    echo '<html><body>clara test page</body></html>' > "$root/www/index.html"
    echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
    tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - clara-test/busybox:1 >/dev/null
    rm -rf "$root"
    local context
    context=$(mktemp -d)
    printf 'FROM clara-test/busybox:1\nHEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD test -f /tmp/healthy\n' > "$context/Dockerfile"
    DOCKER_BUILDKIT=0 docker build -q -t clara-test/busybox-health:1 "$context" >/dev/null 2>&1
    rm -rf "$context"
}
