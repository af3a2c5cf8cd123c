#!/usr/bin/env python3
"""soak_load.py: the load and the report of `make soak` (scripts/soak.sh
starts the processes and the faults; this drives the requests).

    soak_load.py DIR EDGE_PORT EDGED_PID SECONDS INTERVAL WORKERS PORTS ADMIN_PORT

DIR holds pki/ca.pem, www/ (the files origind serves) and faults.log
(lines "EPOCH what", written by soak.sh).  PORTS: the origin's and Redis's
ports, comma-separated (edged's connections to them are counted apart
from its other descriptors, since its pools open and close them).
ADMIN_PORT: edged's admin listener, for edged_memory_cache_bytes (the
memory tier's share of the RSS).

WORKERS threads each keep a keep-alive HTTPS connection to edged
(SNI edge.test) and send a mix: hits, misses (a unique query), a 4 MiB
object, no-store pass-through, ranges of the 4 MiB object, HEAD,
conditional GETs (If-None-Match with the ETag seen), and uploads (POST to
echo.cgi, the body must come back).  Each answer is checked against the
files on disk and sorted:

    ok    the expected answer
    err   a clean 502/504 "X-Cache: Error from edged" (an origin fault)
    cut   the transfer was cut (connection reset or closed mid-body)
    bad   anything else: wrong bytes, an unexpected status, a transport
          error outside a body, a timeout

Every INTERVAL seconds a table row: requests, ok/err/cut/bad in the
interval, rate, p50/p99 latency, edged's RSS and what its memory tier
holds, descriptors (pool sockets apart), threads, and the faults of the
interval.  At the end a summary.
Exit 1 when any request was "bad", edged died, or it holds more
descriptors at the end than at the start (pool sockets apart, after a
10 s settle).
"""
import hashlib
import http.client
import os
import random
import socket
import ssl
import sys
import threading
import time

DIR, EDGE_PORT, EDGED_PID, SECONDS, INTERVAL, WORKERS, PORTS, ADMIN_PORT = (
    sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),
    float(sys.argv[5]), int(sys.argv[6]), sys.argv[7], int(sys.argv[8]))
POOL_PORTS = {int(p) for p in PORTS.split(",") if p}

FILES = {}
for name in sorted(os.listdir(os.path.join(DIR, "www", "s"))):
    with open(os.path.join(DIR, "www", "s", name), "rb") as f:
        FILES[name] = f.read()
SMALL = [n for n in FILES if n.startswith("f")]
BIG = FILES["big.bin"]
BIG_SHA = hashlib.sha256(BIG).hexdigest()

KINDS = [("hit", 30), ("miss", 10), ("big", 4), ("pass", 10), ("range", 12), ("head", 10),
         ("cond", 12), ("upload", 12)]
WEIGHTS = [w for _, w in KINDS]


class Conn(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with SNI and verification for edge.test."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname="edge.test")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = {"ok": 0, "err": 0, "cut": 0, "bad": 0}
        self.lat = []
        self.kinds = {}
        self.bad_samples = []

    def add(self, kind, outcome, ms, why=""):
        with self.lock:
            self.c[outcome] += 1
            self.lat.append(ms)
            k = self.kinds.setdefault(kind, {"ok": 0, "err": 0, "cut": 0, "bad": 0})
            k[outcome] += 1
            if outcome == "bad" and len(self.bad_samples) < 20:
                self.bad_samples.append("%s %s: %s" % (time.strftime("%H:%M:%S"), kind, why))

    def take(self):
        with self.lock:
            c, lat = dict(self.c), self.lat
            self.c = {"ok": 0, "err": 0, "cut": 0, "bad": 0}
            self.lat = []
        return c, lat


STATS = Stats()
STOP = threading.Event()
ETAGS = {}
ETAG_LOCK = threading.Lock()


def request(conn, method, path, headers=None, body=None):
    h = {"Host": "edge.test:%d" % EDGE_PORT}
    h.update(headers or {})
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    return r, data


def one(conn, rnd, seq, kind):
    """Send one request of that kind; returns (kind, outcome, why)."""
    name = rnd.choice(SMALL)
    want = FILES[name]
    hdrs = {}
    body = None
    method = "GET"
    if kind == "hit":
        path = "/s/" + name
    elif kind == "miss":
        path = "/s/%s?u=%d" % (name, seq)
    elif kind == "big":
        path, want = "/s/big.bin", BIG
    elif kind == "pass":
        path = "/ns/" + name
    elif kind == "range":
        a = rnd.randrange(0, len(BIG) - 1)
        b = min(len(BIG) - 1, a + rnd.randrange(0, 65536))
        path, want = "/s/big.bin", BIG[a:b + 1]
        hdrs["Range"] = "bytes=%d-%d" % (a, b)
    elif kind == "head":
        path, method = "/s/" + name, "HEAD"
    elif kind == "cond":
        path = "/s/" + name
        with ETAG_LOCK:
            et = ETAGS.get(name)
        if et:
            hdrs["If-None-Match"] = et
    else:  # upload
        path, method = "/cgi-bin/echo.cgi", "POST"
        body = rnd.randbytes(rnd.randrange(1, 65536))
        want = body
        hdrs["Content-Type"] = "application/octet-stream"
    r, data = request(conn, method, path, hdrs, body)
    xc = r.getheader("X-Cache", "")
    if r.status in (502, 504) and xc == "Error from edged":
        return kind, "err", ""
    et = r.getheader("ETag")
    if et and kind in ("hit", "cond") and r.status in (200, 304):
        with ETAG_LOCK:
            ETAGS[name] = et
    if kind == "range":
        if r.status != 206 or data != want:
            return kind, "bad", "status %d, %d bytes for %s" % (r.status, len(data), hdrs["Range"])
        return kind, "ok", ""
    if kind == "head":
        if r.status != 200 or data or r.getheader("Content-Length") != str(len(want)):
            return kind, "bad", "HEAD status %d, Content-Length %s" % (
                r.status, r.getheader("Content-Length"))
        return kind, "ok", ""
    if kind == "cond" and r.status == 304:
        return kind, ("ok" if not data else "bad"), "a 304 with a body"
    if r.status != 200:
        return kind, "bad", "status %d (X-Cache %r) for %s" % (r.status, xc, path)
    if data != want:
        return kind, "bad", "%d bytes for %s (want %d%s)" % (
            len(data), path, len(want),
            "" if kind != "big" else ", sha256 %s" % (hashlib.sha256(data).hexdigest() == BIG_SHA))
    return kind, "ok", ""


def worker(wid):
    rnd = random.Random(wid * 7919 + int(time.time()))
    ctx = ssl.create_default_context(cafile=os.path.join(DIR, "pki", "ca.pem"))
    conn = None
    seq = wid * 100000000
    while not STOP.is_set():
        if conn is None:
            conn = Conn("edge.test", EDGE_PORT, timeout=30, context=ctx)
        seq += 1
        t0 = time.monotonic()
        kind = rnd.choices([k for k, _ in KINDS], WEIGHTS)[0]
        try:
            kind, outcome, why = one(conn, rnd, seq, kind)
        except (http.client.IncompleteRead, ConnectionResetError, BrokenPipeError,
                http.client.RemoteDisconnected, ssl.SSLEOFError) as e:
            # a reset or a close mid-answer: edged cut a body it could not
            # finish (the origin died under it)
            outcome, why = "cut", "%s: %s" % (type(e).__name__, e)
            conn.close()
            conn = None
        except (OSError, ssl.SSLError, http.client.HTTPException) as e:
            outcome, why = "bad", "%s: %s" % (type(e).__name__, e)
            conn.close()
            conn = None
        STATS.add(kind, outcome, (time.monotonic() - t0) * 1000, why)
    if conn is not None:
        conn.close()


def proc_stats():
    """edged's (RSS kB, descriptors, pool sockets, threads) or None."""
    try:
        with open("/proc/%d/status" % EDGED_PID) as f:
            st = f.read()
        rss = int(st.split("VmRSS:")[1].split()[0])
        threads = int(st.split("Threads:")[1].split()[0])
        fds = os.listdir("/proc/%d/fd" % EDGED_PID)
        inodes = set()
        for fd in fds:
            try:
                ln = os.readlink("/proc/%d/fd/%s" % (EDGED_PID, fd))
            except OSError:
                continue
            if ln.startswith("socket:["):
                inodes.add(ln[8:-1])
        pool = 0
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                p = line.split()
                if p[9] in inodes and int(p[2].split(":")[1], 16) in POOL_PORTS:
                    pool += 1
        return rss, len(fds), pool, threads
    except (OSError, IndexError, ValueError):
        return None


def mem_tier_kb():
    """edged_memory_cache_bytes from the admin listener, in kB (-1: unknown)."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", ADMIN_PORT, timeout=5)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode("utf-8", "replace")
        c.close()
        for line in text.splitlines():
            if line.startswith("edged_memory_cache_bytes "):
                return int(float(line.split()[1])) // 1024
    except (OSError, http.client.HTTPException, ValueError):
        pass
    return -1


def faults_between(t0, t1):
    out = []
    try:
        with open(os.path.join(DIR, "faults.log")) as f:
            for line in f:
                ts, what = line.split(" ", 1)
                if t0 <= float(ts) < t1:
                    out.append(what.strip())
    except OSError:
        pass
    return out


def pct(v, p):
    if not v:
        return 0.0
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    # one request first, so that what edged opens on its first request
    # (pools, lazily started threads) is in the baseline
    ctx = ssl.create_default_context(cafile=os.path.join(DIR, "pki", "ca.pem"))
    try:
        c = Conn("edge.test", EDGE_PORT, timeout=30, context=ctx)
        request(c, "GET", "/s/" + SMALL[0])
        c.close()
    except (OSError, http.client.HTTPException) as e:
        print("soak: the warm-up request failed: %s" % e)
        return 1
    time.sleep(1.5)
    start = time.time()
    first = proc_stats()
    if first is None:
        print("soak: edged (pid %d) is not running" % EDGED_PID)
        return 1
    print("edged pid %d at the start: VmRSS %d kB, %d descriptors (%d to the origin/Redis), "
          "%d threads" % (EDGED_PID, first[0], first[1], first[2], first[3]))
    print("%d workers for %.0f s; a row every %.0f s" % (WORKERS, SECONDS, INTERVAL))
    hdr = "%6s %8s %7s %5s %5s %5s %6s %7s %7s %8s %8s %5s %5s %4s  %s" % (
        "t(s)", "requests", "ok", "err", "cut", "bad", "req/s", "p50ms", "p99ms", "RSS(kB)",
        "tier(kB)", "fds", "pool", "thr", "faults")
    print(hdr)
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(WORKERS)]
    for t in threads:
        t.start()
    total = {"ok": 0, "err": 0, "cut": 0, "bad": 0}
    rows = []
    last = start
    died = False
    while time.time() - start < SECONDS and not died:
        time.sleep(min(INTERVAL, max(0.0, SECONDS - (time.time() - start))))
        now = time.time()
        c, lat = STATS.take()
        for k in total:
            total[k] += c[k]
        ps = proc_stats()
        if ps is None:
            died = True
            ps = (0, 0, 0, 0)
        n = sum(c.values())
        row = (now - start, sum(total.values()), c["ok"], c["err"], c["cut"], c["bad"],
               n / max(0.001, now - last), pct(lat, 0.5), pct(lat, 0.99), ps[0], mem_tier_kb(),
               ps[1] - ps[2], ps[2], ps[3], ", ".join(faults_between(last, now)))
        rows.append(row)
        print("%6.0f %8d %7d %5d %5d %5d %6.0f %7.1f %7.1f %8d %8d %5d %5d %4d  %s" % row)
        sys.stdout.flush()
        last = now
    STOP.set()
    for t in threads:
        t.join(35)
    c, _ = STATS.take()
    for k in total:
        total[k] += c[k]
    # let edged's connections close (the workers' keep-alive ones just did)
    end = proc_stats()
    for _ in range(100):
        end = proc_stats()
        if end is None or end[1] - end[2] <= first[1] - first[2]:
            break
        time.sleep(0.1)
    n = sum(total.values())
    print("summary: %d requests in %.0f s: %d ok, %d err (clean 502/504 from origin faults), "
          "%d cut (transfers cut by origin faults), %d bad" % (
              n, time.time() - start, total["ok"], total["err"], total["cut"], total["bad"]))
    for kind, k in sorted(STATS.kinds.items()):
        print("  %-7s %s" % (kind, " ".join("%s=%d" % (o, k[o]) for o in ("ok", "err", "cut", "bad"))))
    if died or end is None:
        print("summary: edged (pid %d) DIED during the soak" % EDGED_PID)
        return 1
    rss = [r[9] for r in rows]
    print("summary: edged VmRSS %d kB at the start, max %d kB, %d kB at the end; descriptors "
          "(pool sockets apart) %d at the start, max %d, %d at the end; threads %d at the end" % (
              first[0], max(rss + [first[0]]), end[0], first[1] - first[2],
              max([r[11] for r in rows] + [0]), end[1] - end[2], end[3]))
    for s in STATS.bad_samples:
        print("  bad: " + s)
    if end[1] - end[2] > first[1] - first[2]:
        print("summary: edged holds %d descriptors more than at the start (pool sockets apart)"
              % (end[1] - end[2] - (first[1] - first[2])))
        return 1
    return 1 if total["bad"] > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
