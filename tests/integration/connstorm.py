#!/usr/bin/env python3
"""connstorm.py: open N connections to a server and drop them, CONC at a
time, for the leak tests.

    connstorm.py tcp PORT N CONC SECONDS
    connstorm.py tls PORT N CONC SECONDS CAFILE SERVERNAME

tcp: TCP connect to 127.0.0.1:PORT, then close at once.  tls: connect,
complete a verified TLS handshake, then close the socket without
close_notify.  Stops at N connections or after SECONDS, whichever comes
first, and prints "done=D ok=K failed=F secs=S" (failed: refused, reset,
handshake errors), plus the first error seen.  Exit 0 when every one of
the N connections succeeded.
"""
import socket
import ssl
import sys
import threading
import time


def main():
    mode, port, n, conc, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        int(sys.argv[4]), float(sys.argv[5])
    ctx = None
    name = None
    if mode == "tls":
        ctx = ssl.create_default_context(cafile=sys.argv[6])
        name = sys.argv[7]
    lock = threading.Lock()
    state = {"next": 0, "ok": 0, "failed": 0, "err": ""}
    deadline = time.monotonic() + secs

    def one():
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            if ctx is not None:
                t = ctx.wrap_socket(s, server_hostname=name)
                t.close()  # no unwrap(): no close_notify
        finally:
            s.close()

    def worker():
        while True:
            with lock:
                if state["next"] >= n or time.monotonic() > deadline:
                    return
                state["next"] += 1
            try:
                one()
                ok = True
            except (OSError, ssl.SSLError) as e:
                ok = False
                err = "%s: %s" % (type(e).__name__, e)
            with lock:
                if ok:
                    state["ok"] += 1
                else:
                    state["failed"] += 1
                    if not state["err"]:
                        state["err"] = err

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = state["ok"] + state["failed"]
    print("done=%d ok=%d failed=%d secs=%.1f" % (done, state["ok"], state["failed"],
                                                 time.monotonic() - t0))
    if state["err"]:
        print("first error: %s" % state["err"])
    sys.exit(0 if state["ok"] == n else 1)


if __name__ == "__main__":
    main()
