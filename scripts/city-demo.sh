#!/usr/bin/env bash
# The city service on one machine: a throwaway PostgreSQL 15, two demo halls with simulated
# citizens (`jiaohao --simulate`), each giving the city an `ingest` token, and `jiaohao-city
# serve` following both. Ctrl-C stops everything and removes the temporary folders.
#
#   scripts/city-demo.sh            then open http://127.0.0.1:8090/ (admin / city-demo-2026)
#
# Ports: JIAOHAO_CITY_DEMO_PORTS="8081 8082 8090" (hall 1, hall 2, city).
set -euo pipefail
cd "$(dirname "$0")/.."

read -r port1 port2 city_port <<<"${JIAOHAO_CITY_DEMO_PORTS:-8081 8082 8090}"
cargo build -p jiaohao -p jiaohao-hub -p jiaohao-city
bin=${CARGO_TARGET_DIR:-target}/debug
work=$(mktemp -d /tmp/jiaohao-city-demo.XXXXXX)
pids=()
eval "$(bash scripts/pg-throwaway.sh start)"
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash scripts/pg-throwaway.sh stop "$JIAOHAO_PG_DIR"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

postgres=$JIAOHAO_TEST_POSTGRES
key="$work/jiaohao-city.key"
n=0
for hall in "清河县:$port1" "东城区:$port2"; do
  n=$((n + 1))
  name=${hall%%:*}
  port=${hall##*:}
  mkdir -p "$work/hall$n"
  "$bin/jiaohao" --data "$work/hall$n" --listen "127.0.0.1:$port" --no-windows --simulate \
    >"$work/hall$n/out.txt" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q "api/hall" "$work/hall$n/out.txt" 2>/dev/null && break
    sleep 0.2
  done
  token=$("$bin/jiaohao-hub" token create --db "$work/hall$n/jiaohao-simulated.db" --role ingest --name city)
  "$bin/jiaohao-city" hall add --postgres "$postgres" --key-file "$key" --name "$name" \
    --url "http://127.0.0.1:$port" --token "$token"
  echo "hall $name: http://127.0.0.1:$port/"
done
JIAOHAO_CITY_PASSWORD=city-demo-2026 "$bin/jiaohao-city" user add --postgres "$postgres" --name admin --role city_admin
echo "city: http://127.0.0.1:$city_port/  (sign in as admin / city-demo-2026; Ctrl-C stops everything)"
"$bin/jiaohao-city" serve --postgres "$postgres" --key-file "$key" --listen "127.0.0.1:$city_port" &
pids+=($!)
wait "${pids[-1]}"
