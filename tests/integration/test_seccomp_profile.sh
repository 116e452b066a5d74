#!/bin/bash
# seccomp = "/path/profile.json": Docker/OCI seccomp profiles applied to a
# container started with `berthctl run` (busybox template):
#   - defaultAction ALLOW denying mkdir/mkdirat with errnoRet 1: mkdir fails
#     with "Operation not permitted", everything else works, Seccomp 2
#   - defaultAction ERRNO with an allow list: what is listed works, the
#     rest fails with defaultErrnoRet
#   - an invalid profile: `berthctl check` and the start name file, line
#     and JSON path; a profile that only libseccomp refuses fails the start
#     with its message and leaves no container state, process or cgroup
#   - the cached program follows an edit of the profile
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
B=$BUILD/berthctl
tmp=$(mktemp -d /tmp/btscp.XXXXXX)
state=$tmp/state
N=btscp-$$
trap 'rm -rf "$tmp"' EXIT
[ -x "$B" ] || { nok "$B is built"; exit 1; }

# ---- ALLOW default, mkdir denied ---------------------------------------------------------
cat > "$tmp/nomkdir.json" <<'J'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": [ "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" ],
  "syscalls": [
    { "names": [ "mkdir", "mkdirat" ], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 }
  ]
}
J
def $N 'template = "busybox"' "seccomp = \"$tmp/nomkdir.json\""
run $N /bin/sh -c 'mkdir /tmp/x; echo "rc=$?"; grep Seccomp: /proc/self/status; echo hi > /tmp/f && cat /tmp/f'
[ "$rc" = 0 ] || nok "the container with a profile runs (rc $rc: $(oneline "$err"))"
check "mkdir fails with 'Operation not permitted' ($(oneline "$out$err"))" \
  bash -c 'grep -q "Operation not permitted" <<<"$1" && grep -qx "rc=1" <<<"$2"' _ "$err" "$out"
check "other commands work (write and read a file)" bash -c 'grep -qx hi <<<"$1"' _ "$out"
check "Seccomp is 2 under the profile ($(oneline "$(grep Seccomp: <<<"$out")"))" \
  bash -c 'grep -qE "^Seccomp:\s+2$" <<<"$1"' _ "$out"

# Without the profile mkdir works (the check above is the profile's doing).
def $N-plain 'template = "busybox"'
run $N-plain /bin/sh -c 'mkdir /tmp/x && echo made'
check "without the profile mkdir works ($(oneline "$out$err"))" test "$out" = made

# ---- ERRNO default, an allow list -----------------------------------------------------------
# What berth's init (sigwaitinfo, waitpid, kill) and busybox sh need to start, run builtins,
# read a file and exit; mkdir is not on the list.
cat > "$tmp/allowlist.json" <<'J'
{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 13,
  "syscalls": [
    { "names": [ "execve", "execveat", "exit", "exit_group", "brk", "mmap", "munmap", "mprotect", "arch_prctl",
                 "set_tid_address", "set_robust_list", "rseq", "prlimit64", "getuid", "geteuid", "getgid",
                 "getegid", "getpid", "getppid", "gettid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
                 "rt_sigsuspend", "rt_sigtimedwait", "sigaltstack", "write", "writev", "read", "pread64", "close", "close_range",
                 "fcntl", "ioctl", "uname", "getcwd", "chdir", "stat", "newfstatat", "fstat", "lstat", "statx",
                 "openat", "openat2", "open", "readlink", "fchdir", "getdents64", "wait4", "waitid", "clone", "fork", "vfork", "dup",
                 "dup2", "dup3", "pipe2", "lseek", "getrandom", "sysinfo", "access", "faccessat", "faccessat2",
                 "pselect6", "poll", "ppoll", "prctl", "setpgid", "getpgid", "getpgrp", "setsid", "kill", "tgkill",
                 "futex", "clock_gettime", "nanosleep", "clock_nanosleep", "umask", "capget", "capset",
                 "setresuid", "setresgid", "setgroups", "sendmsg", "sendto", "recvmsg", "recvfrom" ],
      "action": "SCMP_ACT_ALLOW" }
  ]
}
J
def $N-allow 'template = "busybox"' "seccomp = \"$tmp/allowlist.json\""
run $N-allow /bin/sh -c 'echo alive; grep Seccomp: /proc/self/status; mkdir /tmp/y || echo mkdir-refused'
check "an allow-list profile runs busybox sh ($(oneline "$out$err"))" bash -c 'grep -qx alive <<<"$1"' _ "$out"
check "Seccomp is 2 under the allow list" bash -c 'grep -qE "^Seccomp:\s+2$" <<<"$1"' _ "$out"
check "a syscall off the list fails with defaultErrnoRet 13 ($(oneline "$err"))" \
  bash -c 'grep -q "Permission denied" <<<"$1" && grep -qx mkdir-refused <<<"$2"' _ "$err" "$out"

# The same list without execveat: berth-init's sealed copy is then executed
# through /proc/self/fd (execve), and the container still starts.
sed 's/"execveat", //' "$tmp/allowlist.json" > "$tmp/noexecveat.json"
def $N-noexecat 'template = "busybox"' "seccomp = \"$tmp/noexecveat.json\""
run $N-noexecat /bin/sh -c 'echo alive; cat /proc/1/comm'
check "a profile without execveat still starts the container under berth-init ($(oneline "$out$err"))" \
  test "$(printf '%s' "$out" | tr '\n' ' ')" = "alive berth-init"

# ---- a profile that denies what berth's init waits with -----------------------------------
# Without rt_sigtimedwait the init cannot wait for signals: it must still
# reap and pass the workload's status on (it once spun forever).
cat > "$tmp/nosigwait.json" <<'J'
{ "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [ { "names": [ "rt_sigtimedwait" ], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 } ] }
J
def $N-nosig 'template = "busybox"' "seccomp = \"$tmp/nosigwait.json\""
run $N-nosig /bin/sh -c 'sleep 0.2; exit 3'
check "the init without rt_sigtimedwait still ends with the workload's status 3 (got $rc)" test "$rc" = 3

# ---- invalid profiles -------------------------------------------------------------------------
printf '{ "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ { "names": [ "mkdir" ], "action": "SCMP_ACT_FOO" } ] }\n' \
  > "$tmp/bad.json"
def $N-bad 'template = "busybox"' "seccomp = \"$tmp/bad.json\""
want="$tmp/c/$N-bad/c.conf:3: seccomp: $tmp/bad.json: syscalls[0].action: 'SCMP_ACT_FOO' is not a seccomp action"
out=$("$B" check -c "$tmp/c/$N-bad" 2>&1); crc=$?
check "berthctl check names file:line and the JSON path ($(oneline "$out"))" \
  bash -c '[ "$1" != 0 ] && grep -qxF "$2" <<<"$3"' _ "$crc" "$want" "$out"
run $N-bad /bin/true
check "an invalid profile refuses the start with the message (rc $rc: $(oneline "$err"))" \
  bash -c '[ "$1" != 0 ] && grep -qF "$2" <<<"$3"' _ "$rc" "syscalls[0].action: 'SCMP_ACT_FOO' is not a seccomp action" "$err"

def $N-missing 'template = "busybox"' "seccomp = \"$tmp/nonexistent.json\""
out=$("$B" check -c "$tmp/c/$N-missing" 2>&1); crc=$?
check "berthctl check reports a missing profile ($(oneline "$out"))" \
  bash -c '[ "$1" != 0 ] && grep -qxF "$2" <<<"$3"' _ "$crc" \
  "$tmp/c/$N-missing/c.conf:3: seccomp: $tmp/nonexistent.json: cannot open: No such file or directory" "$out"

# Valid JSON that only libseccomp refuses (two actions for one rule): the
# start itself fails, and leaves nothing behind.
cat > "$tmp/conflict.json" <<'J'
{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
  { "names": [ "socket" ], "action": "SCMP_ACT_ERRNO", "args": [ { "index": 0, "value": 1, "op": "SCMP_CMP_EQ" } ] },
  { "names": [ "socket" ], "action": "SCMP_ACT_KILL", "args": [ { "index": 0, "value": 1, "op": "SCMP_CMP_EQ" } ] } ] }
J
def $N-conflict 'template = "busybox"' "seccomp = \"$tmp/conflict.json\""
out=$("$B" check -c "$tmp/c/$N-conflict" 2>&1)
check "berthctl check accepts a well-formed profile ($(oneline "$out"))" bash -c 'grep -q "^ok" <<<"$1"' _ "$out"
run $N-conflict /bin/true
check "a profile libseccomp refuses fails the start with its message (rc $rc: $(oneline "$err"))" \
  bash -c '[ "$1" != 0 ] && grep -qF "$2" <<<"$3"' _ "$rc" \
  "container '$N-conflict': seccomp: $tmp/conflict.json: syscalls[1]: 'socket': conflicts with an earlier rule for it" "$err"
check "the failed start leaves no process" test -z "$(procs_with "$N-conflict")"
left=$(find "$state" -name "*$N-conflict*" 2>/dev/null; find /sys/fs/cgroup -maxdepth 6 -name "*$N-conflict*" 2>/dev/null)
check "the failed start leaves no state or cgroup ($(oneline "$left"))" test -z "$left"

# ---- the cache follows the file ----------------------------------------------------------------
ls "$state"/cache/seccomp-profile-* >/dev/null 2>&1
check "compiled profiles are cached in the state directory" test $? = 0
sed -i 's/"mkdir", "mkdirat"/"rmdir"/' "$tmp/nomkdir.json"
run $N /bin/sh -c 'mkdir /tmp/x && echo made; rmdir /tmp/x || echo rmdir-refused'
check "an edited profile takes effect at the next start ($(oneline "$out$err"))" \
  test "$out" = "$(printf 'made\nrmdir-refused')"

exit $fail
