"""Helpers shared by bench.py and scale.py: a free loopback port and CPU pinning."""

import shutil
import socket


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pinned(core, argv):
    """`argv` run on one core (taskset), as reference/benchmarking.md advises."""
    return (["taskset", "-c", str(core)] if shutil.which("taskset") else []) + argv
