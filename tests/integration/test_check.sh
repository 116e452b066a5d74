#!/bin/bash
# berthctl check on good, bad, huge and hostile definition directories:
# never a crash (exit 0, 1 or 2 only), always in bounded time, errors that
# name the file and line. Needs no root except for the unreadable-directory
# check (run as nobody).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
CTL=$BUILD/berthctl

TMP=$(mktemp -d /tmp/btcheck.XXXXXX)
trap 'chmod -R u+rwx "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT
[ -x "$CTL" ] || { nok "berthctl exists at $CTL"; exit 1; }

# run NAME TIMEOUT ARGS...: sets rc, out, err; rc 124 = took too long.
run() {
        local limit=$1; shift
        timeout -k 5 "$limit" "$CTL" "$@" >"$TMP/out" 2>"$TMP/err"
        rc=$?
        out=$(cat "$TMP/out")
        err=$(cat "$TMP/err")
}
no_crash() { # rc in {0,1,2} and no sanitizer report
        [ "$rc" -le 2 ] && ! grep -q -e 'Sanitizer' -e 'runtime error' "$TMP/err"
}

# 1. The shipped examples.
run 60 check -c conf.d
if [ "$rc" = 0 ] && [ "$out" = "ok: 2 containers, 1 network" ]; then
        ok "check: conf.d examples pass"
else
        nok "check: conf.d examples pass (rc=$rc out='$out' err='$err')"
fi

# 2. A 10 MB file: refused with a clear error, nothing read.
mkdir "$TMP/big"
head -c 10485760 /dev/zero | tr '\0' '\n' >"$TMP/big/big.conf"
run 60 check -c "$TMP/big"
if [ "$rc" = 1 ] && grep -qF "$TMP/big/big.conf: file is larger than 1048576 bytes" "$TMP/err"; then
        ok "check: 10 MB file refused"
else
        nok "check: 10 MB file refused (rc=$rc err='$err')"
fi

# 3. Binary garbage.
mkdir "$TMP/garbage"
head -c 1048576 /dev/urandom >"$TMP/garbage/garbage.conf"
run 60 check -c "$TMP/garbage"
if [ "$rc" = 1 ] && no_crash && grep -q "garbage.conf:[0-9]*: binary data" "$TMP/err"; then
        ok "check: 1 MB of random bytes is binary data"
else
        nok "check: 1 MB of random bytes is binary data (rc=$rc err='$(head -c 500 "$TMP/err")')"
fi

# 4. 10,000 nested blocks.
mkdir "$TMP/deep"
{ printf 'container a '; head -c 10000 /dev/zero | tr '\0' '{'; echo; } >"$TMP/deep/deep.conf"
run 60 check -c "$TMP/deep"
if [ "$rc" = 1 ] && no_crash && grep -q "deep.conf:1: " "$TMP/err"; then
        ok "check: 10,000 nested blocks rejected"
else
        nok "check: 10,000 nested blocks rejected (rc=$rc err='$(head -c 500 "$TMP/err")')"
fi
# The same, closed again.
{ printf 'container a '; head -c 10000 /dev/zero | tr '\0' '{'; head -c 10000 /dev/zero | tr '\0' '}'; echo; } >"$TMP/deep/deep.conf"
run 60 check -c "$TMP/deep"
if [ "$rc" = 1 ] && no_crash; then
        ok "check: 10,000 nested and closed blocks rejected"
else
        nok "check: 10,000 nested and closed blocks rejected (rc=$rc err='$(head -c 500 "$TMP/err")')"
fi

# 5. 10,000 small valid files, chained by after = so the graph checks run.
mkdir "$TMP/many"
awk -v dir="$TMP/many" 'BEGIN {
        printf "network n {\n  subnet = \"198.18.0.0/16\"\n}\n" > (dir "/00000-net.conf")
        for (i = 1; i <= 10000; i++) {
                f = sprintf("%s/%05d.conf", dir, i)
                printf "container c%d {\n  template = \"busybox\"\n", i > f
                if (i > 1) printf "  after = { \"c%d\" }\n", i - 1 > f
                printf "  network {\n    bridge = \"n\"\n    address = \"198.18.%d.%d\"\n  }\n}\n", int(i / 200) + 1, i % 200 + 2 > f
                close(f)
        }
}'
start=$(date +%s%N)
run 300 check -c "$TMP/many"
ms=$((($(date +%s%N) - start) / 1000000))
took="$((ms / 1000)).$(printf '%03d' $((ms % 1000)))s"
if [ "$rc" = 0 ] && [ "$out" = "ok: 10000 containers, 1 network" ] && [ "$ms" -lt 60000 ]; then
        ok "check: 10,000 files in $took (bound 60s)"
else
        nok "check: 10,000 files in $took (bound 60s; rc=$rc out='$out' err='$(head -c 500 "$TMP/err")')"
fi

# 6. A missing directory, a file given as the directory, an unreadable one.
run 30 check -c "$TMP/nonexistent"
if [ "$rc" = 1 ] && grep -qF "$TMP/nonexistent: cannot open definition directory: No such file or directory" "$TMP/err"; then
        ok "check: missing directory named"
else
        nok "check: missing directory named (rc=$rc err='$err')"
fi
run 30 check -c "$TMP/big/big.conf"
if [ "$rc" = 1 ] && grep -qF "$TMP/big/big.conf: cannot open definition directory: Not a directory" "$TMP/err"; then
        ok "check: a file given as the directory"
else
        nok "check: a file given as the directory (rc=$rc err='$err')"
fi
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        mkdir -m 0755 "$TMP/bin" "$TMP/locked"
        cp "$CTL" "$TMP/bin/berthctl"
        cp conf.d/*.conf "$TMP/locked/"
        chmod 0711 "$TMP"
        chmod 0000 "$TMP/locked"
        timeout -k 5 30 setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$TMP/bin/berthctl" check -c "$TMP/locked" >"$TMP/out" 2>"$TMP/err"
        rc=$?
        if [ "$rc" = 1 ] && grep -qF "$TMP/locked: cannot open definition directory: Permission denied" "$TMP/err"; then
                ok "check: unreadable directory named"
        else
                nok "check: unreadable directory named (rc=$rc err='$(cat "$TMP/err")')"
        fi
        chmod 0700 "$TMP/locked" "$TMP"
else
        ok "check: unreadable directory named # skipped: needs root and setpriv"
fi

# 7. --json parses and carries every error with file and line.
mkdir "$TMP/json"
printf 'container a {\n  template = "busybox"\n  bogus = 1\n}\n' >"$TMP/json/a.conf"
printf 'container b {\n  template = "busybox"\n\n  restart = "sometimes"\n}\n' >"$TMP/json/b.conf"
run 30 check --json -c "$TMP/json"
if [ "$rc" = 1 ] && python3 -m json.tool "$TMP/out" >/dev/null &&
        python3 - "$TMP/out" "$TMP/json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
d = sys.argv[2]
want = [(d + "/a.conf", 3, "unknown key 'bogus' in container"),
        (d + "/b.conf", 4, "restart: 'sometimes' is not valid (use no, on-failure, always, unless-stopped)")]
got = [(e["file"], e["line"], e["message"]) for e in o["errors"]]
sys.exit(0 if o["ok"] is False and got == want else 1)
PY
then
        ok "check: --json lists the errors with file and line"
else
        nok "check: --json lists the errors with file and line (rc=$rc out='$out')"
fi
run 30 check --json -c conf.d
if [ "$rc" = 0 ] && python3 -c 'import json,sys; o=json.load(sys.stdin); sys.exit(0 if o["ok"] and o["containers"] == 2 and o["networks"] == 1 and o["errors"] == [] else 1)' <"$TMP/out"; then
        ok "check: --json on the examples"
else
        nok "check: --json on the examples (rc=$rc out='$out')"
fi

# 7b. The host's / as a rootfs, and paths that are not canonical (a mount
# source climbing into /etc with ..): refused with FILE:LINE.
mkdir "$TMP/hostroot"
ln -s / "$TMP/hostroot-link"
cat >"$TMP/hostroot/a.conf" <<EOF
container sna {
  rootfs = "/"
}
container snb {
  rootfs = "/usr/.."
}
container snc {
  rootfs = "$TMP/hostroot-link"
}
container snd {
  template = "busybox"
  mount etc {
    source = "/srv/data/../../etc"
    target = "/data"
  }
}
EOF
run 30 check -c "$TMP/hostroot"
f=$TMP/hostroot/a.conf
if [ "$rc" = 1 ] && no_crash && grep -qF "$f:2: rootfs: '/' is the host's root directory" "$TMP/err" &&
   grep -qF "$f:5: rootfs: '/usr/..' must be a canonical absolute path" "$TMP/err" &&
   grep -qF "$f:8: rootfs: '$TMP/hostroot-link' is the host's root directory" "$TMP/err" &&
   grep -qF "$f:13: mount.source: '/srv/data/../../etc' must be a canonical absolute path" "$TMP/err"; then
        ok "check: the host's / as rootfs and non-canonical mount sources are refused with FILE:LINE"
else
        nok "check: the host's / as rootfs and non-canonical mount sources are refused with FILE:LINE (rc=$rc err='$err')"
fi

# 8. Usage errors.
run 30 check --bogus
if [ "$rc" = 2 ] && grep -q '^usage: berthctl check' "$TMP/err"; then
        ok "check: unknown option → exit 2 with usage"
else
        nok "check: unknown option → exit 2 with usage (rc=$rc err='$err')"
fi
run 30 check -c conf.d surplus
if [ "$rc" = 2 ] && grep -q "unexpected argument 'surplus'" "$TMP/err" && grep -q '^usage: berthctl check' "$TMP/err"; then
        ok "check: surplus argument → exit 2 with usage"
else
        nok "check: surplus argument → exit 2 with usage (rc=$rc err='$err')"
fi
run 30 frobnicate
if [ "$rc" = 2 ] && grep -q "unknown verb 'frobnicate'" "$TMP/err"; then
        ok "check: unknown verb → exit 2"
else
        nok "check: unknown verb → exit 2 (rc=$rc err='$err')"
fi

exit $fail
