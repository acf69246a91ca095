#!/usr/bin/env bash
# Installs the Debian packages mxspool's tests, benchmark and embedded mode need, without
# letting their maintainer scripts start daemons on standard ports. Idempotent: does nothing
# when everything is already there. Needs root (or sudo) only when something is missing.
set -euo pipefail

# MXSPOOL_RUNTIME_ONLY=1 (npm start): only what mxspool itself runs, the embedded redis-server.
if [ "${MXSPOOL_RUNTIME_ONLY:-0}" = 1 ]; then
  PKGS=(redis-server openssl)
else
  PKGS=(redis-server redis-sentinel redis-tools postfix swaks clamav-daemon clamav clamdscan spamd spamc openssl chromium prometheus)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# policy-rc.d exit 101: package scripts must not start redis/clamd/spamd/postfix on :25, :6379...
had_policy=0
[ -e /usr/sbin/policy-rc.d ] && had_policy=1
if [ $had_policy -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
fi
trap '[ $had_policy -eq 0 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
