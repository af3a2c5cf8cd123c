#!/usr/bin/env python3
"""faultd.py: a scripted HTTPS origin that misbehaves on purpose, for the
origin-fault tests (origind is too well behaved to cut a body or send
garbage).

    faultd.py PORT CERT KEY STATEDIR   serve on 127.0.0.1:PORT
    faultd.py --body SIZE              print the body of a SIZE-byte object

The mode is read from STATEDIR/mode (default "ok") when a connection is
accepted and again for every request on it, so a test switches the origin
between healthy and broken by writing that file.  Requests: GET or HEAD /any/path[?size=N][&sie=1]; the
object is SIZE bytes (default 100000) of numbered 16-byte lines, with
Cache-Control "max-age=60" ("max-age=1, stale-if-error=60" with sie=1) and
ETag "s<SIZE>" (If-None-Match with it: 304).  Modes:

    ok             answer (keep-alive)
    slow           wait 4 s, then answer
    hang           read the request, never answer (until the peer leaves)
    cut-cl         Content-Length head, half the body, close (no close_notify)
    cut-cl-notify  the same, then close_notify before the close
    cut-chunked    chunked head, half the body in chunks, close (no last chunk)
    cut-close      no framing (body to the close), half the body, close
                   without close_notify
    garbage        bytes that are not HTTP, then close
    badstatus      a malformed status line
    badchunk       chunked head, one good chunk, then a chunk size "zz"
    rst-accept     TCP RST right after accept (before any TLS); a request
                   on a connection accepted earlier gets an RST too
    rst-request    TLS up, request read, then TCP RST
    rst-mid        head and half the body, then TCP RST

Prints "listening", then "accept N mode=M" and "request N METHOD TARGET mode=M".
"""
import os
import socket
import ssl
import struct
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit


def body(size):
    out = bytearray()
    i = 0
    while len(out) < size:
        out += b"%015d\n" % i
        i += 1
    return bytes(out[:size])


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def rst(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def read_head(s, buf):
    """A request head from s (buf: bytes already read); returns (head, rest)
    or (None, b"") at the end of the stream."""
    while b"\r\n\r\n" not in buf:
        try:
            d = s.recv(65536)
        except (OSError, ssl.SSLError):
            return None, b""
        if not d:
            return None, b""
        buf += d
        if len(buf) > 65536:
            return None, b""
    i = buf.index(b"\r\n\r\n") + 4
    return buf[:i], buf[i:]


def hold(s):
    """Keep the connection open, reading, until the peer leaves (60 s at most)."""
    s.settimeout(60)
    try:
        while s.recv(65536):
            pass
    except (OSError, ssl.SSLError):
        pass


def read_mode(state):
    try:
        with open(os.path.join(state, "mode")) as f:
            return f.read().strip() or "ok"
    except OSError:
        return "ok"


def serve(n, raw, ctx, state):
    mode = read_mode(state)
    log("accept %d mode=%s" % (n, mode))
    if mode == "rst-accept":
        rst(raw)
        return
    raw.settimeout(30)
    try:
        s = ctx.wrap_socket(raw, server_side=True)
    except (OSError, ssl.SSLError):
        raw.close()
        return
    buf = b""
    while True:
        head, buf = read_head(s, buf)
        if head is None:
            s.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target = lines[0].split(" ")[:2]
        fields = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.strip()
        mode = read_mode(state)
        log("request %d %s %s mode=%s" % (n, method, target, mode))
        q = parse_qs(urlsplit(target).query)
        size = int(q.get("size", ["100000"])[0])
        cc = "max-age=1, stale-if-error=60" if q.get("sie") else "max-age=60"
        etag = '"s%d"' % size
        b = body(size)
        half = b[: size // 2]
        common = "Cache-Control: %s\r\nETag: %s\r\nContent-Type: text/plain\r\n" % (cc, etag)
        if mode == "slow":
            time.sleep(4)
        if mode == "hang":
            hold(s)
            s.close()
            return
        if mode in ("rst-request", "rst-accept"):
            rst(s)
            return
        if mode == "garbage":
            s.sendall(b"\x00\x01\x02 this is not HTTP at all \xff\xfe\r\n\r\n")
            s.close()
            return
        if mode == "badstatus":
            s.sendall(b"HTTP/1.1 2x0 OK\r\nContent-Length: 5\r\n\r\nhello")
            hold(s)
            s.close()
            return
        if mode in ("cut-cl", "cut-cl-notify", "rst-mid"):
            s.sendall(("HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n" % (common, size))
                      .encode() + half)
            time.sleep(0.2)
            if mode == "rst-mid":
                rst(s)
                return
            if mode == "cut-cl-notify":
                try:
                    s.settimeout(2)
                    s.unwrap().close()
                    return
                except (OSError, ssl.SSLError):
                    pass
            s.close()
            return
        if mode == "cut-close":
            s.sendall(("HTTP/1.1 200 OK\r\n%sConnection: close\r\n\r\n" % common).encode()
                      + half)
            time.sleep(0.2)
            s.close()
            return
        if mode in ("cut-chunked", "badchunk"):
            s.sendall(("HTTP/1.1 200 OK\r\n%sTransfer-Encoding: chunked\r\n\r\n" % common)
                      .encode())
            for i in range(0, len(half), 8192):
                c = half[i:i + 8192]
                s.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
                if mode == "badchunk":
                    break
            if mode == "badchunk":
                s.sendall(b"zz\r\nnot a chunk\r\n")
                hold(s)
            else:
                time.sleep(0.2)
            s.close()
            return
        # ok (and slow, once it waited)
        if etag in fields.get("if-none-match", ""):
            s.sendall(("HTTP/1.1 304 Not Modified\r\n%s\r\n" % common).encode())
            continue
        out = ("HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n" % (common, size)).encode()
        s.sendall(out if method == "HEAD" else out + b)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--body":
        sys.stdout.buffer.write(body(int(sys.argv[2])))
        return
    port, cert, key, state = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)
    log("listening")
    n = 0
    while True:
        raw, _ = ls.accept()
        n += 1
        threading.Thread(target=serve, args=(n, raw, ctx, state), daemon=True).start()


if __name__ == "__main__":
    main()
