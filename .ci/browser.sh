#!/usr/bin/env bash
# The browser suite: Debian's Chromium, headless, driven over WebDriver (its chromedriver) from
# Rust against a real hub in the test process. Installs what it needs with apt-get, runs the
# suite with JIAOHAO_BROWSER_TESTS=1 (so a missing browser fails instead of skipping), and
# prints where the screenshots of every page are. The city's pages also need PostgreSQL: a
# throwaway cluster (scripts/pg-throwaway.sh) is started here unless JIAOHAO_TEST_POSTGRES is
# already set; without PostgreSQL 15 that part says SKIPPED, and under CI=true it fails.
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
if [ -z "${JIAOHAO_TEST_POSTGRES:-}" ]; then
  if [ "${CI:-}" = true ] && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    eval "$(bash scripts/pg-throwaway.sh start)"
    export JIAOHAO_TEST_POSTGRES JIAOHAO_PG_DIR
    trap 'bash scripts/pg-throwaway.sh stop "$JIAOHAO_PG_DIR"' EXIT
  else
    echo "*** no PostgreSQL 15: the city's pages will be SKIPPED (apt-get install postgresql) ***"
  fi
fi
JIAOHAO_BROWSER_TESTS=1 cargo test -p jiaohao --test browser
shots=${CARGO_TARGET_DIR:-$(pwd)/target}/screenshots/web
echo "browser screenshots: $shots"
ls "$shots"
