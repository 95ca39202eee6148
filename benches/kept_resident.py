#!/usr/bin/env python3
"""What a kept population holds resident against what the server counts for it: starts the
binary (access control off, a scratch database), keeps N populations of R records each, and
prints the resident growth per population beside the bytes `GET /v1/populations` counts.

    benches/kept_resident.py target/release/tariffd [N=2000] [R=2]
"""
import http.client, json, os, subprocess, sys, time, tempfile
PORT = 18999
work = tempfile.mkdtemp()
env = dict(os.environ, TARIFFD_AUTH__ENABLED="false", TARIFFD_DATABASE__URL=f"sqlite://{work}/t.db", TARIFFD_LOG__FILTER="warn")
server = subprocess.Popen([sys.argv[1], "serve", "--port", str(PORT), "--tariffs", "tariffs"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def req(method, path, body=b"", ctype="text/csv"):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    c.request(method, path, body, {"Content-Type": ctype})
    r = c.getresponse(); d = r.read(); c.close(); return r.status, d
for _ in range(100):
    try:
        if req("GET", "/health/ready")[0] == 200: break
    except OSError: time.sleep(0.1)
def rss():
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith("VmRSS"): return int(line.split()[1]) * 1024
# warm up
for i in range(50):
    req("POST", "/v1/populations", f"enterprise_id,industry,kwh\nW{i},steel,{i}\n".encode())
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
before = rss(); counted_before = json.loads(req("GET", "/v1/populations")[1])["bytes"]
for i in range(n):
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    body = "enterprise_id,industry,kwh\n" + "".join(f"E{i}-{j},steel,{1000+i+j}\n" for j in range(rows))
    s, d = req("POST", "/v1/populations", body.encode())
    assert s == 201, d
time.sleep(1)
after = rss(); counted = json.loads(req("GET", "/v1/populations")[1])["bytes"] - counted_before
print(f"resident per population: {(after-before)/n:.0f} B; counted: {counted/n:.0f} B")
server.kill()
