"""``bench_pack``'s memory figure is the whole process tree's: a child's memory counts."""

import os
import subprocess
import sys

from reports.management.commands.bench_pack import PeakTreeMemory, _proc_tree_memory


def test_the_memory_of_the_process_tree_counts_its_children():
    alone = _proc_tree_memory(os.getpid())[0]
    child = subprocess.Popen(  # a child holding ~200 MB
        [
            sys.executable,
            "-c",
            "import sys, time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
            "print('ready', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with PeakTreeMemory(every=0.05) as peak:
            pass
        rss, pss = _proc_tree_memory(os.getpid())
        assert rss - alone > 150 * 2**20
        assert pss > 150 * 2**20
        assert peak.rss >= rss - 50 * 2**20
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
