"""Judge throughput: 2,000 comparisons at concurrency 32 against a loopback server answering in 200 ms.

The ideal rate is 32 / 0.2 s = 160 comparisons per second; the goal is at least 85% of it. The
fake server runs in its own process (tests/support/fake_openai.py) so that it does not share the
GIL with the judge. Beside Tiebreak's run, the same requests are sent with a bare ``httpx2``
client (no openai client, no parsing, no SQLite) as the floor. A second run must make 0 requests.
Usage: ``python benchmarks/bench_judge.py [--n 2000] [--concurrency 32] [--delay 0.2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from tests.support.judge_data import add_comparisons  # noqa: E402
from tiebreak.core.judge import JudgeOptions, load_config, run_judge  # noqa: E402
from tiebreak.core.judge import sql as judge_sql  # noqa: E402
from tiebreak.core.judge.prompts import request_body  # noqa: E402
from tiebreak.core.store import Store  # noqa: E402

GOAL = 0.85


def start_server(delay: float) -> tuple[subprocess.Popen[str], str]:
    """The fake OpenAI server in a child process; returns it and its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.fake_openai", "--delay", str(delay)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)  # fmt: skip
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"fake server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def chat_requests(base_url: str) -> int:
    """Chat requests the fake server has answered so far."""
    stats = httpx2.get(base_url.removesuffix("/v1") + "/_fake/stats").json()
    return int(stats.get("POST /v1/chat/completions", 0))


async def floor_run(base_url: str, bodies: list[dict], concurrency: int) -> float:
    """Seconds for a bare httpx2 client to send ``bodies`` with ``concurrency`` workers."""
    queue = list(bodies)
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while queue:
                response = await client.post("/chat/completions", json=queue.pop())
                response.raise_for_status()
                response.json()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


def measure(base_url: str, n: int, concurrency: int) -> dict:
    """Two judge runs over ``n`` fresh comparisons, then the bare-httpx2 floor; raw figures."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite", create=True)
        add_comparisons(store, n)
        config = load_config("tiebreak-ranking")
        options = JudgeOptions(config=config, base_url=base_url, concurrency=concurrency)
        before, cpu = chat_requests(base_url), time.process_time()
        summary, run_id = run_judge(store, options, api_key="bench")
        cpu = time.process_time() - cpu
        first_requests = chat_requests(base_url) - before
        before = chat_requests(base_url)
        again, _ = run_judge(store, options, api_key="bench")
        out = {
            "wall": summary.wall_seconds, "cpu": cpu, "summary": summary, "again": again,
            "first_requests": first_requests, "second_requests": chat_requests(base_url) - before,
            "verdicts": len(store.annotations_frame(sources=["judge"], with_texts=False)),
            "status": judge_sql.run_row(store, run_id)["status"],
        }  # fmt: skip
        bodies = [request_body(config, c.instruction, c.output_1, c.output_2)
                  for c in judge_sql.candidates(store)]  # fmt: skip
        store.close()
    floor_cpu = time.process_time()
    out["floor"] = asyncio.run(floor_run(base_url, bodies, concurrency))
    out["floor_cpu"] = time.process_time() - floor_cpu
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures, the last line being one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--delay", type=float, default=0.2)
    args = ap.parse_args(argv)
    n, ideal = args.n, args.concurrency / args.delay
    proc, base_url = start_server(args.delay)
    try:
        m = measure(base_url, n, args.concurrency)
    finally:
        proc.kill()
        proc.wait()
    wall, floor, summary = m["wall"], m["floor"], m["summary"]
    rate, floor_rate = n / wall, n / floor
    overhead_ms = 1000 * (wall * args.concurrency / n - args.delay)
    floor_overhead_ms = 1000 * (floor * args.concurrency / n - args.delay)
    result = {
        "benchmark": "judge", "comparisons": n, "concurrency": args.concurrency,
        "server_delay_seconds": args.delay, "ideal_rows_per_second": round(ideal, 1),
        "rows_per_second": round(rate, 1), "fraction_of_ideal": round(rate / ideal, 3),
        "overhead_ms_per_call": round(overhead_ms, 2),
        "mean_call_latency_ms": round(1000 * summary.call_seconds / max(summary.calls, 1), 2),
        "cpu_ms_per_call": round(1000 * m["cpu"] / n, 3),
        "floor_httpx2_rows_per_second": round(floor_rate, 1),
        "floor_cpu_ms_per_call": round(1000 * m["floor_cpu"] / n, 3),
        "floor_overhead_ms_per_call": round(floor_overhead_ms, 2),
        "first_run_requests": m["first_requests"], "verdicts": m["verdicts"],
        "failed": summary.failed, "run_status": m["status"],
        "second_run_requests": m["second_requests"], "second_run_already_judged": m["again"].already,
        "goal_fraction": GOAL, "load_average_1min": round(os.getloadavg()[0], 2),
        "goal_met": rate / ideal >= GOAL and m["second_requests"] == 0 and m["verdicts"] == n,
    }  # fmt: skip
    print(f"{n} comparisons, concurrency {args.concurrency}, server {1000 * args.delay:.0f} ms, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"tiebreak judge   {wall:7.2f} s  {rate:6.1f} rows/s  {rate / ideal:6.1%} of ideal {ideal:.0f}/s"
          f"  overhead {overhead_ms:5.1f} ms/call  CPU {result['cpu_ms_per_call']:.2f} ms/call")  # fmt: skip
    print(f"bare httpx2      {floor:7.2f} s  {floor_rate:6.1f} rows/s  {floor_rate / ideal:6.1%} of ideal"
          f"  overhead {floor_overhead_ms:5.1f} ms/call  CPU {result['floor_cpu_ms_per_call']:.2f} ms/call"
          "  (floor: no openai client, no parsing, no SQLite)")  # fmt: skip
    print(f"second run: {m['second_requests']} requests ({m['again'].already} already judged); "
          f"goal >= {GOAL:.0%} of ideal: {'met' if result['goal_met'] else 'NOT met'}")  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
