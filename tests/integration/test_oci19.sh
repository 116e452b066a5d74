#!/bin/bash
# Integration test of issue 19, OCI and Docker images as templates: images
# made with umoci from a busybox-static root (several layers: files with
# their owners and modes, a deletion = whiteout), turned into oci-archive
# and docker-archive files with skopeo, and docker-archives made by python
# (an opaque directory, hostile layers). A private berthd starts real
# containers from `template NAME { from = ... }` blocks; the checks run
# inside them (berthctl exec). Two images sharing their base share its
# directory in the layer store; hostile or corrupted archives are refused
# with the template and the layer named, and leave nothing in the store.
# Everything below one mktemp -d, names oci19*; the EXIT trap stops berthd,
# kills what is left (found by the temp dir in argv) and removes the dir.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX="oci19: "
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=oci19$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/oci19.XXXXXX)
STATE_DIR='' SHARED_MODE='' START_TIMEOUT=60 STOP_TIMEOUT=60
trap daemon_cleanup EXIT
daemon_require ""
for tool in umoci skopeo; do
  command -v $tool >/dev/null || { nok "$tool is not installed (tests/deps.sh)"; exit 1; }
done

W=$ROOT/work
mkdir -p "$W"
L=$W/layout
umoci init --layout "$L" >/dev/null
umoci new --image "$L:base" >/dev/null

# The base layer: busybox, /etc, files with owners and modes, a setuid file.
umoci unpack --image "$L:base" "$W/b" >/dev/null
R=$W/b/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/data/opq" "$R/srv" "$R/tmp"
cp /bin/busybox "$R/bin/busybox"
for x in sh ls cat id stat echo test env pwd sleep find wc; do ln -s busybox "$R/bin/$x"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:5678::/srv:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\napp:x:5678:\n' > "$R/etc/group"
echo doomed > "$R/etc/doomed"
echo owned > "$R/srv/owned"
chown 1234:5678 "$R/srv/owned"
chmod 0640 "$R/srv/owned"
cp /bin/busybox "$R/bin/suid"
chmod 4755 "$R/bin/suid"
echo a > "$R/data/opq/a"
echo keep > "$R/data/keep"
chmod 1777 "$R/tmp"
umoci repack --image "$L:base" "$W/b" >/dev/null
umoci config --image "$L:base" --config.cmd /bin/sleep --config.cmd 1000 --config.env BASE=1 \
  --config.stopsignal SIGINT >/dev/null

# app: base + a layer deleting /etc/doomed (a whiteout) and adding a file.
umoci unpack --image "$L:base" "$W/a" >/dev/null
rm "$W/a/rootfs/etc/doomed"
echo fresh > "$W/a/rootfs/srv/fresh"
umoci repack --image "$L:app" "$W/a" >/dev/null
umoci config --image "$L:app" --config.env APP=img --config.env BASE=1 --config.workingdir /srv \
  --config.cmd /bin/sh --config.cmd -c --config.cmd 'echo started; exec sleep 1000' >/dev/null

# other: base + a different layer (shares the base layer with app).
umoci unpack --image "$L:base" "$W/o" >/dev/null
echo other > "$W/o/rootfs/srv/other"
umoci repack --image "$L:other" "$W/o" >/dev/null

skopeo copy -q "oci:$L:app" "oci-archive:$W/app.tar" &&
  skopeo copy -q "oci:$L:other" "docker-archive:$W/other.tar" &&
  ok "umoci and skopeo made an oci-archive and a docker-archive" || nok "skopeo copy failed"

# docker-archive NAME LAYERSPEC...: python builds W/NAME.tar from the base
# layer of the OCI layout (decompressed: the same diff id) and layers
# described by LAYERSPEC (see the script). BADDIFF=1: a wrong diff id for
# the last layer.
cat > "$W/mkarchive.py" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
layout, out, outside = sys.argv[1], sys.argv[2], sys.argv[3]
specs = sys.argv[4:]
def blob(d):
    return open(os.path.join(layout, "blobs", d.replace(":", "/")), "rb").read()
idx = json.load(open(os.path.join(layout, "index.json")))
man = next(m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "base")
man = json.loads(blob(man["digest"]))
base = gzip.decompress(blob(man["layers"][0]["digest"]))
def layer(spec):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data=b"x\n", **kw):
            i = tarfile.TarInfo(name)
            for k, v in kw.items():
                setattr(i, k, v)
            i.size = len(data) if i.type == tarfile.REGTYPE else 0
            t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)
        if spec == "opaque":
            add("data/opq", type=tarfile.DIRTYPE, mode=0o755)
            add("data/opq/.wh..wh..opq")
            add("data/opq/b", b"b\n")
        elif spec == "dotdot":
            add("../oci19-escape", b"escaped\n")
        elif spec == "absolute":
            add(outside + "/abs", b"escaped\n")
        elif spec == "symlink":
            add("esc", type=tarfile.SYMTYPE, linkname=outside)
            add("esc/through", b"escaped\n")
        elif spec == "hardlink":
            add("hl", type=tarfile.LNKTYPE, linkname="/etc/passwd")
        elif spec == "hardlink-sym":
            add("etcl", type=tarfile.SYMTYPE, linkname="/etc")
            add("hl", type=tarfile.LNKTYPE, linkname="etcl/passwd")
        elif spec == "hardlink-rel":
            add("hl", type=tarfile.LNKTYPE, linkname="../../../../etc/passwd")
        elif spec == "whiteout-missing":
            add("etc/.wh.no-such-file")
        elif spec == "special":
            add("dev", type=tarfile.DIRTYPE, mode=0o755)
            add("dev/mem", type=tarfile.CHRTYPE, devmajor=1, devminor=1, mode=0o666)
            add("bin/suid2", b"#!/bin/sh\n", mode=0o4755)
    return b.getvalue()
layers = [base] + [layer(s) for s in specs]
diff = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
if os.environ.get("BADDIFF"):
    diff[-1] = "sha256:" + "0" * 64
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {"Cmd": ["/bin/sleep", "1000"], "Env": ["PATH=/bin"]},
                  "rootfs": {"type": "layers", "diff_ids": diff}}).encode()
cname = hashlib.sha256(cfg).hexdigest() + ".json"
with tarfile.open(out, "w") as t:
    def put(name, data):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
    names = []
    for l in layers:
        n = hashlib.sha256(l).hexdigest() + ".tar"; names.append(n); put(n, l)
    put(cname, cfg)
    put("manifest.json", json.dumps([{"Config": cname, "RepoTags": ["oci19:latest"], "Layers": names}]).encode())
PY
OUT=$W/outside
mkdir -p "$OUT"
mkarchive() { local n=$1; shift; "$PY" "$W/mkarchive.py" "$L" "$W/$n.tar" "$OUT" "$@"; }
mkarchive opaque opaque && mkarchive special special || nok "python could not build the archives"

# ---- the daemon and its containers ---------------------------------------------------------
env_new d
S=$D/state
cat > "$D/conf/t.conf" <<EOF
template ${P}app { from = "oci-archive:$W/app.tar" }
template ${P}other { from = "docker-archive:$W/other.tar" }
template ${P}opq { from = "docker-archive:$W/opaque.tar" }
template ${P}base { from = "oci:$L:base" }
container $P-app { template = "${P}app" autostart = true }
container $P-ovr {
    template = "${P}app"
    autostart = true
    command = { "/bin/sleep", "999" }
    env = { "APP=mine" }
    workdir = "/data"
    user = "1234:5678"
    stop-signal = "SIGTERM"
}
container $P-oth { template = "${P}other" autostart = true }
container $P-opq { template = "${P}opq" autostart = true }
container $P-base { template = "${P}base" autostart = true }
EOF
ctl_check=$("$CTL" check -c "$D/conf" --state-dir "$S" 2>&1)
check "check accepts template blocks naming images not yet imported" test $? = 0 -o -z "${ctl_check##*ok*}"
mkdir -p "$W/conf2"
printf 'template %s {\n  from = "oci-archive:%s/nope.tar"\n}\n' "${P}nope" "$W" > "$W/conf2/n.conf"
out=$("$CTL" check -c "$W/conf2" --state-dir "$S" 2>&1)
case $out in *"n.conf:2: from: '$W/nope.tar' does not exist"*) ok "check reports a template whose archive is missing, at its line" ;;
  *) nok "check on a missing archive: $(oneline "$out")" ;; esac
daemon_start || { nok "berthd did not start"; daemon_finish ""; exit 1; }
for c in app ovr oth opq base; do
  wait_until 60 state_is "$P-$c" running || { nok "$P-$c does not run: $(jget "$P-$c" error)"; daemon_finish ""; exit 1; }
done
state_is "$P-app" running && ok "a container starts on an oci-archive image" || true
state_is "$P-oth" running && ok "a container starts on a docker-archive image" || true
state_is "$P-base" running && ok "a container starts on an OCI layout directory (oci:DIR:TAG)" || true

X() { ctl exec "$@"; }
# Files, deletions, modes and owners as in the image.
check "the base layer's files are there" test "$(X "$P-app" -- cat /data/keep)" = keep
check "the upper layer's file is there" test "$(X "$P-app" -- cat /srv/fresh)" = fresh
X "$P-app" -- test -e /etc/doomed && nok "a deleted file (whiteout) is visible" || ok "a file deleted in a layer (whiteout) is gone"
X "$P-base" -- test -e /etc/doomed && ok "the image without that layer still has the file" || nok "base image lost /etc/doomed"
got=$(X "$P-app" -- stat -c '%a %u %g' /srv/owned)
check "mode and owner of a file are the image's (0640 1234:5678: $got)" test "$got" = "640 1234 5678"
got=$(X "$P-app" -- stat -c '%a' /tmp)
check "a sticky directory keeps its mode ($got)" test "$got" = 1777
got=$(X "$P-app" -- stat -c '%a' /bin/suid)
check "setuid bits are not kept ($got)" test "$got" = 755
# Config: Cmd, Env, WorkingDir from the image; the definition overrides.
check "the image's Cmd runs" test "$(ctl logs "$P-app" 2>/dev/null | head -n 1)" = started
check "the image's Env applies" test "$(X "$P-app" -- sh -c 'echo $APP-$BASE')" = img-1
check "the image's WorkingDir applies" test "$(X "$P-app" -- pwd)" = /srv
check "the definition's env overrides the image's" test "$(X "$P-ovr" -- sh -c 'echo $APP-$BASE')" = mine-1
check "the definition's workdir overrides the image's" test "$(X "$P-ovr" -- pwd)" = /data
check "the definition's user applies" test "$(X "$P-ovr" -- id -u)" = 1234
cmds=$(X "$P-ovr" -- sh -c 'for p in /proc/[0-9]*; do cat $p/cmdline; echo; done' | tr '\0' ' ')
printf '%s\n' "$cmds" | grep -qx "/bin/sleep 999 " && ok "the definition's command overrides the image's" || nok "ovr runs: $(oneline "$cmds")"
img_field() {
  inspect "$1" | "$PY" -c '
import json, sys
v = json.load(sys.stdin)["image"][sys.argv[1]]
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$2" 2>/dev/null
}
check "inspect: command_source image" test "$(img_field "$P-app" command_source)" = image
check "inspect: command_source definition" test "$(img_field "$P-ovr" command_source)" = definition
check "inspect: workdir_source image / definition" test "$(img_field "$P-app" workdir_source)/$(img_field "$P-ovr" workdir_source)" = image/definition
check "inspect: the image's StopSignal (SIGINT) and the definition's" \
  test "$(img_field "$P-app" stop_signal):$(img_field "$P-app" stop_signal_source)/$(img_field "$P-ovr" stop_signal_source)" = "SIGINT:image/definition"
check "inspect: env_source" test "$(img_field "$P-ovr" env_source)" = '{"APP": "definition", "BASE": "image"}'
# Opaque directory: the lower layer's entries are hidden.
check "an opaque directory hides the layer below's entries" test "$(X "$P-opq" -- ls /data/opq | tr '\n' ' ')" = "b "
check "next to it the lower layer stays" test "$(X "$P-opq" -- cat /data/keep)" = keep

# The store: one directory per layer, shared.
base_diff=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][0])' "$S/images/${P}app")
n_with_base=0
for i in "${P}app" "${P}other" "${P}opq" "${P}base"; do
  grep -q "$base_diff" "$S/images/$i" && n_with_base=$((n_with_base + 1))
done
check "four images (oci-archive, docker-archive, python's, the layout) name the same base layer" test $n_with_base = 4
n_dirs=$(find "$S/layers/sha256" -mindepth 1 -maxdepth 1 | wc -l)
check "the store holds each layer once (base, app, other, opaque: $n_dirs dirs)" test "$n_dirs" = 4
ino_app=$(X "$P-app" -- stat -c %i /bin/busybox)
ino_oth=$(X "$P-oth" -- stat -c %i /bin/busybox)
check "both containers see the same inode of the shared layer ($ino_app, $ino_oth)" test "$ino_app" = "$ino_oth" -a "$ino_app" = "$(stat -c %i "$S/layers/sha256/${base_diff#sha256:}/bin/busybox")"
ls_out=$("$CTL" template --state-dir "$S" ls)
printf '%s\n' "$ls_out" | grep -qE "^${P}app +image +[^ ]+ +2 +[1-9]" && ok "template ls shows the layers and how many are shared" || nok "template ls: $(oneline "$ls_out")"

# ---- bad input: refused, named, nothing left -------------------------------------------------
snapshot() { (cd "$S" && find layers images | sort); }
before=$(snapshot)
pid_before=$(pid_of "$P-app")
refused() { # refused LABEL WHAT-IN-MESSAGE SOURCE
  local out rc
  out=$("$CTL" template --state-dir "$S" import "${P}bad" "$3" 2>&1); rc=$?
  if [ $rc = 1 ] && printf '%s' "$out" | grep -q "image '${P}bad'" && printf '%s' "$out" | grep -qi -- "$2"; then
    ok "$1 is refused, naming the image and why"
  else
    nok "$1: rc=$rc $(oneline "$out")"
  fi
  [ "$(snapshot)" = "$before" ] && ok "$1 leaves nothing in the store" || nok "$1 left: $(diff <(echo "$before") <(snapshot) | tr '\n' ' ')"
}
mkarchive dotdot dotdot && refused "a layer with a ../ path" "layer sha256:.*escapes the root" "docker-archive:$W/dotdot.tar"
mkarchive absolute absolute && refused "a layer with an absolute path" "layer sha256:.*escapes the root" "docker-archive:$W/absolute.tar"
mkarchive symlink symlink && refused "a file through a symlink pointing outside" "layer sha256:.*symlink" "docker-archive:$W/symlink.tar"
mkarchive hardlink hardlink && refused "a hard link to /etc/passwd" "layer sha256:.*hard link" "docker-archive:$W/hardlink.tar"
mkarchive hardlink-rel hardlink-rel && refused "a hard link to ../../etc/passwd" "layer sha256:.*hard link" "docker-archive:$W/hardlink-rel.tar"
mkarchive hardlink-sym hardlink-sym && refused "a hard link through a symlink to /etc" "layer sha256:.*through symlink" "docker-archive:$W/hardlink-sym.tar"
mkarchive wh whiteout-missing && refused "a whiteout for a missing file" "layer sha256:.*whiteout for a missing file" "docker-archive:$W/wh.tar"
BADDIFF=1 mkarchive baddiff opaque && refused "a layer whose digest is not its diff id" "digest mismatch" "docker-archive:$W/baddiff.tar"
# An OCI layout with one byte of a blob changed.
cp -a "$L" "$W/corrupt"
blob=$(find "$W/corrupt/blobs/sha256" -type f -size +100k | head -n 1)
printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc status=none
refused "a blob whose digest does not match (oci:)" "digest mismatch" "oci:$W/corrupt:app"
head -c 300000 "$W/app.tar" > "$W/truncated.tar"
refused "a truncated oci-archive" "image" "oci-archive:$W/truncated.tar"
[ -z "$(ls -A "$OUT")" ] && [ ! -e "$ROOT/oci19-escape" ] && [ ! -e "$W/oci19-escape" ] &&
  ok "nothing was written outside the store" || nok "written outside: $(ls -A "$OUT") $(ls "$ROOT" "$W" | grep escape)"
check "the running container was not touched" test "$(pid_of "$P-app")" = "$pid_before" -a "$(X "$P-app" -- cat /srv/fresh)" = fresh

# What a crash in the middle of an import leaves (a temporary tree) goes at the next import.
mkdir -p "$S/layers/sha256/.tmp-0123.99999/etc"
# Device nodes are dropped, setuid bits cleared (like template import).
"$CTL" template --state-dir "$S" import "${P}sp" "docker-archive:$W/special.tar" && ok "an image with a device node and a setuid file imports" || nok "special import"
[ ! -e "$S/layers/sha256/.tmp-0123.99999" ] && ok "an import removes what an interrupted one left" || nok "leftover stays"
sp_layer=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["layers"][1][7:])' "$S/images/${P}sp" 2>/dev/null)
[ -n "$sp_layer" ] && [ ! -e "$S/layers/sha256/$sp_layer/dev/mem" ] && [ "$(stat -c %a "$S/layers/sha256/$sp_layer/bin/suid2")" = 755 ] &&
  ok "its device node is dropped and its setuid bit cleared" || nok "special layer: $(ls -l "$S/layers/sha256/$sp_layer/dev" "$S/layers/sha256/$sp_layer/bin" 2>&1 | oneline "$(cat)")"
"$CTL" template --state-dir "$S" import "${P}app" "oci-archive:$W/app.tar" 2>/dev/null; [ $? = 1 ] && ok "importing over an existing image is refused" || nok "re-import accepted"
"$CTL" template --state-dir "$S" import --keep-special "${P}k" "oci-archive:$W/app.tar" 2>/dev/null; [ $? = 2 ] && ok "--keep-special is refused for images" || nok "--keep-special accepted"
"$CTL" template --state-dir "$S" remove "${P}sp" && [ ! -e "$S/images/${P}sp" ] && ok "template remove deletes an image's record" || nok "remove image"

# A template whose source is bad: the start fails naming it; a running one is untouched.
cat > "$D/conf/bad.conf" <<EOF
template ${P}broken { from = "docker-archive:$W/dotdot.tar" }
container $P-broken { template = "${P}broken" autostart = true }
EOF
ctl reload >/dev/null 2>&1
wait_until 30 bash -c "[ -n \"\$(BERTH_SOCKET=$D/run/control.sock $CTL inspect $P-broken 2>/dev/null | grep -o 'escapes the root')\" ]"
err=$(jget "$P-broken" error)
case $err in *"template '${P}broken'"*"layer sha256:"*"escapes the root"*) ok "a start on a hostile image fails naming the template and the layer" ;;
  *) nok "broken start: $(oneline "$err")" ;; esac
check "the running containers were not touched" test "$(pid_of "$P-app")" = "$pid_before"
[ ! -e "$S/images/${P}broken" ] && [ -z "$(find "$S/layers" -name '.tmp-*')" ] && ok "the failed import left no record and no temporary tree" || nok "broken import left files"

daemon_stop
daemon_finish ""
exit $fail
