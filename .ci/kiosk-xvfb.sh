#!/usr/bin/env bash
# The ticket kiosk (jiaohao-kiosk) for real: fullscreen under Xvfb at 1920x1080 with software
# OpenGL and a window manager, against a real hub on the all-day hall, driven by real clicks
# (xdotool). Saves PNGs of the welcome, service step, ticket, English, elderly, elderly ticket,
# elderly documents, the ID screen of a service that needs the ID with its ticket and reprint,
# paused, recovered and idle screens, and prints the folder. Checks on the
# way that each click did what it should (the kiosk logs its screens), that the slip was
# printed, and that the QR codes on screen scan (zbarimg) to the ticket's public page.
#
#   .ci/kiosk-xvfb.sh
#
# Environment: PROFILE=release (default) or debug, the build used; OUT, the screenshot folder
# (target/screenshots/kiosk).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-release}
out=${OUT:-target/screenshots/kiosk}

fail() {
  echo "FAIL: $*" >&2
  echo "--- kiosk log" >&2; tail -n 40 "$work/kiosk.log" >&2 || true
  echo "--- hub log" >&2; tail -n 20 "$work/hub.log" >&2 || true
  exit 1
}
source .ci/lib.sh

# --- tools ----------------------------------------------------------------------------------
need_tools Xvfb:xvfb import:imagemagick xdotool:xdotool \
  matchbox-window-manager:matchbox-window-manager zbarimg:zbar-tools curl:curl python3:python3

# --- build ----------------------------------------------------------------------------------
if [[ $profile == release ]]; then
  cargo build --release -p jiaohao-hub --bin jiaohao-hub -p jiaohao-kiosk --bin jiaohao-kiosk
else
  cargo build -p jiaohao-hub --bin jiaohao-hub -p jiaohao-kiosk --bin jiaohao-kiosk
fi
hub_bin=target/$profile/jiaohao-hub
kiosk_bin=target/$profile/jiaohao-kiosk

# --- the hub --------------------------------------------------------------------------------
start_hub
kiosk_token=$(make_token kiosk "kiosk screenshots")
admin=$(make_token admin "kiosk screenshots")

# The default hall's names, notices, documents and fees, without its hours so the screens
# look the same at any time of day (the all-day hall has no notices and few documents); three
# people already waiting for household registration, and two windows at work. Exit-entry
# keeps its hours and a daily cap of one ticket, taken here (if within its hours): it shows
# closed, greyed with the reason and its hours, whatever the time.
api() { # METHOD PATH [JSON] [TOKEN]
  curl -fsS -X "$1" "$hub$2" -H "Authorization: Bearer ${4:-$admin}" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} >/dev/null
}
default_hall() { # hall | CODE: the default hall's settings, or one service without its hours
  python3 - "$1" <<'PY'
import json, sys, tomllib
hall = tomllib.load(open("assets/halls/default.toml", "rb"))
if sys.argv[1] == "hall":
    print(json.dumps(hall["hall"], ensure_ascii=False))
else:
    service = next(s for s in hall["service"] if s["code"] == sys.argv[1])
    # Booking settings have their own route; these screens show walk-in ticketing.
    service.pop("booking", None)
    if service["code"] == "exit_entry":
        service["daily_cap"] = 1
    else:
        service.pop("hours", None)
        service.pop("daily_cap", None)
    print(json.dumps(service, ensure_ascii=False))
PY
}
api PUT /api/hall/settings "$(default_hall hall)"
for code in hukou id_card vehicle violation exit_entry; do
  api PUT "/api/services/$code" "$(default_hall "$code")"
done
for _ in 1 2 3; do api POST /api/tickets '{"service":"hukou"}' "$kiosk_token"; done
api POST /api/tickets '{"service":"id_card"}' "$kiosk_token"
api POST /api/tickets '{"service":"exit_entry"}' "$kiosk_token" 2>/dev/null || true
api POST /api/windows/1/open
api POST /api/windows/3/open

# --- the screen -----------------------------------------------------------------------------
# -displayfd picks a free display number, so this can run beside other Xvfb suites.
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 1 50); do [[ -s $work/display ]] && break; sleep 0.1; done
exec 3>&-
[[ -s $work/display ]] || fail "Xvfb did not start"
export DISPLAY=:$(head -n 1 "$work/display")
matchbox-window-manager -use_titlebar no -use_cursor no 2>"$work/wm.log" &
pids+=($!)
sleep 0.5

# --- the kiosk ------------------------------------------------------------------------------
mkdir -p "$out"
rm -f "$out"/*.png
LIBGL_ALWAYS_SOFTWARE=1 "$kiosk_bin" --hub "$hub" --token "$kiosk_token" --fullscreen \
  --printer "file:$work/slips.bin" --public-url "https://hall.example.gov.cn" --idle-after 12 \
  >"$work/kiosk.out" 2>"$work/kiosk.log" &
kiosk_pid=$!
pids+=("$kiosk_pid")

# Waits until the kiosk's log has a line matching $1 (it logs every screen it shows).
expect_log() {
  for _ in $(seq 1 100); do
    grep -q -- "$1" "$work/kiosk.log" 2>/dev/null && return 0
    kill -0 "$kiosk_pid" 2>/dev/null || fail "the kiosk exited"
    sleep 0.1
  done
  fail "the kiosk never logged '$1'"
}
shot() { # NAME: a screenshot of the whole screen, after the screen has settled
  sleep "${2:-1.2}"
  import -window root "$out/$1.png"
  echo "  $out/$1.png"
}
click() { # X Y: a moment after the last screen appeared, as a person taps (the kiosk ignores
  # taps in its first 0.4 s as bounces)
  sleep 0.8
  xdotool mousemove "$1" "$2" click 1
}

timeout 60 xdotool search --sync --onlyvisible --class jiaohao-kiosk >/dev/null 2>&1 \
  || fail "the kiosk window did not appear"
geometry=$(xdotool search --onlyvisible --class jiaohao-kiosk getwindowgeometry | grep Geometry)
echo "kiosk window: $geometry"
[[ $geometry == *1920x1080* ]] || fail "the kiosk is not fullscreen: $geometry"

# Positions on the 1920x1080 layout (kiosk/src/app.rs): header buttons at y 60 (84 in the
# elderly mode), the first service button, the take-a-ticket button.
header_y=60
language_x=1796
elderly_x=1574
hukou=(335 441)
take=(490 443)
done_button=(124 60)

echo "screenshots:"
shot welcome 2.5
click "${hukou[@]}";        expect_log "screen=service hukou";  shot service
click "${take[@]}";         expect_log "screen=ticket A004";    shot ticket 2
grep -q "A004" <(LC_ALL=C tr -c '[:print:]' ' ' <"$work/slips.bin") \
  || fail "the slip for A004 was not printed"
scans() { # NAME: the QR code in the screenshot scans to a ticket page
  zbarimg -q --raw "$out/$1.png" 2>/dev/null | grep -q '^https://hall.example.gov.cn/t/' \
    || fail "the QR code in $1.png does not scan to a ticket page"
}
scans ticket
click "${done_button[@]}";  expect_log "screen=welcome"
click "$language_x" "$header_y"; expect_log "lang=En";          shot welcome-en
click "$language_x" "$header_y"; expect_log "lang=Zh"
click "$elderly_x" "$header_y";  expect_log "elderly=true";     shot elderly
click 492 464;              expect_log "screen=service hukou"
click 540 560;              expect_log "screen=ticket A005";    shot elderly-ticket 2
scans elderly-ticket
click 1428 768;             expect_log "documents=true";        shot elderly-documents
click 365 960;              expect_log "documents=false"
# Done: the next citizen gets the standard mode again.
click 174 84;               expect_log "screen=welcome"

# A service that needs the ID: the kiosk asks for it, a keyboard-mode reader's line (typed
# characters and Enter) takes the ticket, and the same person again gets a reprint.
vehicle_id=$(default_hall vehicle | python3 -c 'import json, sys; s = json.load(sys.stdin); s["identity"] = "required"; print(json.dumps(s, ensure_ascii=False))')
api PUT /api/services/vehicle "$vehicle_id"
vehicle=(1585 441)
card() { # a card laid on a keyboard-mode reader: its number typed, then Enter
  sleep 0.8
  xdotool type --delay 30 11010519491231002X
  xdotool key Return
}
sleep 1
click "${vehicle[@]}";      expect_log "screen=service vehicle"; shot service-id-required
click "${take[@]}";         expect_log "screen=identify vehicle"; shot identify
card;                       expect_log "screen=ticket C001";    shot ticket-id 2
click "${done_button[@]}";  expect_log "screen=welcome"
click "${vehicle[@]}";      expect_log "screen=service vehicle"
card;                       expect_log "ticket reprinted";      shot ticket-reprint 2
click "${done_button[@]}";  expect_log "screen=welcome"

kill -TERM "$hub_pid"
wait "$hub_pid" 2>/dev/null || true
shot paused 2
start_hub
shot recovered 7
expect_log "screen=idle";   shot idle 1.5

# Idle, the kiosk asks for no frames (only timers and the hub's events wake it): its own CPU
# time over 10 s, whatever else the machine is doing.
ticks() { awk '{print $14 + $15}' "/proc/$kiosk_pid/stat"; }
before=$(ticks)
sleep 10
after=$(ticks)
permille=$(( (after - before) * 1000 / $(getconf CLK_TCK) / 10 ))
echo "idle CPU: $((permille / 10)).$((permille % 10))% of a core over 10 s"
(( permille <= 50 )) || fail "the kiosk uses more than 5% of a core while idle"
echo "saved to $out"
