"""The benchmark suite proper: ours against the Flask references, side by side.

Run by bench/run, which installs the tools, builds our release binaries,
starts PostgreSQL and Redis on loopback and passes everything in through the
environment. This script starts every server it measures as a child process
(its own session, so the whole tree can be killed), measures, stops it, and
writes bench/results/results.json. Loopback only; every load run is bounded
by DURATION.

For each peer:
  start_ms      process start -> first 200 answer (polled every 1 ms, 30 s deadline)
  rss_idle_kib  VmRSS summed over the process tree, once all peers answer (+1 s)
  rss_load_kib  highest VmRSS sum sampled while wrk runs
  rss_peak_kib  VmHWM summed over the tree after the load
  pss_after_load_kib  PSS summed over the tree after the load (shared pages once)
  sigterm_ms    SIGTERM to the started process -> its exit
and, per scenario, wrk's requests/s, p50 and p99 and error counts; the peers
take turns scenario by scenario, so background load falls on both alike.
"""

import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RELEASE = ROOT / "target" / "release"
VENV = BENCH / ".venv" / "bin"
FLASK = BENCH / "flask"

DURATION = int(os.environ.get("DURATION", "10"))
WARMUP = int(os.environ.get("WARMUP", "2"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "32"))
THREADS = int(os.environ.get("THREADS", "2"))
WORKERS = int(os.environ.get("GUNICORN_WORKERS", "4"))
PG_PORT = os.environ["PG_PORT"]
REDIS_PORT = os.environ["REDIS_PORT"]

_next_port = [int(os.environ.get("BASE_PORT", "18100"))]
_running = []  # every Popen still alive, for the last-resort cleanup


def port():
    _next_port[0] += 1
    return _next_port[0]


# ------------------------------------------------------------ processes


def tree(pid):
    """pid and all its descendants, from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def kib(pid, field):
    """Sum of /proc/PID/status FIELD (kB) over the process tree."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def pss(pid):
    """Proportional set size summed over the tree (kB): pages shared by
    gunicorn's forked workers counted once in all, not once per worker."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def answers(url, timeout=0.5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


class Server:
    """One measured process: started, timed to its first answer, stopped."""

    def __init__(self, name, argv, env, port, ready="/"):
        self.name = name
        self.base = f"http://127.0.0.1:{port}"
        ready_url = self.base + ready
        full_env = {"PATH": os.environ["PATH"], **env}
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, env=full_env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        _running.append(self.proc)
        deadline = t0 + 30
        while not answers(ready_url, timeout=5):
            if time.perf_counter() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{name} did not answer {ready_url}")
            time.sleep(0.001)
        self.start_ms = (time.perf_counter() - t0) * 1000
        self.pid = self.proc.pid

    def stop(self):
        """SIGTERM to the started process, as `docker stop` does to PID 1;
        returns ms to its exit, then kills whatever of its tree is left."""
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
            ms = round((time.perf_counter() - t0) * 1000, 1)
        except subprocess.TimeoutExpired:
            ms = None
        kill_group(self.proc)
        return ms


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    if proc in _running:
        _running.remove(proc)


# ------------------------------------------------------------ load


def to_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url, pid, script=None):
    """A warm-up, then a measured wrk run; samples the tree's RSS meanwhile."""
    base = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", "--timeout", "5s"]
    if script:
        base += ["-s", str(script)]
    subprocess.run(base + [f"-d{WARMUP}s", url], check=True, capture_output=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.wait(0.2):
            peak[0] = max(peak[0], kib(pid, "VmRSS"))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        out = subprocess.run(base + [f"-d{DURATION}s", "--latency", url],
                             check=True, capture_output=True, text=True).stdout
    finally:
        done.set()
        sampler.join()
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": to_ms(pct["50"]),
        "p99_ms": to_ms(pct["99"]),
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "rss_load_kib": peak[0],
    }


def measure(servers, cases):
    """servers: {key: Server}, all started; cases: [(scenario, path, lua or None)].

    The peers take turns scenario by scenario (ours, then theirs, then the
    next scenario), so a change in the machine's background load during the
    run falls on both sides alike. Idle peers wait on a socket and cost
    nothing meanwhile."""
    time.sleep(1)  # let gunicorn's other workers finish booting before "idle"
    results = {key: {"start_ms": round(s.start_ms, 1), "processes": len(tree(s.pid)),
                     "rss_idle_kib": kib(s.pid, "VmRSS"), "load": {}}
               for key, s in servers.items()}
    for scenario, path, script in cases:
        for key, server in servers.items():
            url = server.base + path
            print(f"  {server.name:<10} {scenario:<18}", end="", flush=True)
            r = wrk(url, server.pid, script)
            if script is None:  # the size of one answer, to show both did the same work
                with urllib.request.urlopen(url, timeout=5) as answer:
                    r["body_bytes"] = len(answer.read())
            results[key]["load"][scenario] = r
            print(f"{r['rps']:>9.0f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms"
                  f"  errors {r['socket_errors'] + r['non_2xx']}")
    for key, server in servers.items():
        result = results[key]
        result["rss_load_kib"] = max(r["rss_load_kib"] for r in result["load"].values())
        result["rss_peak_kib"] = kib(server.pid, "VmHWM")
        result["pss_after_load_kib"] = pss(server.pid)
        result["sigterm_ms"] = t = server.stop()
        print(f"  {server.name:<10} start {result['start_ms']:.1f} ms, idle RSS "
              f"{result['rss_idle_kib']} KiB, peak {result['rss_peak_kib']} KiB, SIGTERM -> exit "
              f"{'timeout' if t is None else f'{t:.1f} ms'}")
    return results


def python_app(app, p, env):
    """The Flask development server, as the write-up runs it."""
    return Server("flask-dev", [str(VENV / "python"), str(FLASK / app)],
                  {**env, "PORT": str(p)}, p)


def gunicorn(directory, module, p, env, ready="/health"):
    """The same app under gunicorn's sync workers, as a user would in production."""
    return Server("gunicorn", [str(VENV / "gunicorn"), "-w", str(WORKERS),
                               "-b", f"127.0.0.1:{p}", "--chdir", str(FLASK / directory),
                               module], env, p, ready)


# ------------------------------------------------------------ scenarios


def desafio1():
    print("== desafio1: GET /")
    servers = {"ours": Server("ours", [str(RELEASE / "d1-server")],
                              {"PORT": str(p := port()), "HOSTNAME": "bench"}, p)}
    servers["flask_dev"] = python_app("desafio1/app.py", port(), {"HOSTNAME": "bench"})
    servers["gunicorn"] = gunicorn("desafio1", "app:app", port(), {"HOSTNAME": "bench"}, "/")
    return measure(servers, [("d1 /", "/", None)])


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def desafio3():
    print("== desafio3: posts API on the same PostgreSQL and Redis")
    db = {"DB_HOST": "127.0.0.1", "DB_PORT": PG_PORT, "DB_NAME": "aplicacao",
          "DB_USER": "usuario", "DB_PASS": "senha",
          "CACHE_HOST": "127.0.0.1", "CACHE_PORT": REDIS_PORT}
    # d3-web applies the schema itself (sqlx migration); the prefix keeps its
    # cache key apart from the Flask app's `posts_cache`.
    ours = Server("ours", [str(RELEASE / "d3-web")],
                  {**db, "PORT": str(p := port()), "CACHE_PREFIX": "bench-ours:"}, p,
                  ready="/health")
    deadline = time.monotonic() + 60
    while not answers(ours.base + "/api/posts"):
        if time.monotonic() > deadline:
            raise RuntimeError("d3-web never reached PostgreSQL")
        time.sleep(0.05)
    # At least 100 posts, so both list queries return the same full page of
    # 100 whatever order the runs happen in.
    with urllib.request.urlopen(ours.base + "/api/posts", timeout=5) as r:
        have = json.load(r)["total"]
    for i in range(have, 100):
        post(ours.base + "/api/posts",
             {"titulo": f"seed {i}", "conteudo": "post inicial do benchmark", "autor": "bench"})
    servers = {"ours": ours, "gunicorn": gunicorn("desafio3", "app:app", port(), db)}
    return measure(servers, [("d3 cached read", "/api/posts/cache", None),
                             ("d3 uncached read", "/api/posts", None),
                             ("d3 write", "/api/posts", BENCH / "post.lua")])


def desafio5():
    print("== desafio5: GET /users through the gateway (same users/orders services)")
    users = Server("users", [str(RELEASE / "d5-users")], {"PORT": str(pu := port())}, pu,
                   ready="/health")
    orders = Server("orders", [str(RELEASE / "d5-orders")], {"PORT": str(po := port())}, po,
                    ready="/health")
    try:
        servers = {"ours": Server("ours", [str(RELEASE / "d5-gateway")],
                                  {"PORT": str(p := port()), "USERS_SERVICE": f"127.0.0.1:{pu}",
                                   "ORDERS_SERVICE": f"127.0.0.1:{po}"}, p, ready="/health")}
        servers["gunicorn"] = gunicorn("desafio5", "gateway:app", port(),
                                       {"USERS_URL": users.base, "ORDERS_URL": orders.base})
        return measure(servers, [("d5 gateway /users", "/users", None)])
    finally:
        users.stop()
        orders.stop()


# ------------------------------------------------------------ images and builds


def images():
    """Our images' sizes as built (docker image inspect); theirs: no Python
    base image can be had here, so only the size of the Python packages
    their image would add on top of python:3.11-slim (a lower bound)."""
    ours = {}
    for ref in ["d1-server", "d3-web", "d5-gateway", "d5-users", "d5-orders"]:
        r = subprocess.run(["docker", "image", "inspect", "--format",
                            "{{.Size}} {{.Created}}", ref], check=False, capture_output=True,
                           text=True)
        if r.returncode == 0:
            size, created = r.stdout.split()
            ours[ref] = {"bytes": int(size), "created": created}
    site = next((BENCH / ".venv" / "lib").glob("python3*/site-packages"))
    skip = ("pip", "setuptools", "_distutils_hack")
    packages = sum(f.stat().st_size for f in site.rglob("*")
                   if f.is_file() and not f.relative_to(site).parts[0].startswith(skip))
    return {"ours": ours, "theirs_python_packages_bytes": packages}


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    mem = int(Path("/proc/meminfo").read_text().split()[1])
    return {"cores": os.cpu_count(), "memory_gib": round(mem / 1048576, 1), "cpu": cpu,
            "kernel": platform.release(), "load_average_start": os.getloadavg()}


def main():
    results = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "load_generator": {"tool": "wrk", "threads": THREADS, "connections": CONNECTIONS,
                           "duration_s": DURATION, "warmup_s": WARMUP,
                           "gunicorn_workers": WORKERS},
        "python": platform.python_version(),
        "versions": os.environ.get("VERSIONS", ""),
    }
    # ONLY=desafio5 (say) runs one part, for development; report.py needs all.
    only = os.environ.get("ONLY", "")
    try:
        for name, run in [("desafio1", desafio1), ("desafio3", desafio3),
                          ("desafio5", desafio5)]:
            if only in ("", name):
                results[name] = run()
    finally:
        while _running:  # kill_group takes each off the list
            kill_group(_running[0])
    results["load_average_end"] = os.getloadavg()
    results["images"] = images()
    builds = os.environ.get("BUILDS_JSON")
    results["builds"] = json.loads(Path(builds).read_text()) if builds else None
    out = BENCH / "results" / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"== written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
