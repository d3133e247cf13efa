#!/usr/bin/env python3
"""TLS throughput: corekv's tls-port against Debian's redis-server 7.0 on its tls-port.

    scripts/compare-tls.py            # 3 rounds; writes results/tls.json and results/tls.md
    ROUNDS=5 scripts/compare-tls.py

Makes a throwaway certificate with openssl, starts both servers on free loopback ports (and
stops them by pid), and runs the same redis-benchmark line against each: 50 clients,
100k keys, 32-byte values, SET and GET at pipeline 1 and 16, the server order alternating per
round; medians. Needs redis-server, redis-benchmark and openssl (apt-get install redis-server
redis-tools openssl) and a release build of corekv-server (cargo build --release).
"""
import json, os, platform, re, socket, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("ROUNDS", "3"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_tls(port):
    deadline = time.time() + 20
    while time.time() < deadline:
        out = subprocess.run(["redis-cli", "-p", str(port), "--tls", "--insecure", "PING"],
                             capture_output=True, text=True).stdout
        if "PONG" in out:
            return
        time.sleep(0.1)
    sys.exit(f"server on TLS port {port} did not answer")


def bench(port, pipeline):
    requests = 100_000 if pipeline == 1 else 400_000
    out = subprocess.run(["redis-benchmark", "-p", str(port), "--tls", "--insecure", "-q",
                          "-c", "50", "-n", str(requests), "-r", "100000", "-d", "32",
                          "-P", str(pipeline), "-t", "set,get"],
                         capture_output=True, text=True).stdout
    found = {}
    for line in out.replace("\r", "\n").splitlines():
        m = re.match(r"(SET|GET): ([\d.]+) requests per second", line.strip())
        if m:
            found[m.group(1)] = float(m.group(2))
    if set(found) != {"SET", "GET"}:
        sys.exit(f"redis-benchmark gave no figures for port {port}: {out[-400:]}")
    return found


def main():
    work = Path(tempfile.mkdtemp(prefix="corekv-tls-"))
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    ports = {"corekv": free_port(), "redis": free_port()}
    tls = ["--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    procs = {
        "corekv": subprocess.Popen([str(TARGET / "release" / "corekv-server"), "--port",
                                    str(free_port()), "--tls-port", str(ports["corekv"]), *tls],
                                   cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        "redis": subprocess.Popen(["redis-server", "--port", "0", "--tls-port", str(ports["redis"]),
                                   *tls, "--tls-auth-clients", "no", "--save", "",
                                   "--appendonly", "no", "--dir", str(work)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    }
    try:
        for name, port in ports.items():
            wait_tls(port)
            print(f"== {name}: pid {procs[name].pid} on TLS port {port}")
        runs = {}
        for rnd in range(ROUNDS):
            order = list(ports) if rnd % 2 == 0 else list(reversed(list(ports)))
            for pipeline in (1, 16):
                for name in order:
                    for command, ops in bench(ports[name], pipeline).items():
                        runs.setdefault((command, pipeline, name), []).append(ops)
            print(f"== round {rnd + 1} of {ROUNDS} done")
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.wait(timeout=10)
    rows = []
    for command in ("SET", "GET"):
        for pipeline in (1, 16):
            ours = statistics.median(runs[(command, pipeline, "corekv")])
            theirs = statistics.median(runs[(command, pipeline, "redis")])
            rows.append({"command": command, "pipeline": pipeline, "corekv_ops": ours,
                         "redis_ops": theirs, "ratio": ours / theirs,
                         "corekv_runs": runs[(command, pipeline, "corekv")],
                         "redis_runs": runs[(command, pipeline, "redis")]})
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "unknown")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    doc = {
        "what": "TLS throughput: corekv tls-port vs redis-server 7.0 tls-port",
        "command": f"redis-benchmark --tls --insecure -q -c 50 -r 100000 -d 32 -P {{1,16}} "
                   f"-t set,get (-n 100000 at P1, 400000 at P16), {ROUNDS} rounds, server "
                   f"order alternating, medians (scripts/compare-tls.py)",
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit,
        "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()},
        "servers": {"corekv": "corekv-server --tls-port (default workers, rustls/ring)",
                    "redis": "Debian redis-server 7.0 --tls-port --tls-auth-clients no (OpenSSL)"},
        "rows": rows,
    }
    (ROOT / "results" / "tls.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        "# TLS: corekv's tls-port against redis-server 7.0's", "",
        f"Machine: {cpu}, {os.cpu_count()} cores, kernel {platform.release()}; the client "
        f"shares the cores. Date: {doc['date']}, commit {commit}.", "",
        f"Command: `scripts/compare-tls.py` ({doc['command']}).", "",
        "| row | corekv ops/s | redis ops/s | corekv/redis |", "|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['command']} P{r['pipeline']} | {r['corekv_ops']:,.0f} | "
                     f"{r['redis_ops']:,.0f} | {r['ratio']:.2f}x |")
    lines += ["", "corekv's TLS is rustls (ring) on the same workers as plain connections; "
              "Redis's is OpenSSL on its single thread. Read the ratios, not the absolute "
              "figures: the machine is shared and the client runs on the same two cores."]
    (ROOT / "results" / "tls.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
