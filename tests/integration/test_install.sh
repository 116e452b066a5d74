#!/bin/bash
# test_install: `make install DESTDIR=... PREFIX=/usr` puts every file in its
# place with the right mode, the unit file names the installed berthd and
# passes systemd-analyze verify, the definitions are installed only when
# /etc/containers.d does not exist, and `make uninstall` leaves no berth file.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

T=$(mktemp -d /tmp/btinstall.XXXXXX)
trap 'rm -rf "$T"' EXIT
D=$T/root
# A build directory of its own: the install paths are compiled in, and the
# suite's build directories must keep theirs.
mk() { make --no-print-directory -j2 BUILD="$T/build" "$@" > "$T/make.log" 2>&1; }

if mk install DESTDIR="$D" PREFIX=/usr; then ok "make install DESTDIR PREFIX=/usr"
else nok "make install DESTDIR PREFIX=/usr"; sed 's/^/# /' "$T/make.log" | tail -n 20; exit 1; fi

expect() { # path mode
  local p=$D$1 m
  if [ ! -f "$p" ]; then nok "installed $1"; return; fi
  m=$(stat -c %a "$p")
  if [ "$m" = "$2" ]; then ok "installed $1 mode $2"; else nok "installed $1 mode $m, want $2"; fi
}
expect /usr/sbin/berthd 755
expect /usr/sbin/berthctl 755
expect /usr/sbin/berth-monitor 755
expect /usr/sbin/berth-init 755
expect /usr/lib/systemd/system/berthd.service 644
expect /usr/share/berth/templates/busybox.sh 755
expect /usr/share/berth/templates/debian.sh 755
for f in conf.d/*.conf; do expect "/etc/containers.d/${f##*/}" 644; done
for f in man/*.scd; do b=${f##*/}; b=${b%.scd}; expect "/usr/share/man/man${b##*.}/$b" 644; done
expect /usr/share/bash-completion/completions/berthctl 644

# Every installed file is one of the above: nothing unexpected.
n=$(find "$D" -type f | wc -l)
want=$((4 + 1 + 2 + $(ls conf.d/*.conf | wc -l) + $(ls man/*.scd | wc -l) + 1))
if [ "$n" = "$want" ]; then ok "install puts exactly $want files"; else nok "install put $n files, want $want"; find "$D" -type f | sed 's/^/# /'; fi

U=$D/usr/lib/systemd/system/berthd.service
es=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$U")
er=$(sed -n 's/^ExecReload=\([^ ]*\).*/\1/p' "$U")
if [ "$es" = /usr/sbin/berthd ] && [ -x "$D$es" ]; then ok "unit ExecStart names the installed berthd"; else nok "unit ExecStart is '$es'"; fi
if [ "$er" = /usr/sbin/berthctl ] && [ -x "$D$er" ]; then ok "unit ExecReload names the installed berthctl"; else nok "unit ExecReload is '$er'"; fi
if grep -q @ "$U"; then nok "unit has an unsubstituted @VAR@"; else ok "unit fully substituted"; fi
# The compiled-in template directory follows PREFIX.
if strings "$D/usr/sbin/berthd" | grep -qx /usr/share/berth/templates; then ok "berthd looks for templates in /usr/share/berth/templates"
else nok "berthd does not name /usr/share/berth/templates"; fi

if command -v systemd-analyze >/dev/null; then
  # verify checks the executables exist: run it on a copy pointing into DESTDIR.
  mkdir -p "$T/units"
  sed "s|=/usr/sbin/|=$D/usr/sbin/|" "$U" > "$T/units/berthd.service"
  if SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$T/units/berthd.service" > "$T/verify.log" 2>&1 \
     && ! grep -v -e 'network-online.target' -e 'multi-user.target' "$T/verify.log" | grep -q .; then
    ok "systemd-analyze verify berthd.service"
  else nok "systemd-analyze verify berthd.service"; sed 's/^/# /' "$T/verify.log"; fi
else
  echo "# systemd-analyze not installed: verify skipped"
fi

# A second install keeps an edited /etc/containers.d as it is.
echo "# local edit" >> "$D/etc/containers.d/web.conf"
rm "$D/etc/containers.d/probe.conf"
mk install DESTDIR="$D" PREFIX=/usr
if grep -q '# local edit' "$D/etc/containers.d/web.conf" && [ ! -e "$D/etc/containers.d/probe.conf" ]; then
  ok "install leaves an existing /etc/containers.d alone"
else nok "install overwrote /etc/containers.d"; fi

if mk uninstall DESTDIR="$D" PREFIX=/usr; then ok "make uninstall"; else nok "make uninstall"; fi
left=$(find "$D" -type f ! -path "$D/etc/containers.d/*")
if [ -z "$left" ]; then ok "uninstall leaves no berth file"; else nok "uninstall left files"; echo "$left" | sed 's/^/# /'; fi
if [ -f "$D/etc/containers.d/web.conf" ]; then ok "uninstall keeps /etc/containers.d"; else nok "uninstall removed /etc/containers.d"; fi
exit $fail
