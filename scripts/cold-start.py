#!/usr/bin/env python3
"""Cold start of a function binary: process spawn to first complete answer.

Usage: scripts/cold-start.py target/release/queries PATH [N] [TOKEN]
Environment: the function's variables (DATABASE_URL, UPSTASH_*, ...).
Prints min / median / max over N runs (default 10). Ports below 32768 (see
shared/spec/vercel.md: polling ephemeral ports can self-connect).
"""
import os, socket, statistics, subprocess, sys, time

binary, path = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
token = sys.argv[4] if len(sys.argv) > 4 else None
samples = []
for i in range(runs):
    port = 21000 + i
    env = dict(os.environ, VERCEL_DEV_PORT=str(port))
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                time.sleep(0.0005)
        auth = f"authorization: Bearer {token}\r\n" if token else ""
        s.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\n{auth}connection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        samples.append((time.perf_counter() - start) * 1000)
        status = data.split(b"\r\n", 1)[0].decode()
    finally:
        proc.terminate()
        proc.wait()
print(f"{binary} {path}: {status}; n={runs} min={min(samples):.2f} ms "
      f"median={statistics.median(samples):.2f} ms max={max(samples):.2f} ms")
