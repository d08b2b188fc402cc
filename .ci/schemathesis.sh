#!/usr/bin/env bash
# Drives a real hub with schemathesis from its own /api/openapi.json: no answer may be a 5xx,
# every answer must fit its documented status, content type and schema, and requests the
# schema forbids must be refused. Usage: .ci/schemathesis.sh [path/to/jiaohao-hub]
set -euo pipefail
cd "$(dirname "$0")/.."
hub_bin=${1:-target/debug/jiaohao-hub}
source .ci/lib.sh
command -v st >/dev/null || python3 -m pip install -q schemathesis
start_hub
admin=$(make_token admin schemathesis)
st run "$hub/api/openapi.json" --url "$hub" \
  -H "Authorization: Bearer $admin" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
  --max-examples "${MAX_EXAMPLES:-40}" --exclude-path /api/events --seed 1
kill "$hub_pid"
wait "$hub_pid" || true
if grep -q "panicked" "$work/hub.log"; then
  echo "the hub panicked:"; grep -A5 panicked "$work/hub.log"; exit 1
fi
