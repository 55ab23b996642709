"""Where the CPU went during a load run: seconds used by the server, PostgreSQL, Redis and the client.

On a 2-core machine the load generator and the database share the cores with the server, so a
throughput figure means little without what each of them spent. Linux /proc only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


class CpuMeter:
    """CPU seconds by process group between start() and spent(); `machine_busy` is the share of the
    whole machine that was busy (ours and others'): near 1.0, CPU was the bound."""

    def __init__(self, *, port: int, database_url: str) -> None:
        self._port, self._database_url = port, database_url
        self._before: dict[str, dict[int, float]] = {}
        self._machine_before = 0.0

    def _groups(self) -> dict[str, dict[int, float]]:
        # Listed each time: the pool opens PostgreSQL connections (server processes) during the run.
        pids = {
            "server": _server_pids(self._port),
            "postgres": _postgres_pids(self._database_url),
            "redis": _processes(lambda comm, _argv, _parent: comm == "redis-server"),
            "client": [os.getpid()],
        }
        return {name: _cpu_seconds(those) for name, those in pids.items()}

    def start(self) -> None:
        self._before, self._machine_before = self._groups(), _machine_busy_seconds()

    def spent(self, seconds: float) -> tuple[dict[str, float], float]:
        """(CPU seconds by group, machine busy share) since start(), over `seconds` of wall time."""
        after = self._groups()
        machine_busy = (_machine_busy_seconds() - self._machine_before) / (seconds * (os.cpu_count() or 1))
        used = {
            name: sum(cpu - self._before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
            for name, pids in after.items()
        }
        return used, machine_busy


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of these processes (left out where unreadable)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all processes, ours and others')."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _processes(match: Callable[[str, list[str], int], bool]) -> list[int]:
    """Pids whose (name, argv, parent pid) match."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                comm = (entry / "comm").read_text().strip()
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if match(comm, (entry / "cmdline").read_text().split("\0"), parent):
                    pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _server_pids(port: int) -> list[int]:
    """The uvicorn serving on port, with its workers (which run the app when there are several)."""
    parents = _processes(lambda _comm, argv, _parent: "uvicorn" in argv and str(port) in argv)
    return parents + _processes(lambda _comm, _argv, parent: parent in parents)


def _postgres_pids(database_url: str) -> list[int]:
    """The local PostgreSQL server's processes (none for SQLite)."""
    if not database_url.startswith("postgresql"):
        return []
    return _processes(lambda comm, _argv, _parent: comm == "postgres")
