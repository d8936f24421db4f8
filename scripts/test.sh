#!/usr/bin/env bash
# Runs every test of LogCaster on a fresh machine: installs what the tests
# need, then runs the unit tests, the fuzz seed corpora (as ordinary tests)
# and the end-to-end suites against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin

# Debian packages the end-to-end suites drive as real clients. Installed only
# when missing, so a machine that has them runs offline.
need=()
for pkg_cmd in "bsdutils:logger" "curl:curl" "rsyslog:rsyslogd" "python3:python3"; do
  pkg=${pkg_cmd%%:*}; cmd=${pkg_cmd##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

go mod download
go vet ./...
go test -count=1 -timeout 40m ./...
