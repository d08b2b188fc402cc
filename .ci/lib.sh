# Shared by the .ci scripts that run a real hub binary: installing missing tools, a work folder
# whose processes are stopped on exit, and a hub on a free loopback port.
#
#   source .ci/lib.sh
#   need_tools Xvfb:xvfb curl:curl        # COMMAND:DEBIAN-PACKAGE pairs, installed if missing
#   hub_bin=target/release/jiaohao-hub
#   start_hub                             # sets port, hub (its URL), db, hub_pid
#   admin=$(make_token admin NAME)
#
# `start_hub` calls `fail` (define your own before it to print more) when the hub does not
# answer within 10 s. HUB_LOG is where the hub writes (default "$work/hub.log").

need_tools() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

if ! declare -F fail >/dev/null; then
  fail() {
    echo "FAIL: $*" >&2
    echo "--- hub log" >&2; tail -n 20 "${HUB_LOG:-$work/hub.log}" >&2 || true
    exit 1
  }
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts "$hub_bin" on the all-day hall (or HALL), on the same port and database when called
# again after a stop, with HUB_ARGS added to `serve`.
start_hub() {
  port=${port:-$(free_port)}
  hub=http://127.0.0.1:$port
  db=${db:-$work/hall.db}
  # shellcheck disable=SC2086 # HUB_ARGS is a list of arguments
  "$hub_bin" serve --db "$db" --listen "127.0.0.1:$port" --hall "${HALL:-tests/halls/allday.toml}" \
    ${HUB_ARGS:-} 2>>"${HUB_LOG:-$work/hub.log}" &
  hub_pid=$!
  pids+=("$hub_pid")
  for _ in $(seq 1 100); do
    curl -fsS "$hub/api/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "the hub did not start"
}

make_token() { # ROLE NAME: a new token of the running hub's database
  "$hub_bin" token create --db "$db" --role "$1" --name "$2"
}
