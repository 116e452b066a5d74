#!/bin/bash
# Integration test of issue 19, declarative templates: a private berthd
# builds `template NAME { from = "busybox" copy { } run = { } }` and a
# template layered on it (from = "TEMPLATE") in its background worker;
# containers on them wait for the first build, then the checks run inside
# them (berthctl exec). Editing a definition: plan shows the rebuild and
# the containers it restarts; reload rebuilds while the old containers keep
# running (same pid), then they restart onto the new layer, except
# update = "manual". An unchanged definition is not built again after a
# berthd restart. A failing run step fails the build (its output in
# `berthctl template logs`), and the old template stays. Bad definitions are
# FILE:LINE errors of `berthctl check`. The slow part: a Debian template
# with packages = { "nginx-light" } (debootstrap from the host's mirror)
# serves HTTP on a test network, and a package that does not exist fails
# its build with apt's message; BERTH_SKIP_SLOW=1 skips it.
# Everything below one mktemp -d, names tpl19*; the EXIT trap stops berthd,
# kills what is left and removes the dir.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="tpl19: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=tpl19
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/tpl19.XXXXXX)
STATE_DIR='' SHARED_MODE='' START_TIMEOUT=60 STOP_TIMEOUT=60
NET=198.18.219
BR=tpl19br
cleanup_extra() { ip link del "$BR" 2>/dev/null; }
trap daemon_cleanup EXIT
daemon_require ""

W=$ROOT/work
mkdir -p "$W/dir/sub"
echo hello-tpl19 > "$W/hello.txt"
echo deep > "$W/dir/sub/f"
chmod 0750 "$W/dir/sub"

env_new d
S=$D/state
# base VERSION [SLEEP]: the busybox template's block
base() {
  cat <<EOF
template ${P}base {
    from = "busybox"
    copy { source = "$W/hello.txt" target = "/srv/$P/hello.txt" }
    copy {
        source = "$W/dir"
        target = "/opt/$P"
    }
    run = { "/bin/sh", "-c", "sleep ${2:-0}; echo $1 > /etc/$P-version; rm /var/www/index.html" }
}
EOF
}
rest() {
  cat <<EOF
template ${P}app {
    from = "${P}base"
    run = { "/bin/sh", "-c", "echo app > /etc/$P-app" }
}
container $P-a { template = "${P}base" autostart = true command = { "/bin/sleep", "1000" } }
container $P-b { template = "${P}app" autostart = true command = { "/bin/sleep", "1000" } after = { "$P-a" } }
container $P-m {
    template = "${P}base"
    autostart = true
    update = "manual"
    command = { "/bin/sleep", "1000" }
}
EOF
}
{ base v1 4; rest; } > "$D/conf/t.conf"
out=$("$CTL" check -c "$D/conf" --state-dir "$S" 2>&1)
check "check accepts declarative templates ($(oneline "$out"))" test $? = 0

daemon_start || { nok "berthd did not start"; daemon_finish ""; exit 1; }
wf() { inspect "$1" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d.get("waiting_for",""))' 2>/dev/null; }
wait_until 10 eval '[ "$(wf $P-a)" = "template ${P}base" ]' &&
  ok "a container on a template being built waits for it (waiting for template ${P}base)" ||
  nok "$P-a is not waiting for its template: $(jget $P-a state) $(wf $P-a)"
ls_out=$(ctl ls 2>&1)
case $ls_out in *"waiting (for template ${P}base)"*) ok "ls shows the wait" ;;
  *) nok "ls: $(oneline "$ls_out")" ;; esac
for c in a b m; do
  wait_until 90 state_is "$P-$c" running || nok "$P-$c does not run: $(jget "$P-$c" state) $(jget "$P-$c" error)"
done

X() { ctl exec "$@" 2>&1; }
check "a copied file is there" test "$(X $P-a -- cat /srv/$P/hello.txt)" = hello-tpl19
check "a copied directory is there" test "$(X $P-a -- cat /opt/$P/sub/f)" = deep
got=$(X $P-a -- stat -c '%a %u' /opt/$P/sub)
check "a copied directory keeps its mode, owned by root ($got)" test "$got" = "750 0"
check "the run step's file is there" test "$(X $P-a -- cat /etc/$P-version)" = v1
X $P-a -- test -e /var/www/index.html && nok "a file the run step removed is still there" ||
  ok "a file of the base removed by the run step is gone (a whiteout in the layer)"
check "the busybox base is there" X $P-a -- test -x /bin/busybox
check "a layered template has its own step's file" test "$(X $P-b -- cat /etc/$P-app)" = app
check "a layered template has its parent's files" test "$(X $P-b -- cat /etc/$P-version)" = v1
layers() { "$PY" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["layers"]))' "$S/images/$1"; }
lb=$(layers ${P}base) la=$(layers ${P}app)
case $la in "$lb "*) ok "the layered template stacks one layer on its parent's ($(echo $la | wc -w) layers)" ;;
  *) nok "layers: base '$lb' app '$la'" ;; esac
logs=$(ctl template logs ${P}base --state-dir "$S" 2>&1)
case $logs in *"template '${P}base' built"*"") ok "template logs shows the build" ;;
  *) nok "template logs: $(oneline "$logs")" ;; esac
out=$(ctl template logs ${P}nosuch --state-dir "$S" 2>&1)
check "template logs of an unbuilt template says so" eval '[[ "$out" == *"no build log of template"* ]]'

# ---- edit: plan, background rebuild, swap --------------------------------------------------
pa=$(pid_of $P-a) pb=$(pid_of $P-b) pm=$(pid_of $P-m)
{ base v2 10; rest; } > "$D/conf/t.conf"
plan=$(ctl plan 2>&1)
case $plan in *"rebuild template ${P}base (run changed)"*) ok "plan shows the rebuild and why" ;;
  *) nok "plan: $(oneline "$plan")" ;; esac
printf '%s\n' "$plan" | grep -qE "then restart +$P-a " && printf '%s\n' "$plan" | grep -qE "then hold +$P-m " &&
  ok "plan lists the containers that restart on it (and the manual one)" || nok "plan: $(oneline "$plan")"
case $plan in *"rebuild template ${P}app (parent '${P}base' changed)"*) ok "plan shows the child template's rebuild" ;;
  *) nok "plan (child): $(oneline "$plan")" ;; esac
ctl reload >/dev/null 2>&1 || nok "reload failed"
sleep 1
check "the container still sees the old layer during the rebuild" test "$(X $P-a -- cat /etc/$P-version)" = v1
check "during the rebuild the old container keeps running (same pid)" test "$(pid_of $P-a)" = "$pa"
wait_until 60 eval '[ "$(pid_of $P-a)" != "$pa" ] && state_is $P-a running' &&
  ok "once the new build is ready the container restarts" || nok "$P-a did not restart: $(jget $P-a state)"
check "it runs on the new layer" test "$(X $P-a -- cat /etc/$P-version)" = v2
wait_until 60 eval '[ "$(pid_of $P-b)" != "$pb" ] && state_is $P-b running' || true
check "the container on the child template restarts onto its rebuild" test "$(X $P-b -- cat /etc/$P-version)" = v2
check "update = manual: still the old pid" test "$(pid_of $P-m)" = "$pm"
check "update = manual: still the old layer" test "$(X $P-m -- cat /etc/$P-version)" = v1
ctl restart $P-m >/dev/null 2>&1
wait_until 30 eval '[ "$(pid_of $P-m)" != "$pm" ] && state_is $P-m running' || true
check "update = manual: berthctl restart moves it onto the new layer" test "$(X $P-m -- cat /etc/$P-version)" = v2

# ---- berthd restart: no rebuild --------------------------------------------------------------
sig() { stat -c '%i %Y' "$S/tbuild/${P}base.log" "$S/tbuild/${P}app.log" "$S/images/${P}base" 2>&1; }
before=$(sig)
daemon_stop
daemon_start || nok "berthd did not start again"
for c in a b m; do wait_until 30 state_is "$P-$c" running || nok "$P-$c not running after the restart"; done
sleep 1
check "an unchanged definition is not built again after a berthd restart" test "$(sig)" = "$before"
check "... and the containers run on it" test "$(X $P-a -- cat /etc/$P-version)" = v2
st=$(inspect $P-a | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["template_build"]["status"])' 2>&1)
check "inspect shows the template's build status ($st)" test "$st" = built
plan=$(ctl plan 2>&1)
case $plan in *"rebuild template"*) nok "plan after a restart: $(oneline "$plan")" ;;
  *) ok "plan shows no rebuild for unchanged templates" ;; esac

# ---- a failing run step ----------------------------------------------------------------------
pa=$(pid_of $P-a)
sed -i "s|sleep 0; echo v2|echo $P-failing-step >\&2; exit 3; echo v3|; s|sleep 10; echo v2|echo $P-failing-step >\&2; exit 3; echo v3|" "$D/conf/t.conf"
ctl reload >/dev/null 2>&1 || nok "reload (failing step) failed"
bstat() { inspect $P-a | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["template_build"]["status"])' 2>/dev/null; }
wait_until 60 eval '[ "$(bstat)" = failed ]' && ok "a failing run step fails the build" ||
  nok "build status: $(bstat)"
logs=$(ctl template logs ${P}base --state-dir "$S" 2>&1)
case $logs in *"$P-failing-step"*"exit status 3"*) ok "the build log shows the step's output and status" ;;
  *) nok "template logs: $(oneline "$logs")" ;; esac
err=$(inspect $P-a | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["template_build"]["error"])' 2>&1)
case $err in *"run failed"*"exit status 3"*"$P-failing-step"*) ok "the error names the step and its last line" ;;
  *) nok "error: $(oneline "$err")" ;; esac
check "the old container keeps running (same pid)" test "$(pid_of $P-a)" = "$pa"
check "... on the old template" test "$(X $P-a -- cat /etc/$P-version)" = v2
left=$(ls -A "$S/tbuild" | grep -v '\.log$')
check "nothing of the failed build is left ($left)" test -z "$left"

# ---- bad input: FILE:LINE ----------------------------------------------------------------------
mkdir -p "$W/bad"
cat > "$W/bad/b.conf" <<EOF
template ${P}x { from = "${P}y" }
template ${P}y {
    from = "${P}x"
}
template ${P}u { from = "${P}nowhere" }
template ${P}c {
    from = "busybox"
    copy { source = "$W/missing" target = "/etc/m" }
    packages = { "nginx-light" }
}
template ${P}p {
    from = "debian"
    packages = { "Not_A_Package" }
}
template ${P}r { from = "${P}r" }
EOF
out=$("$CTL" check -c "$W/bad" --state-dir "$S" 2>&1)
want() { case $out in *"$1"*) ok "check: $2" ;; *) nok "check: $2: no '$1' in: $(oneline "$out")" ;; esac; }
want "b.conf:1: from: template '${P}x' is its own parent" "a cycle of two is an error at its line"
want "b.conf:3: from: template '${P}y' is its own parent" "... at both templates"
want "b.conf:15: from: template '${P}r' is its own parent" "a template that is its own parent"
want "b.conf:5: from: no template '${P}nowhere' is declared" "an unknown parent"
want "b.conf:8: copy.source: '$W/missing': No such file or directory" "a missing copy source"
want "b.conf:9: packages: template '${P}c' is built on busybox" "packages over busybox"
want "b.conf:13: packages: 'Not_A_Package' is not a Debian package name" "a bad package name"

# ---- slow: Debian with nginx-light ----------------------------------------------------------------
if [ -n "${BERTH_SKIP_SLOW:-}" ]; then
  note "BERTH_SKIP_SLOW set: the Debian template (debootstrap, apt) is not tested"
else
  sed -i "s|echo $P-failing-step >\&2; exit 3; echo v3|echo v2|" "$D/conf/t.conf"
  cat > "$D/conf/deb.conf" <<EOF
network ${P}net { subnet = "$NET.0/24" bridge = "$BR" }
template ${P}deb {
    from = "debian"
    packages = { "nginx-light" }
    run = { "/bin/sh", "-c", "echo tpl19-nginx > /var/www/html/index.html" }
}
template ${P}debbad {
    from = "${P}deb"
    packages = { "${P}-no-such-package" }
}
container $P-web {
    template = "${P}deb"
    autostart = true
    network { bridge = "${P}net" address = "$NET.10" }
    command = { "/usr/sbin/nginx", "-g", "daemon off;" }
}
EOF
  t0=$(date +%s)
  ctl reload >/dev/null 2>&1 || nok "reload (debian) failed"
  wait_until 900 state_is $P-web running || nok "$P-web does not run: $(jget $P-web state) $(jget $P-web error)"
  note "the Debian template built in $(( $(date +%s) - t0 )) s"
  body=$(curl -s -m 10 "http://$NET.10/" 2>&1)
  check "a Debian template with nginx-light serves HTTP from its container ($(oneline "$body"))" test "$body" = tpl19-nginx
  wait_until 300 eval 'ctl template logs ${P}debbad --state-dir "$S" 2>/dev/null | grep -q "build of template .${P}debbad. failed"' || true
  logs=$(ctl template logs ${P}debbad --state-dir "$S" 2>&1)
  case $logs in *"E: Unable to locate package ${P}-no-such-package"*) ok "a package that does not exist fails the build with apt's message in the log" ;;
    *) nok "debbad log: $(oneline "$(printf '%s' "$logs" | tail -n 5)")" ;; esac
  check "the failed template has no record" test ! -e "$S/images/${P}debbad"
fi

daemon_stop
daemon_finish ""
exit $fail
