#!/usr/bin/env bash
# Builds the four Debian packages with cargo-deb (hub, kiosk, display, city), checks that each
# holds its program, its systemd unit, its settings file and its docs, has systemd check the
# units, then installs the hub's package on this machine, runs the installed program with the
# installed settings file and purges it again; and installs the city's package, has systemd
# check its unit, runs the installed program's --help and purges it. Needs the release build of
# the hub (`cargo build --release -p jiaohao-hub`); builds the kiosk, the display and the city.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh

need_tools curl:curl dpkg-deb:dpkg systemd-analyze:systemd strace:strace prlimit:util-linux
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --quiet

# The same two builds as the Xvfb scripts make, so that neither builds anything twice.
cargo build --release -p jiaohao-hub --bin jiaohao-hub -p jiaohao-kiosk --bin jiaohao-kiosk
cargo build --release -p jiaohao-hub --bin jiaohao-hub -p jiaohao-display --bin jiaohao-display
cargo deb -p jiaohao-hub --no-build --output "$work/"
cargo deb -p jiaohao-kiosk --no-build --output "$work/"
cargo deb -p jiaohao-display --no-build --output "$work/"
cargo build --release -p jiaohao-city --bin jiaohao-city
cargo deb -p jiaohao-city --no-build --output "$work/"

# contains DEB PATH...: every PATH is in the package.
contains() {
  local deb=$1 listing path
  shift
  listing=$(dpkg-deb -c "$deb" | awk '{print $6}')
  for path in "$@"; do
    grep -qx "./$path" <<<"$listing" || {
      echo "FAIL: $(basename "$deb") lacks $path; it holds:" >&2
      echo "$listing" >&2
      exit 1
    }
  done
  echo "$(basename "$deb"): $(wc -l <<<"$listing") entries, all expected files present"
}

hub_deb=$(ls "$work"/jiaohao-hub_*.deb)
kiosk_deb=$(ls "$work"/jiaohao-kiosk_*.deb)
display_deb=$(ls "$work"/jiaohao-display_*.deb)
city_deb=$(ls "$work"/jiaohao-city_*.deb)
contains "$hub_deb" usr/bin/jiaohao-hub etc/jiaohao/hub.toml \
  usr/lib/systemd/system/jiaohao-hub.service usr/lib/systemd/system/jiaohao-hub-standby.service \
  usr/share/jiaohao/halls/default.toml \
  usr/share/doc/jiaohao-hub/CONFIG.md
contains "$kiosk_deb" usr/bin/jiaohao-kiosk etc/jiaohao/kiosk.toml \
  usr/lib/systemd/user/jiaohao-kiosk.service usr/share/doc/jiaohao-kiosk/CONFIG.md
contains "$display_deb" usr/bin/jiaohao-display etc/jiaohao/display.toml \
  usr/lib/systemd/user/jiaohao-display.service usr/share/doc/jiaohao-display/CONFIG.md
contains "$city_deb" usr/bin/jiaohao-city etc/jiaohao/city.env \
  usr/lib/systemd/system/jiaohao-city.service usr/share/doc/jiaohao-city/README.md
for deb in "$hub_deb" "$kiosk_deb" "$display_deb" "$city_deb"; do
  dpkg-deb -I "$deb" conffiles | grep -q '^/etc/jiaohao/' ||
    { echo "FAIL: $(basename "$deb") does not keep its settings file as a conffile" >&2; exit 1; }
done

# systemd checks each unit against the program the package installs.
for deb in "$kiosk_deb" "$display_deb"; do
  dir="$work/$(basename "$deb" .deb)"
  dpkg-deb -x "$deb" "$dir"
  unit=$(ls "$dir"/usr/lib/systemd/user/*.service)
  # The unit names /usr/bin/…; point it at the unpacked program for the check.
  sed "s|/usr/bin/|$dir/usr/bin/|" "$unit" >"$work/$(basename "$unit")"
  mkdir -p -m 700 "$work/run"
  XDG_RUNTIME_DIR="$work/run" systemd-analyze verify --user "$work/$(basename "$unit")"
  echo "$(basename "$unit"): systemd-analyze verify is content"
done

# The hub's package, installed for real: its unit verifies, its program runs with the
# installed settings file (database and backups moved to the work folder), and it purges.
dpkg -i "$hub_deb" >/dev/null
trap 'dpkg --purge jiaohao-hub >/dev/null 2>&1 || true; cleanup' EXIT
systemd-analyze verify /usr/lib/systemd/system/jiaohao-hub.service
echo "jiaohao-hub.service: systemd-analyze verify is content"
# The standby's unit: installed, verified, and neither enabled nor started by the package.
systemd-analyze verify /usr/lib/systemd/system/jiaohao-hub-standby.service
if systemctl is-enabled jiaohao-hub-standby.service >/dev/null 2>&1 ||
  test -e /etc/systemd/system/multi-user.target.wants/jiaohao-hub-standby.service; then
  echo "FAIL: the package enabled jiaohao-hub-standby.service" >&2
  exit 1
fi
echo "jiaohao-hub-standby.service: systemd-analyze verify is content; not enabled"
port=$(free_port)
# Under the unit's open-file limit, as systemd would set it (no systemd runs here): the hub
# logs that figure at start.
nofile=$(sed -n 's/^LimitNOFILE=//p' /usr/lib/systemd/system/jiaohao-hub.service)
test -n "$nofile" || { echo "FAIL: the unit sets no LimitNOFILE" >&2; exit 1; }
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$nofile" ]; then
  # A container may not raise its hard limit (no CAP_SYS_RESOURCE): check at its own.
  echo "note: this machine's hard open-file limit $hard is below the unit's $nofile; checking at $hard"
  nofile=$hard
fi
prlimit --nofile="$nofile:$nofile" -- /usr/bin/jiaohao-hub serve --config /etc/jiaohao/hub.toml --listen "127.0.0.1:$port" \
  --db "$work/installed.db" --backup-dir "$work/backups" >"$work/installed.log" 2>&1 &
installed=$!
pids+=("$installed")
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/api/hall" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/api/hall" | grep -q '"services"' ||
  { cat "$work/installed.log"; echo "FAIL: the installed hub does not serve its hall" >&2; exit 1; }
grep -q "open files: soft limit $nofile, hard limit $nofile" "$work/installed.log" ||
  { cat "$work/installed.log"; echo "FAIL: the installed hub does not log its open-file limit $nofile" >&2; exit 1; }
echo "the installed hub logs its open-file limit: $nofile (the unit's LimitNOFILE)"
kill -TERM "$installed"
wait "$installed"

# A soft limit below the hard one (1024 under the unit's figure, as a system whose default soft
# limit is 1024 gives it): the hub raises its soft limit to the hard one and logs that it did.
# No systemd runs here, so the unit's system-call filter cannot be put on the process; instead
# strace records the call the hub raises its limit with, and that call is checked against the
# filter the unit declares, its SystemCallFilter= lines in order, each set expanded by
# systemd-analyze syscall-filter (prlimit64 is in @system-service and in neither set the unit
# takes away; setrlimit, in @resources, the unit allows again by name).
hub_unit=/usr/lib/systemd/system/jiaohao-hub.service
soft=1024
[ "$nofile" -gt "$soft" ] || soft=$((nofile / 2))
port=$(free_port)
strace -f -qq -e trace=prlimit64,setrlimit -o "$work/raise.trace" \
  prlimit --nofile="$soft:$nofile" -- /usr/bin/jiaohao-hub serve --config /etc/jiaohao/hub.toml \
  --listen "127.0.0.1:$port" --db "$work/raised.db" --backup-dir "$work/raised-backups" \
  >"$work/raised.log" 2>&1 &
tracer=$!
# strace holds off signals while it traces: stop the hub itself (strace's child), by its id.
for _ in $(seq 1 50); do
  raised_hub=$(pgrep -P "$tracer" || true)
  [ -n "$raised_hub" ] && break
  sleep 0.1
done
pids+=("$raised_hub" "$tracer")
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  sleep 0.2
done
grep -q "open files: soft limit $nofile, hard limit $nofile raised_from=$soft " "$work/raised.log" ||
  { cat "$work/raised.log"; echo "FAIL: started at $soft:$nofile, the hub does not log that it raised its soft limit to $nofile" >&2; exit 1; }
raised_by=$(sed -nE "s/^[0-9]+ +(prlimit64|setrlimit)\((0, )?RLIMIT_NOFILE, \{rlim_cur=$nofile, .*\) = 0$/\1/p" "$work/raise.trace" | head -n 1)
test -n "$raised_by" ||
  { cat "$work/raise.trace"; echo "FAIL: strace saw no call raising the soft limit to $nofile" >&2; exit 1; }
# expand_calls NAME...: the system calls NAME stands for (a set's, recursively, or itself).
expand_calls() {
  local name
  for name in "$@"; do
    case $name in
      @*) expand_calls $(systemd-analyze syscall-filter "$name" | sed -n 's/^    \([@a-z0-9_]*\)$/\1/p') ;;
      *) echo "$name" ;;
    esac
  done
}
: >"$work/permitted"
while read -r filter; do
  case $filter in
    "~"*)
      # shellcheck disable=SC2086 # a list of names
      expand_calls ${filter#\~} | sort -u >"$work/removed"
      grep -vxFf "$work/removed" "$work/permitted" >"$work/kept" || true
      mv "$work/kept" "$work/permitted"
      ;;
    # shellcheck disable=SC2086 # a list of names
    *) expand_calls $filter >>"$work/permitted" ;;
  esac
done < <(sed -n 's/^SystemCallFilter=//p' "$hub_unit")
grep -qx "$raised_by" "$work/permitted" ||
  { echo "FAIL: the hub raises its limit with $raised_by, which $hub_unit's SystemCallFilter forbids" >&2; exit 1; }
echo "started at $soft:$nofile, the installed hub raised its soft limit to $nofile with $raised_by, which the unit's system-call filter allows"
kill -TERM "$raised_hub"
wait "$tracer"
ls "$work/backups" | grep -q sqlite3 ||
  { echo "FAIL: the installed settings' daily backup was not written" >&2; exit 1; }
dpkg --purge jiaohao-hub >/dev/null
test ! -e /usr/bin/jiaohao-hub && test ! -e /etc/jiaohao/hub.toml
echo "the installed hub served its hall with /etc/jiaohao/hub.toml, stopped on SIGTERM and purged"

# The city's package, installed for real: its settings file is root's alone (it may hold the
# PostgreSQL password), its unit verifies, and the installed program runs.
dpkg -i "$city_deb" >/dev/null
trap 'dpkg --purge jiaohao-city >/dev/null 2>&1 || true; cleanup' EXIT
test "$(stat -c '%a %U' /etc/jiaohao/city.env)" = "600 root" ||
  { echo "FAIL: /etc/jiaohao/city.env is not root's alone: $(stat -c '%a %U' /etc/jiaohao/city.env)" >&2; exit 1; }
systemd-analyze verify /usr/lib/systemd/system/jiaohao-city.service
echo "jiaohao-city.service: systemd-analyze verify is content"
grep -q '^LimitNOFILE=' /usr/lib/systemd/system/jiaohao-city.service ||
  { echo "FAIL: the city's unit sets no LimitNOFILE" >&2; exit 1; }
/usr/bin/jiaohao-city --help | grep -q serve ||
  { echo "FAIL: the installed jiaohao-city does not run" >&2; exit 1; }
/usr/bin/jiaohao-city serve --help | grep -q -- --postgres ||
  { echo "FAIL: the installed jiaohao-city serve has no --postgres" >&2; exit 1; }
dpkg --purge jiaohao-city >/dev/null
test ! -e /usr/bin/jiaohao-city && test ! -e /etc/jiaohao/city.env
echo "the installed city package verified, its program ran, and it purged"
