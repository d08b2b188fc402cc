#!/usr/bin/env bash
# The browser suite: Debian's Chromium, headless, driven over WebDriver (its chromedriver) from
# Rust against a real hub in the test process. Installs what it needs with apt-get, runs the
# suite with JIAOHAO_BROWSER_TESTS=1 (so a missing browser fails instead of skipping), and
# prints where the screenshots of every page are.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for package in chromium chromium-driver fonts-noto-cjk; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
JIAOHAO_BROWSER_TESTS=1 cargo test -p jiaohao --test browser
echo "browser screenshots: $(pwd)/target/screenshots/web"
ls target/screenshots/web
