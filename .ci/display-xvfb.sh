#!/usr/bin/env bash
# The wall display (jiaohao-display) for real, under Xvfb, against a real hub on the all-day
# hall with the default hall's notices, after some tickets were issued and called with curl.
#
#   .ci/display-xvfb.sh [screenshots]       saves PNGs of hall mode (landscape 1920x1080 and
#                                            portrait 1080x1920) and window mode; prints where
#   .ci/display-xvfb.sh idle-cpu [SECONDS]  the display's CPU use while idle over SECONDS (60)
#
# Environment: PROFILE=release (default) or debug, the build used; OUT, the screenshot folder
# (target/screenshots/display); for idle-cpu, SIZE (1920x1080), DISPLAY_ARGS (such as
# "--window 3"), NOTICES=off (the hall without notices) and MAX_CPU (5: fail above 5 % of a
# core).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-screenshots}
profile=${PROFILE:-release}
out=${OUT:-target/screenshots/display}

source .ci/lib.sh

# --- tools ----------------------------------------------------------------------------------
need_tools Xvfb:xvfb import:imagemagick xdpyinfo:x11-utils curl:curl python3:python3

# --- build ----------------------------------------------------------------------------------
if [[ $profile == release ]]; then
  cargo build --release -p jiaohao-hub --bin jiaohao-hub -p jiaohao-display --bin jiaohao-display
else
  cargo build -p jiaohao-hub --bin jiaohao-hub -p jiaohao-display --bin jiaohao-display
fi
hub_bin=target/$profile/jiaohao-hub
display_bin=target/$profile/jiaohao-display

# --- the hub --------------------------------------------------------------------------------
# The morning below is thirty tickets from one kiosk token in a second: more than a kiosk's
# rate limit lets through, so the limit is off for this hall.
HUB_ARGS="--ticket-limit off"
start_hub
admin=$(make_token admin screenshots)
kiosk=$(make_token kiosk screenshots)

api() { # METHOD PATH [JSON] — as the admin, or as the kiosk for tickets
  local token=$admin
  [[ $2 == /api/tickets ]] && token=$kiosk
  curl -fsS -X "$1" "$hub$2" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} >/dev/null
}

# The default hall's name and notices (警务公开), so the ticker has something to say.
settings=$(python3 - "${NOTICES:-on}" <<'PY'
import json, sys, tomllib
hall = tomllib.load(open("assets/halls/default.toml", "rb"))["hall"]
if sys.argv[1] == "off":
    hall["notices_zh"], hall["notices_en"] = [], []
print(json.dumps(hall, ensure_ascii=False))
PY
)
api PUT /api/hall/settings "$settings"

# A morning's work: eight windows open, one of them paused, two closed; tickets of every
# service; calls at every open window, some finished.
for w in 1 2 3 5 6 7 9 10; do api POST "/api/windows/$w/open"; done
issue() { for _ in $(seq 1 "$2"); do api POST /api/tickets "{\"service\":\"$1\"}"; done; }
issue hukou 9; issue id_card 7; issue vehicle 5; issue violation 4; issue exit_entry 5
for w in 1 2 5 9 10 7 1 2; do
  api POST "/api/windows/$w/finish" 2>/dev/null || true
  api POST "/api/windows/$w/call-next"
done
api POST /api/windows/6/pause '{"reason":"午间休息"}'

# --- the display under Xvfb -----------------------------------------------------------------
screen_no=90
start_display() { # WIDTH HEIGHT ARGS… — sets display_pid and x
  local width=$1 height=$2
  shift 2
  screen_no=$((screen_no + 1))
  x=:$screen_no
  Xvfb "$x" -screen 0 "${width}x${height}x24" -nolisten tcp >"$work/xvfb$screen_no.log" 2>&1 &
  pids+=($!)
  xvfb_pid=$!
  for _ in $(seq 1 100); do
    xdpyinfo -display "$x" >/dev/null 2>&1 && break
    sleep 0.1
  done
  DISPLAY=$x "$display_bin" --hub "$hub" --size "${width}x${height}" \
    --audio-out "file:$work/voice$screen_no" "$@" 2>"$work/display$screen_no.log" &
  display_pid=$!
  pids+=("$display_pid")
  # Wait until the window is mapped and has drawn the hall (the log says it connected).
  for _ in $(seq 1 150); do
    xwininfo -display "$x" -root -tree 2>/dev/null | grep -q jiaohao && break
    sleep 0.1
  done
  sleep 2
}

stop_display() {
  kill "$display_pid" "$xvfb_pid" 2>/dev/null || true
  wait "$display_pid" "$xvfb_pid" 2>/dev/null || true
}

shot() { # NAME
  import -display "$x" -window root "$out/$1.png"
  echo "  $out/$1.png"
}

call_now() { # WINDOW: finish its ticket and call the next, so the screen shows a fresh call
  api POST "/api/windows/$1/finish" 2>/dev/null || true
  api POST "/api/windows/$1/call-next"
  sleep 1.5
}

case $mode in
screenshots)
  mkdir -p "$out"
  rm -f "$out"/*.png
  echo "screenshots of the display:"

  start_display 1920 1080
  call_now 3
  shot hall-landscape
  sleep 10 # the highlight is over: the screen at rest
  shot hall-landscape-rest
  kill "$hub_pid"; wait "$hub_pid" 2>/dev/null || true
  sleep 2
  shot hall-landscape-reconnecting
  start_hub
  sleep 6 # the link retries with a backoff of up to 5 s
  shot hall-landscape-reconnected
  stop_display

  start_display 1080 1920 --fullscreen
  call_now 1
  shot hall-portrait
  stop_display

  start_display 1280 720 --window 3
  call_now 3
  shot window-3
  stop_display

  start_display 1280 720 --window 6
  shot window-6-paused
  stop_display

  if grep -h "panicked" "$work"/display*.log; then exit 1; fi
  echo "saved in $out"
  ;;

idle-cpu)
  seconds=${2:-60}
  size=${SIZE:-1920x1080}
  # shellcheck disable=SC2086 # DISPLAY_ARGS is a list of arguments
  start_display "${size%x*}" "${size#*x}" ${DISPLAY_ARGS:-}
  # Let the last highlight end and the start settle before measuring.
  sleep 12
  ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  d0=$(ticks "$display_pid"); x0=$(ticks "$xvfb_pid")
  sleep "$seconds"
  d1=$(ticks "$display_pid"); x1=$(ticks "$xvfb_pid")
  hz=$(getconf CLK_TCK)
  notices=${NOTICES:-on}
  report=$(awk -v d=$((d1 - d0)) -v x=$((x1 - x0)) -v hz="$hz" -v s="$seconds" -v n="$notices" \
    -v size="$size" -v args="${DISPLAY_ARGS:+$DISPLAY_ARGS }" 'BEGIN {
    printf "idle for %d s at %s %s(hall notices %s): jiaohao-display %.1f%% of one core (%.2f s CPU), Xvfb %.1f%%\n",
      s, size, args, n, 100 * d / hz / s, d / hz, 100 * x / hz / s
  }')
  echo "$report"
  # Idle means next to nothing: fail above MAX_CPU percent of one core (default 5).
  percent=$(awk -v d=$((d1 - d0)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.1f", 100 * d / hz / s }')
  if awk -v p="$percent" -v max="${MAX_CPU:-5}" 'BEGIN { exit !(p > max) }'; then
    echo "the idle display used more than ${MAX_CPU:-5}% of a core"
    exit 1
  fi
  stop_display
  ;;

*)
  echo "usage: $0 [screenshots | idle-cpu [SECONDS]]" >&2
  exit 2
  ;;
esac
