#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and demos: Debian's PostgreSQL 15 in a temporary
# folder, on a free port of 127.0.0.1, run by the unprivileged `postgres` user (root cannot run
# it), trusting local connections. Nothing outside the folder is touched.
#
#   scripts/pg-throwaway.sh start [DIR]   starts it, prints `export JIAOHAO_PG_DIR=…` and
#                                         `export JIAOHAO_TEST_POSTGRES=postgres://…` on stdout
#                                         (the last line) and where it runs on stderr
#   scripts/pg-throwaway.sh stop DIR      stops it and removes the folder
#   scripts/pg-throwaway.sh restart DIR   restarts it on the same port (fault tests)
#   scripts/pg-throwaway.sh down DIR      stops it and keeps the folder (fault tests: an outage)
#   scripts/pg-throwaway.sh up DIR        starts it again after `down`, on the same port
#
# Use it in a shell:  eval "$(scripts/pg-throwaway.sh start)"; … ; scripts/pg-throwaway.sh stop "$JIAOHAO_PG_DIR"
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  if [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL 15 is not installed: apt-get install -y postgresql" >&2
    exit 1
  fi
  dir=${2:-$(mktemp -d /tmp/jiaohao-pg.XXXXXX)}
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # A free port: try random ones until PostgreSQL can listen on one.
  started=
  for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    if as_pg "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" \
      -l "$dir/log" -w -t 30 start >/dev/null 2>&1; then
      started=1
      break
    fi
  done
  [ -n "$started" ] || { cat "$dir/log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  echo "PostgreSQL 15 running in $dir on 127.0.0.1:$port" >&2
  echo "export JIAOHAO_PG_DIR=$dir"
  echo "export JIAOHAO_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres"
  ;;
stop)
  dir=${2:?usage: pg-throwaway.sh stop DIR}
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
restart)
  dir=${2:?usage: pg-throwaway.sh restart DIR}
  port=$(cat "$dir/port")
  as_pg "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" \
    -l "$dir/log" -m fast -w restart >/dev/null
  ;;
up)
  dir=${2:?usage: pg-throwaway.sh up DIR}
  port=$(cat "$dir/port")
  as_pg "$bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=127.0.0.1" \
    -l "$dir/log" -w -t 30 start >/dev/null
  ;;
down)
  dir=${2:?usage: pg-throwaway.sh down DIR}
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
*)
  echo "usage: pg-throwaway.sh start [DIR] | stop DIR | restart DIR | down DIR | up DIR" >&2
  exit 2
  ;;
esac
