"""The shared worker pool: results come back, and workers do not outlive a killed driver."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from moo.workers import process_pool

DRIVER = textwrap.dedent("""
    import os, sys, time
    from moo.workers import process_pool

    if __name__ == "__main__":
        pool = process_pool(1)
        print(pool.submit(os.getpid).result(), flush=True)
        pool.submit(time.sleep, 120)  # a long run the driver is killed during
        time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_pool_returns_results():
    with process_pool(2) as pool:
        assert sorted(pool.map(abs, [-3, 1, -2])) == [1, 2, 3]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_exit_when_the_driver_is_killed(tmp_path, sig):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(driver.stdout.readline())
        assert _alive(worker)
        os.kill(driver.pid, sig)
        driver.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker), "the worker outlived its driver"
    finally:
        driver.kill()
