"""A persistent pool of writer *processes* for time-boxed throughput runs (no Django here).

Each worker imports ``module`` and calls ``module.setup(index)`` once (e.g. ``django.setup()`` and loading
fixtures), then serves commands: run operation ``op`` as writer ``w`` of ``n`` from ``start`` until ``end``
(wall-clock), calling ``module.<op>(state, w, n, i, params)`` for i = 0, 1, … . An operation returns how
many transfers it posted (1 for a single posting, the batch size for a batch). Processes, not threads:
the GIL would otherwise make the load generator the bottleneck. Start-up is outside the timed window.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import queue
import time
import traceback
from collections.abc import Callable
from typing import Any


def _serve(index: int, module: str, cmd_q: Any, res_q: Any) -> None:
    try:
        mod = importlib.import_module(module)
        state = mod.setup(index)
    except Exception:
        res_q.put(("error", index, traceback.format_exc()))
        return
    res_q.put(("ready", index, None))
    while True:
        msg = cmd_q.get()
        if msg is None:
            break
        op, writer, writers, start, end, params = msg
        fn = getattr(mod, op)
        posted = ops = errors = 0
        first_error = None
        latencies: list[float] = []
        while time.time() < start:
            time.sleep(min(0.005, max(0.0, start - time.time())))
        i = 0
        cpu0 = time.process_time()
        last = time.time()
        while last < end:
            t0 = time.perf_counter()
            try:
                posted += fn(state, writer, writers, i, params)
                ops += 1
            except Exception as exc:
                errors += 1
                if first_error is None:
                    first_error = f"{type(exc).__name__}: {exc}"[:300]
            latencies.append(time.perf_counter() - t0)
            i += 1
            last = time.time()
        res_q.put(
            (
                "done",
                index,
                {
                    "posted": posted,
                    "ops": ops,
                    "errors": errors,
                    "first_error": first_error,
                    "finished": last,
                    "cpu_s": time.process_time() - cpu0,
                    "latencies": latencies,
                },
            )
        )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class WriterPool:
    def __init__(self, size: int, module: str, *, startup_timeout: float = 180.0):
        ctx = mp.get_context("spawn")
        self.size = size
        self.cmd = [ctx.Queue() for _ in range(size)]
        self.res = ctx.Queue()
        self.procs = [
            ctx.Process(target=_serve, args=(i, module, self.cmd[i], self.res), daemon=True) for i in range(size)
        ]
        for p in self.procs:
            p.start()
        deadline = time.time() + startup_timeout
        ready = 0
        while ready < size:
            kind, index, detail = self.res.get(timeout=max(1.0, deadline - time.time()))
            if kind == "error":
                self.close()
                raise RuntimeError(f"writer {index} failed to start:\n{detail}")
            ready += 1

    def run(
        self,
        op: str,
        writers: int,
        seconds: float,
        params: dict[str, Any] | None = None,
        *,
        sampler: Callable[[], None] | None = None,
        sample_every: float = 0.25,
    ) -> dict[str, Any]:
        """Run ``op`` with ``writers`` concurrent processes for ``seconds``; return throughput and latency."""
        assert writers <= self.size
        start = time.time() + 0.5
        end = start + seconds
        for w in range(writers):
            self.cmd[w].put((op, w, writers, start, end, params or {}))
        done: list[dict[str, Any]] = []
        while len(done) < writers:
            try:
                kind, _index, detail = self.res.get(timeout=sample_every)
            except queue.Empty:
                if sampler is not None and start <= time.time() <= end:
                    sampler()
                continue
            if kind == "done":
                done.append(detail)
        elapsed = max(d["finished"] for d in done) - start
        latencies = [x for d in done for x in d["latencies"]]
        posted = sum(d["posted"] for d in done)
        return {
            "op": op,
            "writers": writers,
            "seconds": elapsed,
            "posted": posted,
            "ops": sum(d["ops"] for d in done),
            "errors": sum(d["errors"] for d in done),
            "first_error": next((d["first_error"] for d in done if d["first_error"]), None),
            "per_second": posted / elapsed if elapsed > 0 else 0.0,
            "client_cpu_ms_per_posting": sum(d["cpu_s"] for d in done) * 1000 / max(1, posted),
            "p50_ms": _percentile(latencies, 0.50) * 1000,
            "p99_ms": _percentile(latencies, 0.99) * 1000,
        }

    def close(self) -> None:
        for q in self.cmd:
            with contextlib.suppress(Exception):  # best effort at shutdown
                q.put(None)
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
