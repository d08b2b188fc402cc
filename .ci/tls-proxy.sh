#!/usr/bin/env bash
# The phone side over TLS through a real reverse proxy: Debian's nginx (installed if missing)
# with the repository's packaging/nginx files and a throwaway certificate (openssl req -x509),
# run unprivileged on a free port in a temporary folder, in front of a real hub. The test
# (tests/tls_proxy.rs) reads the ticket page, its assets, its status and its live stream over
# HTTPS, checks that no staff route answers through the proxy, and that the hub's stream cap
# counts the phone's address nginx forwards (curl bound to 127.0.0.2 and 127.0.0.3), not
# nginx's. Bounded to five minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib.sh
source .ci/lib.sh
need_tools nginx:nginx-light openssl:openssl curl:curl
nginx -v
CI=true timeout 300 cargo test -p jiaohao --test system tls_proxy -- --nocapture
