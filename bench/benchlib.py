"""Python helpers the benches share (bench/lib.sh runs this file for the
sd_notify listener and the process lookup; a bench's own helper script
imports the rest with PYTHONPATH=bench, see h() in bench/lib.sh).
    python3 bench/benchlib.py listen SOCKET OUT SECONDS
    python3 bench/benchlib.py procs_with TEXT
"""
import os, socket, subprocess, sys, time


def listen(path, out, secs):
    """sd_notify receiver: one "NS LINE" per line received; ends after SECS
    seconds without a message."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(int(secs))
    with open(out, "a") as f:
        while True:
            try:
                m = s.recv(65536)
            except socket.timeout:
                return
            t = time.time_ns()
            for line in m.decode(errors="replace").split("\n"):
                f.write("%d %s\n" % (t, line))
            f.flush()


def ctl(*args, timeout=120):
    """berthctl ARGS ($CTL): its standard output; raises when it fails."""
    return subprocess.run([os.environ["CTL"], *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, check=True).stdout


def cpu_ns(pid):
    """CPU time the process's main thread has run, from schedstat: ns."""
    with open("/proc/%s/schedstat" % pid) as f:
        return int(f.read().split()[0])


def mem(pid):
    """VmRSS, and Pss and private (USS) from smaps_rollup, in kB."""
    r = {}
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                r["rss"] = int(line.split()[1])
    priv = 0
    with open("/proc/%s/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == "Pss":
                r["pss"] = int(v.split()[0])
            elif k in ("Private_Clean", "Private_Dirty"):
                priv += int(v.split()[0])
    r["uss"] = priv
    return r


def first_events(events, t0):
    """{event: its first time (ns)} of berthctl inspect's events at or after t0 (ns)."""
    at = {}
    for e in events:
        us = e["time_usec"] * 1000
        if us >= t0 and e["event"] not in at:
            at[e["event"]] = us
    return at


def procs_with(pat):
    """Prints the pid of every process (but this one) whose argv holds PAT."""
    me = os.getpid()
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == me:
            continue
        try:
            c = open("/proc/%s/cmdline" % p, "rb").read()
        except OSError:
            continue
        if pat.encode() in c:
            print(p)


if __name__ == "__main__":
    {"listen": listen, "procs_with": procs_with}[sys.argv[1]](*sys.argv[2:])
