#!/bin/sh
# The dashboard's browser tests (tests/integration/test_dashboard_browser.py)
# drive Debian's chromium through chromium-driver. Install both if either is
# missing: as root with apt-get, otherwise through passwordless sudo.
set -eu
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
echo "installing chromium and chromium-driver (apt) for the dashboard's browser tests"
if [ "$(id -u)" = 0 ]; then
  SUDO=
elif sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "chromium and chromium-driver are missing and this user cannot install them:" >&2
  echo "  sudo apt-get install chromium chromium-driver" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q chromium chromium-driver >/dev/null || {
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q chromium chromium-driver >/dev/null
}
