#!/bin/bash
# The host's / is never a container's root. berthctl check refuses it by
# name (test_check.sh); here the name was a symlink to a directory when
# berthd loaded the definitions and points at / when the container starts:
# the start is refused and nothing runs with the host's / as its root.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OK_PREFIX='rootfs: '
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl
P=snrt$$
unset NOTIFY_SOCKET BERTH_SOCKET
ROOT=$(mktemp -d /tmp/snrootfs.XXXXXX)
MARK=/tmp/snrootfs-mark.$$
cleanup_extra() { rm -f "$MARK"; }
trap daemon_cleanup EXIT
daemon_require ''

env_new a
mkdir -p "$D/tree/bin" "$D/tree/proc" "$D/tree/sys" "$D/tree/dev" "$D/tree/tmp"
cp /bin/busybox "$D/tree/bin/busybox"
ln -s busybox "$D/tree/bin/sh"
ln -s "$D/tree" "$D/rl"
cat > "$D/conf/$P.conf" <<EOC
container $P-c {
    rootfs = "$D/rl"
    autostart = false
    restart = "no"
    command = { "/bin/sh", "-c", "echo escaped > $MARK" }
}
EOC
if ! daemon_start; then nok "berthd starts"; exit 1; fi
ln -sfn / "$D/rl"
ctl start "$P-c" > "$D/start.out" 2>&1
wait_until 10 state_is "$P-c" failed && ok "the start fails" || nok "the start did not fail: state $(jget "$P-c" state)"
[ ! -e "$MARK" ] && ok "a container whose rootfs now resolves to / never runs" || nok "the container ran on the host's / (wrote $MARK)"
grep -q "is the host's root directory" "$D/start.out" "$D/berthd.log" && ok "the error says the rootfs is the host's root" ||
  nok "no clear error: $(oneline "$(cat "$D/start.out")") $(oneline "$(tail -5 "$D/berthd.log")")"
daemon_stop
daemon_finish ''
exit $fail
