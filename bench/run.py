"""The benchmark: the real server under wrk, against ceilings measured in the same run.

    python -m bench.run            # make bench: both engines, 16 and 64 connections, 10 s each
    python -m bench.run --quick    # make bench-quick: shorter, 16 connections, smaller data

For each engine: migrate, seed the catalog, add customers with order history, start gunicorn
exactly as production does, and load each scenario with wrk (bench/scenario.lua). Ceilings,
same worker settings: a bare Flask app answering the list page's bytes (framework ceiling), and
the checkout's own SQL replayed through the driver (database ceiling, bench/db_ceiling.py).
Prints a table, writes bench/results/latest.json and bench/results/latest.png.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench import db_ceiling
from bench.store import ROOT, Server, capture_checkout, ceiling_buyers, database, prepare
from bench.store import server_env as make_env

RESULTS = ROOT / "bench" / "results"
SCRIPT = ROOT / "bench" / "scenario.lua"
# Login last: a password hash is the slowest answer, and requests still queued when wrk stops
# would be served during the next scenario (load() also waits for the queue to drain).
SCENARIOS = ("list", "detail", "filtered", "cart", "add", "checkout", "history", "login")
# Each scenario's framework ceiling: bare Flask answering the same bytes (bench/ceiling_app.py).
CEILINGS = {"list": "list", "detail": "detail", "cart": "cart"}
# Reported against the cheapest ceiling; the targets are on the reads and checkout.
REPORTED = {"add": "list", "login": "list"}
TARGETS = {"list": 0.5, "detail": 0.6, "cart": 0.45, "checkout": 0.4}
PORT, CEILING_PORT = 8731, 8732
# Requests per measured unit: a checkout is three cart adds and the order.
REQUESTS_PER = {"checkout": 4}


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk")


def wrk(wrk_bin, base, scenario, connections, seconds, data_file) -> dict:
    command = [
        wrk_bin, f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--latency",
        "--timeout", "10s", "-s", str(SCRIPT), base, "--", scenario, str(data_file),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = json.loads(re.search(r"^RESULT (.*)$", output, re.M).group(1))
    per = REQUESTS_PER.get(scenario, 1)
    return {
        "rps": result["requests"] / per / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": result["errors"] + result["non_2xx"],
        "server_errors": result["server_errors"],
    }


def load(wrk_bin, base, scenario, connections, args, data_file) -> dict:
    wrk(wrk_bin, base, scenario, connections, args.warmup, data_file)
    result = wrk(wrk_bin, base, scenario, connections, args.duration, data_file)
    drain(base)
    return result


def drain(base: str) -> None:
    """Wait until the server has answered what wrk left queued (the listen backlog): one
    request after another, until one comes back at once."""
    for _ in range(100):
        started = time.monotonic()
        requests.get(base + "/api/products", timeout=120)  # both servers answer it
        if time.monotonic() - started < 0.05:
            return


def lua_data(data: dict, path: Path) -> Path:
    def table(values):
        return "{" + ", ".join(table(v) if isinstance(v, list) else json.dumps(v)
                               for v in values) + "}"  # fmt: skip

    path.write_text(
        f"return {{tokens = {table(data['tokens'])}, products = {table(data['products'])}, "
        f"detail_ids = {table(data['detail_ids'])}, logins = {table(data['logins'])}}}\n"
    )
    return path


def bench_engine(engine, args, wrk_bin, folder) -> dict:
    rows = []
    with database(engine, folder) as url:
        data = prepare(url, args.products, args.customers, 3, max(args.connections))
        data_file = lua_data(data, folder / f"{engine}.lua")
        env = make_env(url, PORT, args.workers)
        server = Server(env, log=folder / f"{engine}-server.log")
        try:
            bodies = answers(server.base, data, folder / engine)
            for connections in args.connections:
                for scenario in SCENARIOS:
                    result = load(wrk_bin, server.base, scenario, connections, args, data_file)
                    rows.append({"scenario": scenario, "connections": connections, **result})
            rss = server.worker_rss_mb()
        finally:
            server.stop()
        rows += framework_ceiling(bodies, args, wrk_bin, data_file, url)
        rows += database_ceiling(url, args)
    return {"rows": rows, "worker_rss_mb": rss}


def answers(base: str, data: dict, folder: Path) -> Path:
    """The bytes the store returns for each ceiling's scenario, as files, and their index."""
    folder.mkdir(exist_ok=True)
    token = {"Authorization": f"Bearer {data['tokens'][0]}"}
    requests.post(f"{base}/api/cart", json={"product_id": data["products"][0][0], "quantity": 1},
                  headers=token, timeout=10).raise_for_status()  # fmt: skip
    paths = {
        "list": ("/api/products?per_page=20", {}),
        "detail": (f"/api/products/{data['detail_ids'][0]}", {}),
        "cart": ("/api/cart", token),
    }
    files = {}
    for name, (path, headers) in paths.items():
        response = requests.get(base + path, headers=headers, timeout=10)
        response.raise_for_status()
        files[name] = str(folder / f"{name}.json")
        Path(files[name]).write_bytes(response.content)
    index = folder / "bodies.json"
    index.write_text(json.dumps(files))
    return index


def framework_ceiling(bodies: Path, args, wrk_bin, data_file, url) -> list[dict]:
    env = make_env(url, CEILING_PORT, args.workers, CEILING_BODIES=str(bodies))
    server = Server(env, app="bench.ceiling_app:create_app()")
    try:
        return [
            {"scenario": f"ceiling:{name}", "connections": connections,
             **load(wrk_bin, server.base, name, connections, args, data_file)}
            for connections in args.connections
            for name in dict.fromkeys(CEILINGS.values())
        ]  # fmt: skip
    finally:
        server.stop()


def database_ceiling(url, args) -> list[dict]:
    captured = capture_checkout(url)
    buyers = ceiling_buyers(url, max(args.connections))
    return [
        {"scenario": "ceiling:database", "connections": connections,
         **db_ceiling.measure(url, captured, buyers[:connections], args.duration)}
        for connections in args.connections
    ]  # fmt: skip


def scaling(args, wrk_bin, folder) -> list[dict]:
    """List page, detail and order history at a small and a large store (SQLite, 16 conns,
    5 s each: a comparison within one run)."""
    rows = []
    args = argparse.Namespace(**{**vars(args), "duration": 5})
    for size in (1_000, 100_000):
        with database("sqlite", folder) as url:
            data = prepare(url, size, max(1, size // 3), 3, 16)
            data_file = lua_data(data, folder / f"scale-{size}.lua")
            server = Server(make_env(url, PORT, args.workers))
            try:
                for scenario in ("list", "detail", "history"):
                    result = load(wrk_bin, server.base, scenario, 16, args, data_file)
                    rows.append({"scenario": scenario, "size": size, **result})
            finally:
                server.stop()
    return rows


def ratios(rows: list[dict]) -> None:
    """Each row's throughput against its ceiling at the same connection count."""
    ceilings = {(row["scenario"], row["connections"]): row["rps"] for row in rows}
    against = {name: f"ceiling:{ceiling}" for name, ceiling in (CEILINGS | REPORTED).items()}
    against["checkout"] = "ceiling:database"
    for row in rows:
        ceiling = against.get(row["scenario"])
        if ceiling:
            row["ratio"] = row["rps"] / ceilings[(ceiling, row["connections"])]


def targets(results: dict) -> list[dict]:
    """The issue's targets, each a ratio or a bound measured in this run."""
    checks = []

    def check(name, value, limit, ok, shown):
        checks.append({"target": name, "value": value, "limit": limit, "met": ok,
                       "shown": shown})  # fmt: skip

    for engine, outcome in results["engines"].items():
        rows = outcome["rows"]
        for row in rows:
            where = f"{engine} {row['scenario']} at {row['connections']}"
            bound = TARGETS.get(row["scenario"])
            if bound is not None:
                check(f"{where}: ratio to ceiling", row["ratio"], bound,
                      row["ratio"] >= bound, f"{row['ratio']:.0%} (>= {bound:.0%})")  # fmt: skip
            if row["connections"] == max(results["settings"]["connections"]) and not row[
                "scenario"
            ].startswith("ceiling"):
                bad = row["errors"] + row["server_errors"]
                check(f"{where}: errors and 5xx", bad, 0, bad == 0, str(bad))
            if not row["scenario"].startswith("ceiling"):
                spread = row["p99_ms"] / row["p50_ms"] if row["p50_ms"] else 0
                check(f"{where}: p99 / p50", spread, 4, spread <= 4, f"{spread:.1f}x (<= 4x)")
        worst = max(outcome["worker_rss_mb"])
        check(f"{engine}: worker RSS", worst, 120, worst <= 120, f"{worst:.0f} MB (<= 120)")
    scale = {(row["scenario"], row["size"]): row for row in results.get("scaling", [])}
    for scenario in ("list", "detail", "history"):
        if (scenario, 1_000) in scale:
            growth = scale[(scenario, 1_000)]["rps"] / scale[(scenario, 100_000)]["rps"]
            check(f"sqlite {scenario}: cost at 100,000 / at 1,000", growth, 1.25,
                  growth <= 1.25, f"{growth:.2f}x (<= 1.25x)")  # fmt: skip
    return checks


def markdown(results: dict) -> str:
    lines = [
        f"Measured {results['date']} on {results['machine']}, "
        f"{results['settings']['workers']} gunicorn workers, wrk for "
        f"{results['settings']['duration']} s per scenario after a "
        f"{results['settings']['warmup']} s warm-up (`make bench`).",
        "",
        "| engine | scenario | connections | req/s | p50 ms | p99 ms | errors | 5xx | ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for engine, outcome in results["engines"].items():
        for row in outcome["rows"]:
            ratio = f"{row['ratio']:.0%}" if "ratio" in row else ""
            lines.append(
                f"| {engine} | {row['scenario']} | {row['connections']} | {row['rps']:.0f} | "
                f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} | "
                f"{row['server_errors']} | {ratio} |"
            )
    lines += ["", "| target | measured | met |", "| --- | --- | --- |"]
    lines += [
        f"| {item['target']} | {item['shown']} | {'yes' if item['met'] else '**no**'} |"
        for item in results["targets"]
    ]
    return "\n".join(lines) + "\n"


def update_readme(text: str) -> None:
    """Replace the README's benchmark table (between its markers) with this run's."""
    readme = ROOT / "README.md"
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    content = readme.read_text()
    if start in content and end in content:
        head, rest = content.split(start, 1)
        readme.write_text(f"{head}{start}\n{text}{end}{rest.split(end, 1)[1]}")


def print_table(engine: str, rows: list[dict]) -> None:
    print(f"\n{engine}")
    print(f"{'scenario':<18}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}{'5xx':>6}{'ratio':>8}")  # fmt: skip
    for row in rows:
        ratio = f"{row['ratio']:.0%}" if "ratio" in row else ""
        print(f"{row['scenario']:<18}{row['connections']:>6}{row['rps']:>10.1f}"
              f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['errors']:>8}"
              f"{row['server_errors']:>6}{ratio:>8}")  # fmt: skip


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    engines = list(results["engines"])
    connections = results["settings"]["connections"]
    figure, axes = pyplot.subplots(1, len(engines), figsize=(7 * len(engines), 4.5), sharey=True)
    axes = axes if len(engines) > 1 else [axes]
    for axis, engine in zip(axes, engines, strict=True):
        rows = results["engines"][engine]["rows"]
        names = list(dict.fromkeys(row["scenario"] for row in rows))
        width = 0.8 / len(connections)
        throughput = {(row["scenario"], row["connections"]): row["rps"] for row in rows}
        for index, conns in enumerate(connections):
            values = [throughput.get((name, conns), 0) for name in names]
            positions = [i + index * width for i in range(len(names))]
            axis.bar(positions, values, width, label=f"{conns} connections")
        axis.set_xticks([i + width * (len(connections) - 1) / 2 for i in range(len(names))])
        axis.set_xticklabels(names, rotation=35, ha="right")
        axis.set_title(f"{engine}: throughput per scenario")
        axis.set_ylabel("requests/s (checkouts/s for checkout)")
        axis.set_yscale("log")
        axis.legend()
    figure.suptitle(f"{results['date']}  {results['machine']}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    args = parser.parse_args(argv)
    args.engines = args.engines.split(",")
    os.environ["LOG_LEVEL"] = "WARNING"  # this process's own app (set-up); servers: store.py
    if args.quick:
        args.duration, args.warmup, args.connections = 3, 1, [16]
        args.products, args.customers = 2_000, 200
    else:
        args.duration, args.warmup, args.connections = 10, 1, [16, 64]
        args.products, args.customers = 10_000, 1_000
    wrk_bin = ensure_wrk()
    RESULTS.mkdir(exist_ok=True)
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "settings": {key: value for key, value in vars(args).items()},
        "engines": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        for engine in args.engines:
            outcome = bench_engine(engine, args, wrk_bin, folder)
            ratios(outcome["rows"])
            results["engines"][engine] = outcome
            print_table(engine, outcome["rows"])
            print(f"worker RSS after the run (MB): {outcome['worker_rss_mb']}")
        if not args.quick:
            results["scaling"] = scaling(args, wrk_bin, folder)
            for row in results["scaling"]:
                print(f"scaling {row['scenario']:<8} {row['size']:>7} products: "
                      f"{row['rps']:.0f} req/s, p50 {row['p50_ms']:.1f} ms")  # fmt: skip
    results["targets"] = targets(results)
    print()
    for item in results["targets"]:
        print(f"{'met   ' if item['met'] else 'MISSED'} {item['target']}: {item['shown']}")
    name = "quick" if args.quick else "latest"
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, RESULTS / f"{name}.png")
    if not args.quick:
        update_readme(markdown(results))
    print(f"\nwrote {RESULTS / name}.json and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
