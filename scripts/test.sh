#!/usr/bin/env bash
# Runs every test of LogCaster on a fresh machine: installs what the tests
# need, then runs the unit tests, the fuzz seed corpora (as ordinary tests)
# and the end-to-end suites against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

# Debian packages the tests drive as real clients: logger (bsdutils),
# rsyslog, Python's SysLogHandler, and logback with logstash-logback-encoder
# compiled by javac, Prometheus, HAProxy, nginx, headless Chromium with a
# Korean font for the web UI tests, and Node.js for the Sentry JavaScript SDK.
# Installed only when missing, so a machine that has them
# runs offline.
packages=(bsdutils curl rsyslog python3 default-jdk-headless liblogback-java liblogstash-logback-encoder-java prometheus haproxy nginx libnginx-mod-stream chromium fonts-nanum nodejs npm)
need=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# A JDK or Node.js from elsewhere (on PATH) serves as well as Debian's.
if command -v javac >/dev/null 2>&1; then
  need=("${need[@]/default-jdk-headless}")
fi
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  need=("${need[@]/nodejs}"); need=("${need[@]/npm}")
fi
need=($(printf '%s\n' "${need[@]}" | grep -v '^$' || true))
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

go mod download
# npm packages the end-to-end tests run (the Sentry JavaScript SDK), pinned by
# their package-lock.json files.
for dir in e2e/testdata/*/; do
  if [ -f "$dir/package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
go vet ./...
go test -count=1 -timeout 40m ./...
