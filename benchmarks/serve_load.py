#!/usr/bin/env python3
"""Load benchmark for `thg serve` (issue 23): N jobs from C concurrent clients on loopback.

Starts `thg serve` on a free port with a fresh data folder, then C client threads submit their
share of N jobs (retrying on 429 after the server's Retry-After) and poll each job's status until
it is final, timing every status call. A sampler thread reads the server's resident memory from
/v1/health every half second. Checks: every job completes (done), no job is lost or duplicated
(the ids the clients got are unique, and the server's list holds exactly them), memory stays flat
(the last quarter of the run's samples against the first quarter after warm-up). Reports the p50
and p95 latency of status calls under load, throughput and memory, as results.json and
results.md in --out.

Standard library only. Usage:
  benchmarks/serve_load.py --thg build/apps/thg [--jobs 50] [--clients 8] [--out DIR]
Exit status 0 when every check holds, 1 otherwise (the report is written either way).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, (filename, data) in files.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f'Content-Type: application/octet-stream\r\n\r\n').encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def request(base, method, path, body=None, content_type=None, timeout=120):
    req = urllib.request.Request(base + path, data=body, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--thg", default=str(ROOT / "build" / "apps" / "thg"))
    p.add_argument("--jobs", type=int, default=50)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--queue-size", type=int, default=16)
    p.add_argument("--portrait", default=str(ROOT / "examples" / "astronaut.png"))
    p.add_argument("--audio", default=str(ROOT / "tests" / "data" / "media" / "speech_2s.m4a"))
    p.add_argument("--max-size", default="256", help="each job's video size (small: the server is what is measured)")
    p.add_argument("--poll", type=float, default=0.05, help="seconds between a client's status calls")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / f"serve_load_{time.strftime('%Y-%m-%d')}"))
    a = p.parse_args()

    portrait = Path(a.portrait).read_bytes()
    audio = Path(a.audio).read_bytes()
    data_dir = tempfile.mkdtemp(prefix="thg-serve-load-")
    log = open(Path(data_dir) / "server.log", "w")
    server = subprocess.Popen([a.thg, "serve", "--port", "0", "--data-dir", data_dir, "--queue-size", str(a.queue_size)],
                              stdout=log, stderr=subprocess.STDOUT)
    port_file = Path(data_dir) / "port"
    for _ in range(600):
        if port_file.exists() or server.poll() is not None:
            break
        time.sleep(0.2)
    if not port_file.exists():
        print("FAIL: thg serve did not start (see " + log.name + ")")
        return 1
    base = f"http://127.0.0.1:{int(port_file.read_text())}"

    lock = threading.Lock()
    latencies, ids, failures, rss = [], [], [], []
    throttled = [0]
    done_event = threading.Event()

    def sample_memory():
        while not done_event.is_set():
            status, _, body = request(base, "GET", "/v1/health")
            if status == 200:
                with lock:
                    rss.append((time.monotonic(), json.loads(body)["rss_mb"]))
            time.sleep(0.5)

    def client(index, count):
        mine = []
        for k in range(count):
            body, ctype = multipart({"seed": str(index * 1000 + k), "max_size": a.max_size},
                                    {"portrait": ("portrait.png", portrait), "audio": ("speech.m4a", audio)})
            while True:
                status, headers, reply = request(base, "POST", "/v1/jobs", body, ctype)
                if status == 429:
                    with lock:
                        throttled[0] += 1
                    time.sleep(min(2.0, float(headers.get("Retry-After", "1"))))
                    continue
                break
            if status != 202:
                with lock:
                    failures.append(f"client {index}: submit answered {status}: {reply[:200]!r}")
                continue
            mine.append(json.loads(reply)["id"])
        with lock:
            ids.extend(mine)
        pending = list(mine)
        while pending:
            for job in list(pending):
                t0 = time.perf_counter()
                status, _, reply = request(base, "GET", f"/v1/jobs/{job}")
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                state = json.loads(reply).get("state") if status == 200 else None
                if status != 200 or state in ("failed", "cancelled"):
                    with lock:
                        failures.append(f"job {job}: {status} {reply[:200]!r}")
                    pending.remove(job)
                elif state == "done":
                    pending.remove(job)
            time.sleep(a.poll)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    started = time.monotonic()
    shares = [a.jobs // a.clients + (1 if i < a.jobs % a.clients else 0) for i in range(a.clients)]
    threads = [threading.Thread(target=client, args=(i, n)) for i, n in enumerate(shares)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    done_event.set()
    sampler.join()
    status, _, listing = request(base, "GET", "/v1/jobs")
    listed = [j["id"] for j in json.loads(listing)["jobs"]] if status == 200 else []
    server.terminate()
    server.wait(timeout=60)
    log.close()

    # Memory: after the first quarter (model and allocator warm-up), the last quarter's median
    # may not exceed the second quarter's by more than 15%.
    values = [v for _, v in rss]
    q = max(1, len(values) // 4)
    early, late = statistics.median(values[q:2 * q] or values), statistics.median(values[-q:])
    checks = {
        "every job completed": not failures and len(ids) == a.jobs,
        "no job lost or duplicated": len(set(ids)) == len(ids) == a.jobs and sorted(listed) == sorted(ids),
        "memory flat (last quarter <= 1.15 x second quarter)": late <= 1.15 * early,
    }
    report = {
        "jobs": a.jobs, "clients": a.clients, "queue_size": a.queue_size, "max_size": a.max_size,
        "audio": Path(a.audio).name, "wall_seconds": round(wall, 1), "jobs_per_minute": round(a.jobs / wall * 60, 1),
        "submissions_throttled_429": throttled[0],
        "status_calls": len(latencies),
        "status_latency_ms": {"p50": round(percentile(latencies, 0.5) * 1000, 2),
                              "p95": round(percentile(latencies, 0.95) * 1000, 2),
                              "max": round(max(latencies) * 1000, 2) if latencies else None},
        "rss_mb": {"min": min(values), "max": max(values), "second_quarter_median": early, "last_quarter_median": late,
                   "samples": len(values)},
        "checks": checks, "failures": failures[:20],
    }
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"# thg serve under load: {a.jobs} jobs from {a.clients} concurrent clients", "",
             f"- each job: {Path(a.portrait).name} + {Path(a.audio).name}, max_size {a.max_size}; queue size {a.queue_size}",
             f"- wall time {report['wall_seconds']} s, {report['jobs_per_minute']} jobs/min; "
             f"{throttled[0]} submissions answered 429 and retried after Retry-After",
             f"- status calls under load: {len(latencies)}, p50 {report['status_latency_ms']['p50']} ms, "
             f"p95 {report['status_latency_ms']['p95']} ms, max {report['status_latency_ms']['max']} ms",
             f"- server memory (RSS): {min(values):.0f}-{max(values):.0f} MB; median {early:.0f} MB in the second quarter "
             f"of the run, {late:.0f} MB in the last", "", "| check | |", "|---|---|"]
    lines += [f"| {name} | {'yes' if ok else 'NO'} |" for name, ok in checks.items()]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    for f in failures[:5]:
        print("failure:", f)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
