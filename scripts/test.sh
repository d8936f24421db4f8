#!/usr/bin/env bash
# Runs every test of LogCaster on a fresh machine: installs what the tests
# need, then runs the unit tests, the fuzz seed corpora (as ordinary tests)
# and the end-to-end suites against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

# Debian packages the tests drive as real clients: logger (bsdutils),
# rsyslog, Python's SysLogHandler, and logback with logstash-logback-encoder
# compiled by javac. Installed only when missing, so a machine that has them
# runs offline.
packages=(bsdutils curl rsyslog python3 default-jdk-headless liblogback-java liblogstash-logback-encoder-java prometheus haproxy nginx libnginx-mod-stream)
need=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# A JDK from elsewhere (javac on PATH) serves as well as Debian's.
if command -v javac >/dev/null 2>&1; then
  need=("${need[@]/default-jdk-headless}")
fi
need=($(printf '%s\n' "${need[@]}" | grep -v '^$' || true))
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

go mod download
go vet ./...
go test -count=1 -timeout 40m ./...
