#!/usr/bin/env bash
# Runs the whole DPS on this machine: the portal, five services, each as web,
# consumer and relay, and a local SMTP server keeping each message as a file in
# data/mail (seventeen processes under honcho). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export DPS_DATA_DIR="${DPS_DATA_DIR:-$PWD/data}"
# The development secret: for this machine only. Production sets its own
# DPS_JWT_SECRET (or DPS_JWT_PUBLIC_KEY) - see docs/operations.md.
export DPS_JWT_SECRET="${DPS_JWT_SECRET:-dps-development-secret-do-not-use-in-production}"
# Tokens are bound to this deployment: `dps token` and the demo mint for these by default.
export DPS_JWT_ISSUER="${DPS_JWT_ISSUER:-dps-development}"
export DPS_JWT_AUDIENCE="${DPS_JWT_AUDIENCE:-dps-development}"
export PYTHONUNBUFFERED=1
# The portal signs the signed-in person's tokens with its own key pair (made once under data/); the
# services accept its public key beside the development secret, which `dps token` keeps using.
dps portal-keys
export DPS_PORTAL_JWT_PRIVATE_KEY_FILE="${DPS_PORTAL_JWT_PRIVATE_KEY_FILE:-$DPS_DATA_DIR/portal-jwt-private.pem}"
export DPS_JWT_PUBLIC_KEY_FILE="${DPS_JWT_PUBLIC_KEY_FILE:-$DPS_DATA_DIR/portal-jwt-public.pem}"
export DPS_PORTAL_SECRET_KEY="${DPS_PORTAL_SECRET_KEY:-dps-portal-development-session-secret-not-for-production}"
export DPS_PORTAL_DEVELOPMENT_SIGN_IN="${DPS_PORTAL_DEVELOPMENT_SIGN_IN:-true}"
export DPS_PORTAL_PORT="${DPS_PORTAL_PORT:-8000}"

dps migrate
honcho -f deploy/Procfile start &
honcho_pid=$!
stop() { kill -TERM "$honcho_pid" 2>/dev/null || true; wait "$honcho_pid" 2>/dev/null || true; exit 0; }
trap stop INT TERM

if dps wait-ready --portal --timeout 90; then
  cat <<MSG

  The DPS is running:
    the portal         http://${DPS_PORTAL_HOST:-127.0.0.1}:${DPS_PORTAL_PORT}   (development sign-in:
                       "sign in as a manager / an officer of a team / a user of a provider")

    provider registry  http://${DPS_PROVIDER_REGISTRY_HOST:-127.0.0.1}:${DPS_PROVIDER_REGISTRY_PORT:-8001}/docs
    referrals          http://${DPS_REFERRALS_HOST:-127.0.0.1}:${DPS_REFERRALS_PORT:-8002}/docs
    awards             http://${DPS_AWARDS_HOST:-127.0.0.1}:${DPS_AWARDS_PORT:-8003}/docs
    tracking           http://${DPS_TRACKING_HOST:-127.0.0.1}:${DPS_TRACKING_PORT:-8004}/docs
    notifications      http://${DPS_NOTIFICATIONS_HOST:-127.0.0.1}:${DPS_NOTIFICATIONS_PORT:-8005}/docs
    mail sent          each message is a file in ${DPS_DATA_DIR}/mail (the local SMTP server, 127.0.0.1:1025)

  A token (development secret):  .venv/bin/dps token --role officer --team exclusions
                                 .venv/bin/dps token --role manager
                                 .venv/bin/dps token --role provider --provider-id <uuid>
  Then: curl -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8001/v1/...
  Ctrl-C stops everything.

MSG
fi
wait "$honcho_pid"
