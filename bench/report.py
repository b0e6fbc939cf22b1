"""Turns bench/results/results.json into bench/results/chart.svg and
bench/RESULTS.md. Every number printed comes from that file; nothing here
measures anything. Run by bench/run; can be run again by hand."""

import json
from pathlib import Path
import section  # bench/section.py, beside this file

BENCH = Path(__file__).resolve().parent
R = json.loads((BENCH / "results" / "results.json").read_text())

PEERS = {"ours": ("ours (Rust)", "#d9480f"),
         "flask_dev": ("Flask dev server (debug=True)", "#adb5bd"),
         "gunicorn": ("Flask + gunicorn, 4 workers", "#1c7ed6")}
# (desafio, scenario) in display order
CASES = [("desafio1", "d1 /"), ("desafio3", "d3 cached read"),
         ("desafio3", "d3 uncached read"), ("desafio3", "d3 write"),
         ("desafio5", "d5 gateway /users")]
SERVICES = [("desafio1", "desafio1 server"), ("desafio3", "desafio3 posts API"),
            ("desafio5", "desafio5 gateway")]


def mib(k):
    return k / 1024


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


# ------------------------------------------------------------ chart


def bars(title, rows, unit, y0, width=760, log=True):
    """A panel of grouped horizontal bars on a log scale: rows is a list of
    (label, [(peer, value)])."""
    import math
    values = [v for _, group in rows for _, v in group if v]
    lo, hi = min(values), max(values)
    lo_e, hi_e = math.floor(math.log10(lo / 2)), math.ceil(math.log10(hi))
    x0, x1, bar_h = 170, width - 80, 11

    def x(v):
        return x0 + (x1 - x0) * (math.log10(v) - lo_e) / max(hi_e - lo_e, 1)

    out = [f'<text x="10" y="{y0 + 14}" font-weight="bold">{title}</text>']
    y = y0 + 26
    for e in range(lo_e, hi_e + 1):
        label = f"{10 ** e:,}" if e >= 0 else f"{10 ** e:g}"
        out.append(f'<line x1="{x(10 ** e):.1f}" y1="{y}" x2="{x(10 ** e):.1f}" '
                   f'y2="{y + sum(len(g) * (bar_h + 2) + 10 for _, g in rows)}" stroke="#e9ecef"/>')
        out.append(f'<text x="{x(10 ** e):.1f}" y="{y - 3}" font-size="9" fill="#868e96" '
                   f'text-anchor="middle">{label}</text>')
    for label, group in rows:
        out.append(f'<text x="10" y="{y + len(group) * (bar_h + 2) / 2 + 4}">{label}</text>')
        for peer, v in group:
            if v:
                out.append(f'<rect x="{x0}" y="{y}" width="{max(x(v) - x0, 1):.1f}" '
                           f'height="{bar_h}" fill="{PEERS[peer][1]}"/>')
                out.append(f'<text x="{x(v) + 4:.1f}" y="{y + 9}" font-size="9">'
                           f'{fmt(v, 0 if v >= 100 else 1)} {unit}</text>')
            y += bar_h + 2
        y += 10
    return out, y


def chart():
    panels = []
    rows = [(scenario, [(p, R[d][p]["load"][scenario]["rps"]) for p in PEERS if p in R[d]])
            for d, scenario in CASES]
    panels.append(("Requests per second (more is better, log scale)", rows, "req/s"))
    rows = [(scenario, [(p, R[d][p]["load"][scenario]["p99_ms"]) for p in PEERS if p in R[d]])
            for d, scenario in CASES]
    panels.append(("p99 latency in ms (less is better, log scale)", rows, "ms"))
    rows = [(label, [(p, mib(R[d][p]["rss_peak_kib"])) for p in PEERS if p in R[d]])
            for d, label in SERVICES]
    panels.append(("Peak RSS in MiB, whole process tree (less is better, log scale)", rows, "MiB"))
    rows = [(label, [(p, R[d][p]["start_ms"]) for p in PEERS if p in R[d]])
            for d, label in SERVICES]
    panels.append(("Start to first answer in ms (less is better, log scale)", rows, "ms"))
    body, y = [], 50
    for title, rows, unit in panels:
        part, y = bars(title, rows, unit, y)
        body += part
        y += 12
    legend = []
    for i, (name, color) in enumerate(PEERS.values()):
        legend.append(f'<rect x="{10 + i * 250}" y="22" width="12" height="12" fill="{color}"/>'
                      f'<text x="{28 + i * 250}" y="32">{name}</text>')
    m = R["machine"]
    head = (f'<text x="10" y="14" font-weight="bold">Rust rewrite vs Flask references — '
            f'{R["date"][:10]}, {m["cores"]} cores, wrk -c{R["load_generator"]["connections"]} '
            f'-d{R["load_generator"]["duration_s"]}s, loopback</text>')
    svg = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{y}" '
            f'font-family="sans-serif" font-size="11">'),
           f'<rect width="760" height="{y}" fill="white"/>', head, *legend, *body, "</svg>"]
    (BENCH / "results" / "chart.svg").write_text("\n".join(svg) + "\n")


# ------------------------------------------------------------ tables


def ratio(a, b):
    return None if not a or not b else a / b


def verdict(ok):
    return "**met**" if ok else "**not met**"


def tables():
    lines = ["| scenario | peer | req/s | p50 ms | p99 ms | errors | body bytes | ours is |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for d, scenario in CASES:
        ours = R[d]["ours"]["load"][scenario]["rps"]
        for p in PEERS:
            if p not in R[d]:
                continue
            r = R[d][p]["load"][scenario]
            x = "" if p == "ours" else f"{ratio(ours, r['rps']):.1f}x faster"
            lines.append(f"| {scenario} | {PEERS[p][0]} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                         f"{r['p99_ms']:.2f} | {r['socket_errors'] + r['non_2xx']} | "
                         f"{r.get('body_bytes', '')} | {x} |")
    lines += ["", ("| service | peer | processes | RSS idle MiB | RSS under load MiB | "
                   "peak (VmHWM) MiB | PSS after load MiB | start to first answer ms | "
                   "SIGTERM to exit ms |"),
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for d, label in SERVICES:
        for p in PEERS:
            if p in R[d]:
                s = R[d][p]
                lines.append(f"| {label} | {PEERS[p][0]} | {s['processes']} | "
                             f"{mib(s['rss_idle_kib']):.1f} | {mib(s['rss_load_kib']):.1f} | "
                             f"{mib(s['rss_peak_kib']):.1f} | {mib(s['pss_after_load_kib']):.1f} | "
                             f"{s['start_ms']:.1f} | {fmt(s['sigterm_ms'])} |")
    return "\n".join(lines)


def targets():
    d1 = R["desafio1"]
    rps = {p: d1[p]["load"]["d1 /"]["rps"] for p in d1}
    out = ["| target (issue 5) | measured | result |", "|---|---|---|"]
    x = ratio(rps["ours"], rps["flask_dev"])
    out.append(f"| desafio1 `/` ≥ 50x Flask dev server | {x:.1f}x | {verdict(x >= 50)} |")
    x = ratio(rps["ours"], rps["gunicorn"])
    out.append(f"| desafio1 `/` ≥ 5x gunicorn, 4 workers | {x:.1f}x | {verdict(x >= 5)} |")
    for d, label in SERVICES:
        ours = R[d]["ours"]["rss_peak_kib"]
        for p in ("flask_dev", "gunicorn"):
            if p in R[d]:
                x = ratio(R[d][p]["rss_peak_kib"], ours)
                y = ratio(R[d][p]["pss_after_load_kib"], R[d]["ours"]["pss_after_load_kib"])
                out.append(f"| RSS ≥ 8x smaller: {label} vs {PEERS[p][0]} (peak) | {x:.1f}x "
                           f"(by PSS: {y:.1f}x) | {verdict(x >= 8)} |")
    for d, label in SERVICES:
        ms = R[d]["ours"]["start_ms"]
        out.append(f"| start to first answer < 50 ms: {label} | {ms:.1f} ms | {verdict(ms < 50)} |")
    for d, label in SERVICES:
        ms = R[d]["ours"]["sigterm_ms"]
        ok = ms is not None and ms < 100
        out.append(f"| exit on SIGTERM < 100 ms: {label} | {fmt(ms)} ms | {verdict(ok)} |")
    return "\n".join(out)


def images():
    im = R["images"]
    lines = ["| image (ours, `docker image inspect`) | size MB | built at |", "|---|---:|---|"]
    for ref, v in im["ours"].items():
        lines.append(f"| {ref} | {v['bytes'] / 1e6:.1f} | {v['created'][:19]}Z |")
    lines.append("")
    lines.append(f"Theirs: no `python:*` base image can be had on this machine (no registry; the "
                 f"stand-in tool has no Python family), so no Flask image was built and no size "
                 f"is claimed for one. What is measured: the Python packages of "
                 f"`bench/flask/requirements.txt` alone take "
                 f"{im['theirs_python_packages_bytes'] / 1e6:.1f} MB installed, which every "
                 f"Flask image adds on top of its Python base image.")
    b = R.get("builds")
    lines.append("")
    if b:
        cold = b["cold_build_all_images_s"]
        lines.append(
            f"Builds: rebuild of desafio1's image after a one-line change (a new line "
            f"appended to crates/d1-server/src/lib.rs, in a copy of the build context): "
            f"{b['rebuild_one_line_change_s']} s (BuildKit cache warm; "
            f"`docker build` of `desafio1/Dockerfile.server`; on a shared machine this "
            f"includes any wait for the compile cache, which concurrent builds lock). "
            f"Cold build of every image: "
            + (f"{cold} s." if cold is not None else
               "not measured in this run (`bench/run --builds` prunes the BuildKit cache "
               "first, so it was left off on a machine shared with other builds)."))
    else:
        lines.append("Builds: not measured in this run (`bench/run --builds` measures a cold "
                     "build of every image and a one-line-change rebuild; it prunes the BuildKit "
                     "cache, so it was left off on a machine shared with other builds).")
    return "\n".join(lines)


def results_md():
    m, lg = R["machine"], R["load_generator"]
    la, le = m["load_average_start"], R["load_average_end"]
    busy = la[0] > 1.0
    note = (f"**The machine was not idle**: load average {la[0]:.2f} at the start on "
            f"{m['cores']} cores (the one-minute average still counts the release build `bench/run` "
            f"does first, and with `--builds` the image builds), "
            f"{le[0]:.2f} at the end. "
            f"Both sides ran under the same conditions, taking turns scenario by "
            f"scenario, but absolute "
            f"numbers are lower and noisier than on an idle machine." if busy else
            f"The machine was otherwise idle (load average {la[0]:.2f} at the start).")
    text = f"""# Benchmark: the Rust rewrite against the Flask originals

Produced by `bench/run` (one command; see its header). Everything below comes
from one run of it: `bench/results/results.json`. The Flask peers are the
reference implementations in `bench/flask/` — reconstructed from the
write-ups, for comparison only.

- Date: {R['date']}
- Machine: {m['cores']} cores, {m['memory_gib']} GiB, {m['cpu']}, Linux {m['kernel']}
- Load average at the start: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}; at the end: {le[0]:.2f}
- Load: wrk {lg['threads']} threads, {lg['connections']} connections, {lg['warmup_s']} s
  warm-up then {lg['duration_s']} s measured per row, 127.0.0.1 only; Python
  {R['python']}; gunicorn {lg['gunicorn_workers']} sync workers.
- Versions: {R['versions']}

{note}

![chart](results/chart.svg)

## Targets

{targets()}

## Throughput and latency

{tables()}

## Images and builds

{images()}

## How it was measured

- Every server runs as a plain process on this machine (our release
  binaries; the Flask apps from `bench/.venv`), stdout and stderr to
  /dev/null (ours log one line per request, like the Flask originals).
- desafio3: both APIs use the same PostgreSQL and Redis (Debian's), started by
  `bench/run` on loopback, with at least 100 posts in the table so both list
  queries return the same full page of 100. The Flask reference opens a
  PostgreSQL connection per request (as such apps are usually written);
  authentication is `trust`, which spares it the password exchange.
- desafio5: both gateways call the same d5-users and d5-orders processes
  (ours, release builds); memory, start and stop figures are the gateway's
  alone. Our gateway keeps pooled connections to them; the Flask gateway
  calls `requests.get` per request (no session), the plain use of
  `requests` the write-ups show.
- Body bytes: the size of one answer. The Flask answers are a little
  larger for the same data (`jsonify` escapes non-ASCII letters as
  `\\u00f4`, and dates end in `+00:00` instead of `Z`).
- RSS: VmRSS/VmHWM from /proc summed over the process tree (gunicorn: master
  + workers; Flask dev server with `debug=True`: Werkzeug's reloader + the
  server, two Python processes). Summing RSS counts pages the forked
  workers share once per process, as `ps` would; the PSS column counts
  them once in all, the fairest single figure for gunicorn. The targets
  use peak RSS, as issue 5 asks.
- Start: process start to the first 200 answer (`/` for desafio1, `/health`
  for the others), polled every 1 ms. SIGTERM: signal to the started process
  (what `docker stop` sends to PID 1) to its exit.
"""
    # The sections bench/desafio1.sh and bench/desafio5.sh write stay.
    old = BENCH / "RESULTS.md"
    kept = section.sections(old.read_text()) if old.exists() else []
    old.write_text(text + "".join("\n" + s for s in kept))


chart()
results_md()
print("== written bench/results/chart.svg and bench/RESULTS.md")
