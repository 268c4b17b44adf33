"""How long an exercise check takes against bad namespaces, side by side with the kernel's
cheapest request in the same run.

A Learn check is a request to the kernel (between cells, over the app's comm). The issue asks for
a hint within 1 s when the exercise's variable is missing, of the wrong type, on another device
(here: meta, the device this machine has besides the CPU), or huge (10^8 elements). The
competitor is `device_status`: a request that does almost nothing, so the ratio shows what the
check itself adds to the round trip.

    python bench/tour_check.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CASES = [  # (what the learner left in the namespace, setup cell)
    ("missing", "%reset"),
    ("wrong type", "t = 'seven'"),
    ("meta device", "t = torch.full((3, 4), 7, device='meta')"),
    ("10^8 elements", "t = torch.zeros(10**8, dtype=torch.int8)"),
    ("right answer", "t = torch.full((3, 4), 7)"),
]


async def main(repeats: int) -> None:
    from engine.protocol import DeviceStatus, Request, TourCheck
    from tui.kernel import events as ev
    from tui.kernel.own import OwnKernel

    done: dict[str, asyncio.Event] = {}

    def on_event(event) -> None:
        if isinstance(event, ev.CellDone) and event.cell in done:
            done[event.cell].set()

    session = OwnKernel(on_event, device="cpu")
    await session.start()

    async def run(source: str) -> None:
        cell = session.execute(source)
        done[cell] = asyncio.Event()
        await asyncio.wait_for(done[cell].wait(), 120)

    async def timed(request: Request) -> tuple[float, object]:
        start = time.perf_counter()
        result = await session.request(request)
        return time.perf_counter() - start, result

    try:
        await timed(DeviceStatus("cpu"))  # warm: imports on first use
        await timed(TourCheck("create"))
        print(f"{'case':<15} {'check median':>13} {'max':>9} {'bare request':>13} {'ratio':>7}  hint")
        worst = 0.0
        for name, setup in CASES:
            await run(setup)
            checks, bare = [], []
            hint = ""
            for _ in range(repeats):  # alternate: check, bare, check, bare ...
                seconds, result = await timed(TourCheck("create"))
                checks.append(seconds)
                hint = result.hint.code if result.hint else "passed"
                bare.append((await timed(DeviceStatus("cpu")))[0])
            worst = max(worst, max(checks))
            ratio = statistics.median(checks) / statistics.median(bare)
            print(f"{name:<15} {statistics.median(checks) * 1e3:>10.1f} ms {max(checks) * 1e3:>6.1f} ms "
                  f"{statistics.median(bare) * 1e3:>10.1f} ms {ratio:>6.2f}x  {hint}")
        print(f"slowest check: {worst * 1e3:.1f} ms (target: a hint within 1000 ms)")
    finally:
        await session.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    options = parser.parse_args()
    import os

    os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp())
    asyncio.run(main(options.repeats))
