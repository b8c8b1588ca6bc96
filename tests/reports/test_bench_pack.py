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


def test_the_per_chart_line_scales_to_forty_charts_and_says_it_is_an_estimate():
    from reports.management.commands.bench_pack import per_chart_line

    nat = per_chart_line(charts=80, seconds=12.0)
    assert "0.15 s per chart" in nat and "40-chart pack at that rate 6.0 s" in nat
    assert "not measured" in nat and "errs low" in nat
    assert "errs high" in per_chart_line(charts=20, seconds=5.0)
    assert per_chart_line(charts=0, seconds=3.0) == "no charts: nothing to scale"
    exact = per_chart_line(charts=40, seconds=6.8)
    assert "6.8 s measured" in exact and "not measured" not in exact
