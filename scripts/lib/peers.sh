# The supervisors the benchmark compares ours with, installed where missing:
# s6 and docker-compose from Debian, supervisord from PyPI (in a virtual environment),
# pm2 from npm, both under the folder given (e.g. target/bench/peers).
ensure_peers() {
    local dir=$1
    ensure_packages s6 docker-compose
    # Debian's python3 makes virtual environments only with python3-venv (ensurepip).
    python3 -c 'import ensurepip' >/dev/null 2>&1 || ensure_packages python3 python3-venv
    command -v npm >/dev/null 2>&1 || ensure_packages nodejs npm
    mkdir -p "$dir"
    if [ ! -x "$dir/venv/bin/supervisord" ]; then
        step "installing supervisord from PyPI"
        python3 -m venv "$dir/venv"
        "$dir/venv/bin/pip" install -q supervisor
    fi
    if [ ! -x "$dir/npm/node_modules/.bin/pm2" ]; then
        step "installing pm2 from npm"
        npm install --prefix "$dir/npm" --silent --no-audit --no-fund pm2
    fi
}
