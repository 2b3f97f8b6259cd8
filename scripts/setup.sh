#!/usr/bin/env bash
# Prepares this machine to run (`setup.sh run`) or test (`setup.sh test`) the DPS.
# On a fresh Debian or Ubuntu machine, as root, it installs what is missing
# from Debian's packages; as another user it says exactly what to install.
set -euo pipefail
mode="${1:-run}"
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
is_root() { [ "$(id -u)" = 0 ]; }
apt_updated=""
apt_install() {
  if is_root; then
    if [ -z "$apt_updated" ]; then
      say "apt-get update"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      apt_updated=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "Missing: $*. Install with: sudo apt-get update && sudo apt-get install -y $*" >&2
    exit 1
  fi
}

# --- Python and the virtual environment -------------------------------------
command -v python3 >/dev/null || apt_install python3 python3-venv
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "Python 3.11 or newer is needed (found $(python3 --version))." >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv

stamp_of() { echo ".venv/.installed-$1-$(sha256sum "$1" pyproject.toml | sha256sum | cut -c1-16)"; }
lock=requirements.lock
[ "$mode" = test ] && lock=requirements-dev.lock
stamp=$(stamp_of "$lock")
# the test lock is a superset of the run lock: either will do for running
if [ ! -f "$stamp" ] && ! { [ "$mode" = run ] && [ -f "$(stamp_of requirements-dev.lock)" ]; }; then
  say "Creating .venv from $lock"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -r "$lock"
  .venv/bin/python -m pip install -q --no-deps -e .
  rm -f .venv/.installed-"$lock"-*
  touch "$stamp"
fi

# --- The portal's browser assets: GOV.UK Frontend from the npm registry, pinned by package-lock.json ---------
command -v npm >/dev/null || apt_install nodejs npm
portal=services/portal
lock_hash=$(sha256sum "$portal/package-lock.json" | cut -c1-16)
# the test install (with axe-core, the browser tests' checker) serves for running too
if [ ! -f "$portal/node_modules/.installed-test-$lock_hash" ] && [ ! -f "$portal/node_modules/.installed-$mode-$lock_hash" ]; then
  say "npm ci in $portal (GOV.UK Frontend$([ "$mode" = test ] && echo ', axe-core'))"
  npm ci --prefix "$portal" --no-audit --no-fund $([ "$mode" = run ] && echo --omit=dev) >/dev/null
  touch "$portal/node_modules/.installed-$mode-$lock_hash"
fi

# --- RabbitMQ ---------------------------------------------------------------------
rabbit_installed() { [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || command -v rabbitmq-server >/dev/null; }
if [ -n "${DPS_AMQP_URL:-}" ] && [ "$mode" = run ]; then
  say "Using the broker at DPS_AMQP_URL"
else
  rabbit_installed || apt_install rabbitmq-server
  if [ "$mode" = run ]; then
    amqp_open() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
    if ! amqp_open; then
      say "Starting RabbitMQ"
      if is_root; then
        service rabbitmq-server start >/dev/null 2>&1 || rabbitmq-server -detached
      else
        echo "RabbitMQ is installed but not running: start it with 'sudo service rabbitmq-server start'." >&2
        exit 1
      fi
      for _ in $(seq 1 90); do amqp_open && break; sleep 1; done
      amqp_open || { echo "RabbitMQ did not start: see /var/log/rabbitmq/" >&2; exit 1; }
    fi
  fi
fi

# --- PostgreSQL (tests start a throwaway cluster from Debian's binaries) ---------------
if [ "$mode" = test ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
  # validates deploy/compose.yaml offline (needs no Docker engine)
  command -v docker-compose >/dev/null || apt_install docker-compose
  # the portal's browser tests drive Debian's Chromium through Playwright (no browser download)
  command -v chromium >/dev/null || apt_install chromium
fi
say "Set-up done ($mode)"
