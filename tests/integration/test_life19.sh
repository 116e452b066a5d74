#!/bin/bash
# Integration test of issue 19's template lifecycle: `template ls` (size,
# layers, shared bytes, time, users; --json), `template remove` refusing a
# template in use and collecting the layers no other template has,
# `template prune`; the stores after a kill -9 at each crash point of an
# import and a remove (cleaned at berthd's next start); an image's
# Healthcheck as the container's health check (and a definition's own block
# overriding it); an image with a device node and a setuid file used by an
# idmapped container. Images are made with umoci (a busybox base layer) and
# python (docker-archives with a config of their own). A private berthd
# runs real containers; checks run inside them. Everything below one
# mktemp -d, names life19*; the EXIT trap stops berthd and removes it.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="life19: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=life19
unset NOTIFY_SOCKET BERTH_SOCKET BERTH_CRASH_AT
ROOT=$(mktemp -d /tmp/life19.XXXXXX)
STATE_DIR='' SHARED_MODE='' START_TIMEOUT=60 STOP_TIMEOUT=60
HOSTID=2150000000
trap daemon_cleanup EXIT
daemon_require ""
command -v umoci >/dev/null || { nok "umoci is not installed (tests/deps.sh)"; exit 1; }

W=$ROOT/work
mkdir -p "$W"
L=$W/layout
umoci init --layout "$L" >/dev/null
umoci new --image "$L:base" >/dev/null
umoci unpack --image "$L:base" "$W/b" >/dev/null
R=$W/b/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/srv" "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for x in sh ls cat id stat echo test env sleep find; do ln -s busybox "$R/bin/$x"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"
chmod 1777 "$R/tmp"
umoci repack --image "$L:base" "$W/b" >/dev/null
umoci config --image "$L:base" --config.cmd /bin/sleep --config.cmd 100000 >/dev/null
for v in a b x; do # three images over the same base, one layer of their own each
  umoci unpack --image "$L:base" "$W/v$v" >/dev/null
  head -c 300000 /dev/urandom > "$W/v$v/rootfs/srv/own-$v"
  umoci repack --image "$L:$v" "$W/v$v" >/dev/null
done

# docker-archive OUT SPEC: python writes a one- or two-layer docker-archive
# from the base layer: "hc-shell" (Healthcheck CMD-SHELL, every 2 s), "hc-none"
# (Healthcheck NONE), "special" (one layer: the base plus a device node and
# a setuid file).
cat > "$W/mk.py" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
layout, out, spec = sys.argv[1:4]
def blob(d):
    return open(os.path.join(layout, "blobs", d.replace(":", "/")), "rb").read()
idx = json.load(open(os.path.join(layout, "index.json")))
man = next(m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "base")
man = json.loads(blob(man["digest"]))
base = gzip.decompress(blob(man["layers"][0]["digest"]))
layers = [base]
cfg = {"Cmd": ["/bin/sleep", "100000"], "Env": ["PATH=/bin"]}
if spec == "hc-shell":
    cfg["Healthcheck"] = {"Test": ["CMD-SHELL", "test -e /etc/passwd && echo fine"], "Interval": 2000000000,
                          "Timeout": 1500000000, "Retries": 3, "StartPeriod": 2000000000}
elif spec == "hc-none":
    cfg["Healthcheck"] = {"Test": ["NONE"]}
elif spec == "special":
    b = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(base)) as src, tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for m in src.getmembers():
            t.addfile(m, src.extractfile(m) if m.isreg() else None)
        i = tarfile.TarInfo("srv/mem"); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 1; i.mode = 0o666
        t.addfile(i)
        data = b"#!/bin/sh\necho root\n"
        i = tarfile.TarInfo("bin/suid2"); i.size = len(data); i.mode = 0o4755
        t.addfile(i, io.BytesIO(data))
    layers = [b.getvalue()]
diff = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
c = json.dumps({"architecture": "amd64", "os": "linux", "config": cfg,
                "rootfs": {"type": "layers", "diff_ids": diff}}).encode()
cname = hashlib.sha256(c).hexdigest() + ".json"
with tarfile.open(out, "w") as t:
    def put(name, data):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
    names = []
    for l in layers:
        n = hashlib.sha256(l).hexdigest() + ".tar"; names.append(n); put(n, l)
    put(cname, c)
    put("manifest.json", json.dumps([{"Config": cname, "RepoTags": ["life19:latest"], "Layers": names}]).encode())
PY
for s in hc-shell hc-none special; do "$PY" "$W/mk.py" "$L" "$W/$s.tar" "$s" || nok "python could not write $s.tar"; done
mkdir -p "$W/tree/bin"
cp /bin/busybox "$W/tree/bin/busybox"
ln -s busybox "$W/tree/bin/sleep"

env_new d
S=$D/state
T() { "$CTL" template --state-dir "$S" -c "$D/conf" "$@"; }
# Imports by hand: a, b, x (images), tree (a directory), special (one layer).
for v in a b x; do T import "${P}$v" "oci:$L:$v" || nok "import ${P}$v"; done
T import "${P}tree" "$W/tree" || nok "import ${P}tree"
out=$(T import "${P}sp" "docker-archive:$W/special.tar" 2>&1); rc=$?
sp_layer=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][0])' "$S/images/${P}sp" 2>/dev/null)
case $out in *"image '${P}sp'"*"layer $sp_layer"*"'srv/mem': device node dropped"*"'bin/suid2': setuid/setgid bit cleared"*)
  [ $rc = 0 ] && ok "an image's device node and setuid file are neutralised at import, naming the template and the layer" ;;
  *) nok "special import (rc=$rc): $(oneline "$out")" ;; esac

cat > "$D/conf/c.conf" <<EOF
template ${P}hc { from = "docker-archive:$W/hc-shell.tar" }
template ${P}hcn { from = "docker-archive:$W/hc-none.tar" }
container $P-a { template = "${P}a"  autostart = true }
container $P-def { template = "${P}tree"  autostart = false  command = { "/bin/sleep", "100000" } }
container $P-hc { template = "${P}hc"  autostart = true }
container $P-hcd {
    template = "${P}hc"
    autostart = true
    health { command = { "/bin/true" }  interval = 3s  timeout = 1s }
}
container $P-hcn { template = "${P}hcn"  autostart = true }
container $P-idm {
    template = "${P}sp"
    autostart = true
    idmap = "$HOSTID:65536"
}
EOF
daemon_start || { nok "berthd did not start"; daemon_finish ""; exit 1; }
for c in a hc hcd hcn idm; do
  wait_until 60 state_is "$P-$c" running || { nok "$P-$c does not run: $(jget "$P-$c" error)"; daemon_finish ""; exit 1; }
done
ok "containers run on images, a tree and an idmapped one-layer image"

# ---- template ls ------------------------------------------------------------------------------
js=$(T --json ls)
tj() { # tj NAME EXPR: a python expression over t (the template's object)
  "$PY" -c '
import json, sys
t = next(x for x in json.load(sys.stdin)["templates"] if x["name"] == sys.argv[1])
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2" <<<"$js" 2>/dev/null
}
base_bytes=$(stat -c %s "$R/bin/busybox")
check "ls --json: an image has 2 layers, kind image" test "$(tj "${P}a" 't["layer_count"]'):$(tj "${P}a" 't["kind"]')" = "2:image"
sh_a=$(tj "${P}a" 't["shared_bytes"]')
check "ls --json: shared bytes are the base layer's (>= busybox, $sh_a)" test "${sh_a:-0}" -ge "$base_bytes" -a "${sh_a:-0}" -lt $((base_bytes + 300000))
check "ls --json: size counts its own layer too" test "$(tj "${P}a" 't["size"] - t["shared_bytes"] >= 300000')" = true
check "ls --json: a running container and its definition use ${P}a" test "$(tj "${P}a" '[t["running"], t["definitions"]]')" = "[[\"$P-a\"], [\"$P-a\"]]"
check "ls --json: a definition not running uses the tree" test "$(tj "${P}tree" '[t["kind"], t["running"], t["definitions"]]')" = "[\"imported\", [], [\"$P-def\"]]"
check "ls --json: the idmapped container runs on ${P}sp" test "$(tj "${P}sp" 't["running"]')" = "[\"$P-idm\"]"
check "ls --json: the neutralised files are recorded" test "$(tj "${P}sp" '[t["devices_dropped"], t["setuid_cleared"]]')" = "[1, 1]"
check "ls --json: build/import time is set" test "$(tj "${P}x" 't["created_usec"] > 1700000000000000')" = true
ls_out=$(T ls)
printf '%s\n' "$ls_out" | grep -qE "^${P}a +image .* 2 .*running:$P-a" && printf '%s\n' "$ls_out" | head -n1 | grep -q "USED BY" &&
  ok "ls: a table with the layers and the users" || nok "ls: $(oneline "$ls_out")"

# ---- remove -----------------------------------------------------------------------------------
snapshot() { (cd "$S" && find layers images templates -not -name .lock | sort); }
before=$(snapshot)
out=$(T remove "${P}a" 2>&1); rc=$?
case "$rc:$out" in 1:*"template '${P}a' is in use"*"running: $P-a"*"definitions: $P-a"*) ok "remove refuses a template in use, naming the running container and the definition" ;;
  *) nok "remove in use: rc=$rc $(oneline "$out")" ;; esac
out=$(T remove "${P}tree" 2>&1); rc=$?
case "$rc:$out" in 1:*"definitions: $P-def"*) ok "remove refuses a template a definition names (not running)" ;;
  *) nok "remove defined: rc=$rc $(oneline "$out")" ;; esac
[ "$(snapshot)" = "$before" ] && ok "a refused remove changes nothing" || nok "refused remove changed: $(diff <(echo "$before") <(snapshot) | oneline "$(cat)")"
out=$(T remove "${P}nosuch" 2>&1); rc=$?
check "remove of a missing template fails naming it (rc=$rc)" test "$rc" = 1 -a -n "$(grep -o "no template '${P}nosuch'" <<<"$out")"
x_own=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][1][7:])' "$S/images/${P}x")
base_hex=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][0][7:])' "$S/images/${P}x")
out=$(T remove "${P}x" 2>&1); rc=$?
[ $rc = 0 ] && [ ! -e "$S/images/${P}x" ] && [ ! -e "$S/layers/sha256/$x_own" ] && [ -d "$S/layers/sha256/$base_hex" ] &&
  ok "remove of an unused image deletes its own layer and keeps the shared base" || nok "remove x: rc=$rc $(oneline "$out")"
grep -q "removed layer sha256:$x_own" <<<"$out" && grep -q "freed" <<<"$out" && ok "remove prints the layers removed and the bytes freed" || nok "remove output: $(oneline "$out")"
check "the running containers were not touched" test "$(ctl exec "$P-a" -- cat /etc/passwd | head -c 4)" = root

# ---- health from the image ---------------------------------------------------------------------
img_field() {
  inspect "$1" | "$PY" -c '
import json, sys
v = json.load(sys.stdin)["image"][sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$2" 2>/dev/null
}
check "inspect: the image's Healthcheck is the health check (source image)" test "$(img_field "$P-hc" health_source)" = image
check "inspect: CMD-SHELL runs through /bin/sh -c, Interval/Timeout/Retries/StartPeriod from the image" \
  test "$(img_field "$P-hc" health)" = '{"command": ["/bin/sh", "-c", "test -e /etc/passwd && echo fine"], "interval_usec": 2000000, "on_failure": "restart", "retries": 3, "start_period_usec": 2000000, "timeout_usec": 1500000}'
wait_until 20 bash -c "[ \"\$(BERTH_SOCKET=$D/run/control.sock $CTL ls --json | $PY -c 'import json,sys; print([c[\"health\"] for c in json.load(sys.stdin)[\"containers\"] if c[\"name\"] == \"$P-hc\"][0])')\" = healthy ]" &&
  ok "the container with the image's health check becomes healthy" || nok "$P-hc health: $(jget "$P-hc" health)"
check "a definition's health block overrides the image's (source definition)" test "$(img_field "$P-hcd" health_source)" = definition
check "Healthcheck NONE: no health check (source none)" test "$(img_field "$P-hcn" health_source):$(jget "$P-hcn" health)" = "none:-"

# ---- an idmapped container on an image with a device node and a setuid file ------------------------
out=$(ctl exec "$P-idm" -- sh -c 'test -e /srv/mem && echo dev; stat -c %a /bin/suid2; id -u')
check "idmapped: no device node, setuid bit cleared, root inside ($(oneline "$out"))" test "$out" = "$(printf '755\n0')"
uid=$(awk '{ print $2 }' "/proc/$(pid_of "$P-idm")/uid_map" 2>/dev/null | head -n1)
check "idmapped: root inside is $HOSTID outside ($uid)" test "$uid" = "$HOSTID"

# ---- a stopped container's template can go; prune ---------------------------------------------------
ctl stop "$P-a" >/dev/null 2>&1
wait_until 30 state_is "$P-a" stopped
out=$(T remove "${P}a" 2>&1); rc=$?
case "$rc:$out" in 1:*"definitions: $P-a"*) ok "a stopped container's definition still holds its template" ;; *) nok "stopped: rc=$rc $(oneline "$out")" ;; esac
sed -i "/container $P-a /d" "$D/conf/c.conf"
ctl reload >/dev/null 2>&1
a_own=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][1][7:])' "$S/images/${P}a")
b_own=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][1][7:])' "$S/images/${P}b")
out=$(T prune 2>&1); rc=$?
gone=1
for t in "${P}a" "${P}b"; do [ -e "$S/images/$t" ] && gone=; done
[ $rc = 0 ] && [ -n "$gone" ] && [ ! -e "$S/layers/sha256/$a_own" ] && [ ! -e "$S/layers/sha256/$b_own" ] &&
  ok "prune removes the templates no definition names, and their layers" || nok "prune: rc=$rc $(oneline "$out")"
[ -d "$S/templates/${P}tree" ] && [ -e "$S/images/${P}sp" ] && [ -e "$S/images/${P}hc" ] &&
  ok "prune keeps what a definition or a template block names" || nok "prune removed too much: $(ls "$S/images" "$S/templates")"
[ -d "$S/layers/sha256/$base_hex" ] && ok "prune keeps the base layer the health images share" || nok "base layer gone"
grep -q "removed template ${P}a" <<<"$out" && grep -qE "prune: 2 templates, 2 layers, .* freed \([0-9]+ bytes\)" <<<"$out" &&
  ok "prune prints what it removed and the bytes freed" || nok "prune output: $(oneline "$out")"
state_is "$P-hc" running && state_is "$P-idm" running && ok "running containers are untouched by prune" || nok "prune touched containers"

# ---- crash points ---------------------------------------------------------------------------------
# berthctl killed (as kill -9) at each point of an import and a remove,
# in a state directory of its own; the store is consistent after it (every
# record's layers are there); what it left goes at berthd's next start.
MAIN_D=$D MAIN_PID=$DPID
env_new crash
S2=$D/state
T2() { "$CTL" template --state-dir "$S2" -c "$D/conf" "$@"; }
consistent() {
  "$PY" - "$S2" <<'PY'
import json, os, sys
s = sys.argv[1]
idir = os.path.join(s, "images")
for n in (os.listdir(idir) if os.path.isdir(idir) else []):
    if n.startswith("."):
        continue
    for l in json.load(open(os.path.join(idir, n)))["layers"]:
        if not os.path.isdir(os.path.join(s, "layers/sha256", l[7:])):
            sys.exit("record %s names a missing layer %s" % (n, l))
PY
}
leftovers() { find "$S2/layers/sha256" "$S2/templates" -maxdepth 1 -name '.tmp-*' -o -maxdepth 1 -name '.trash-*' -o -maxdepth 1 -name '.build-*' 2>/dev/null; }
crash() { # crash POINT VERB ARGS...
  local point=$1; shift
  (env BERTH_CRASH_AT="$point" "$CTL" template --state-dir "$S2" -c "$D/conf" "$@"; exit $?) >/dev/null 2>&1
  local rc=$?
  if [ $rc != 137 ]; then nok "$point: berthctl was not killed there (rc=$rc)"; return; fi
  msg=$(consistent 2>&1) && ok "$point: killed there; every record's layers are whole" || nok "$point: $msg"
}
restart_clean() { # after a crash: berthd's start removes what it left
  local what=$1 left
  daemon_start || { nok "berthd on the crash state did not start"; return; }
  left=$(leftovers)
  check "$what: berthd's start removed what the crash left ($(oneline "$left"))" test -z "$left"
  daemon_stop
}
crash import-layer-unpacked import "${P}c1" "oci:$L:a"
[ -n "$(leftovers)" ] && ok "import-layer-unpacked: a temporary tree was left" || nok "import-layer-unpacked left nothing to clean"
[ ! -e "$S2/images/${P}c1" ] && ok "import-layer-unpacked: no record" || nok "record after a crash"
restart_clean import-layer-unpacked
crash import-layer-placed import "${P}c1" "oci:$L:a"
[ ! -e "$S2/images/${P}c1" ] && [ -n "$(find "$S2/layers/sha256" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*')" ] &&
  ok "import-layer-placed: a layer in place, no record names it" || nok "import-layer-placed: $(ls "$S2/layers/sha256" "$S2/images" 2>&1 | oneline "$(cat)")"
out=$(T2 prune 2>&1)
[ -z "$(find "$S2/layers/sha256" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*')" ] && ok "prune collects the layer no record names" || nok "orphan layer kept: $(oneline "$out")"
crash import-tree-built import "${P}tc" "$W/tree"
[ ! -e "$S2/templates/${P}tc" ] && [ -n "$(leftovers)" ] && ok "import-tree-built: no template, a build dir left" || nok "import-tree-built: $(ls -a "$S2/templates" | oneline "$(cat)")"
restart_clean import-tree-built
T2 import "${P}c1" "oci:$L:a" && T2 import "${P}c2" "oci:$L:b" && T2 import "${P}tc" "$W/tree" || nok "imports for the remove crashes"
crash remove-record-unlinked remove "${P}c1"
[ ! -e "$S2/images/${P}c1" ] && [ -e "$S2/images/${P}c2" ] && ok "remove-record-unlinked: the record gone, the other image whole" || nok "remove-record-unlinked: $(ls "$S2/images" | oneline "$(cat)")"
crash remove-layer-trashed remove "${P}c2"
[ -n "$(leftovers)" ] && ok "remove-layer-trashed: a trash tree was left" || nok "remove-layer-trashed left nothing"
restart_clean remove-layer-trashed
crash remove-template-trashed remove "${P}tc"
[ ! -e "$S2/templates/${P}tc" ] && [ -n "$(leftovers)" ] && ok "remove-template-trashed: the name gone, a trash tree left" || nok "remove-template-trashed: $(ls -a "$S2/templates" | oneline "$(cat)")"
restart_clean remove-template-trashed
out=$(T2 prune 2>&1)
[ -z "$(find "$S2/layers/sha256" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*')" ] && [ -z "$(ls "$S2/images")" ] &&
  ok "after the crashes, prune leaves an empty, consistent store" || nok "final store: $(ls "$S2/layers/sha256" "$S2/images" | oneline "$(cat)")"

D=$MAIN_D DPID=$MAIN_PID
daemon_stop
daemon_finish ""
exit $fail
