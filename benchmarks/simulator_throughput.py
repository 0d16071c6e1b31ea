"""Requests per second the simulator serves to 16 concurrent clients (authenticated ``GET /tests``)."""

from __future__ import annotations

import threading
import time

import httpx

from benchmarks._common import simulator, table

CLIENTS = 16


def _round(url: str, requests_per_client: int) -> float:
    """One round: requests per second over all clients."""
    barrier = threading.Barrier(CLIENTS + 1)
    failures: list[int] = []

    def run() -> None:
        with httpx.Client(base_url=url) as client:
            token = client.get("/login", params={"user": "demo", "password": "demo-password"}).text
            headers = {"Authentication": f"bearer {token}"}
            barrier.wait()
            for _ in range(requests_per_client):
                status = client.get("/tests", headers=headers).status_code
                if status != 200:
                    failures.append(status)

    workers = [threading.Thread(target=run) for _ in range(CLIENTS)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    assert not failures, failures[:5]
    return CLIENTS * requests_per_client / elapsed


def report(requests_per_client: int = 150, rounds: int = 3) -> str:
    """The markdown section."""
    with simulator("spec/synthetic-classic.yaml", "--rate-limit", "100000000/60") as url:
        rates = [_round(url, requests_per_client) for _ in range(rounds)]
    rates.sort()
    return "\n".join(
        [
            "## 5. Simulator throughput",
            "",
            f"{CLIENTS} threads, each with its own token and connection, {requests_per_client} authenticated "
            f"`GET /tests` each; {rounds} rounds.",
            "",
            table(
                ["statistic", "requests/s"],
                [["median", f"{rates[len(rates) // 2]:.0f}"], ["min", f"{rates[0]:.0f}"], ["max", f"{rates[-1]:.0f}"]],
            ),
        ]
    )


if __name__ == "__main__":
    print(report())
