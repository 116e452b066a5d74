#!/usr/bin/env python3
# drive.py CTL NAME STEP...: drives `CTL console NAME` sessions in ptys.
# Steps: open:S[:ARGS] send:S:TEXT expect:S:REGEX winsz:S:RxC detach:S
#        exit:S:CODE (waits for the exit, checks its status) restored:S
# TEXT takes \r, \n, \x1d escapes. Prints "ok" or "FAIL: why" and the tail.
import os, pty, re, select, sys, time, termios, fcntl, struct, codecs
ctl, name = sys.argv[1], sys.argv[2]
S = {}
def die(msg, s=None):
    print("FAIL: " + msg)
    if s is not None:
        print("tail: " + repr(S[s]["buf"][-600:]))
    sys.exit(1)
def pump(s, t):
    d = S[s]
    r, _, _ = select.select([d["fd"]], [], [], t)
    if r:
        try:
            b = os.read(d["fd"], 65536)
        except OSError:
            b = b""
        if b:
            d["buf"] += b.decode("utf-8", "replace")
            return True
        d["eof"] = True
    return False
for step in sys.argv[3:]:
    kind, s, *rest = step.split(":", 2)
    arg = rest[0] if rest else ""
    if kind == "open":
        pid, fd = pty.fork()
        if pid == 0:
            extra = " ".join(arg.split()) if arg else ""
            f = os.path.join(os.environ.get("DRIVE_TMP", "/tmp"), "stty-%d-%s" % (os.getppid(), s))
            os.execv("/bin/sh", ["sh", "-c", 'stty -g > %s.before; "$0" console %s "$1"; rc=$?; '
                     'stty -g > %s.after; exit $rc' % (f, extra, f), ctl, name])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        S[s] = {"pid": pid, "fd": fd, "buf": "", "eof": False, "status": None}
        S[s]["orig"] = termios.tcgetattr(fd)
    elif kind == "send":
        os.write(S[s]["fd"], codecs.decode(arg, "unicode_escape").encode())
    elif kind == "expect":
        end = time.time() + 15
        while not re.search(arg, S[s]["buf"]):
            if time.time() > end or S[s]["eof"]:
                die("%s: no %r" % (s, arg), s)
            pump(s, 0.2)
        for o in S:  # keep the others' output flowing
            while pump(o, 0):
                pass
    elif kind == "winsz":
        r, c = arg.split("x")
        fcntl.ioctl(S[s]["fd"], termios.TIOCSWINSZ, struct.pack("HHHH", int(r), int(c), 0, 0))
    elif kind == "detach":
        os.write(S[s]["fd"], b"\x1dq")
        step = "exit:%s:0" % s
        kind, arg = "exit", "0"
    if kind == "exit":
        end = time.time() + 15
        while True:
            p, st = os.waitpid(S[s]["pid"], os.WNOHANG)
            if p:
                break
            if time.time() > end:
                die("%s: still running" % s, s)
            pump(s, 0.1)
        while pump(s, 0.05):
            pass
        code = os.waitstatus_to_exitcode(st)
        if str(code) != arg:
            die("%s: exit status %d, not %s" % (s, code, arg), s)
        S[s]["status"] = code
    elif kind == "restored":
        f = os.path.join(os.environ.get("DRIVE_TMP", "/tmp"), "stty-%d-%s" % (os.getpid(), s))
        a, b = open(f + ".before").read(), open(f + ".after").read()
        os.unlink(f + ".before"); os.unlink(f + ".after")
        if a != b or not a:
            die("%s: the terminal was not restored: %r then %r" % (s, a, b), s)
    elif kind == "print":
        print(S[s]["buf"])
print("ok")
