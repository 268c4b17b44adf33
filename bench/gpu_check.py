"""Every CUDA path of torchtui, checked and timed on a machine with a GPU, unattended: one line per
check with its figure, exit status 1 if any failed. Without CUDA it says so in one line and exits 0.

Each check runs in torchtui's own kernel (started as the app starts it) under its own timeout:
  cuda ones      torch.ones(2, device="cuda") in a cell
  train ...      both built-in tasks on cuda:0 (the kernel's trainer, as the Training screen starts
                 it) against the same loop written by hand, in one run: samples/s each
  ddp nccl       a data-parallel run on NCCL with as many ranks as GPUs (one GPU: a group of one)
  oom            an out-of-memory in a cell (the explanation under it), and the next cell works
  device assert  an index out of range on the GPU: the error, the app's hint (its banner), a restart
                 and a working cell after
  nvml           the GPU panel's numbers (engine.gpu_info) against nvidia-smi's
  timeit         %timeit of a matmul against torch.utils.benchmark.Timer by hand

    python bench/gpu_check.py [--samples 200000] [--step-timeout 300]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FAILED: list[str] = []


class CheckFailed(Exception):
    pass


def line(status: str, name: str, figure: str) -> None:
    print(f"{status:<4} {name:<18} {figure}", flush=True)


def check(name: str, timeout: float, body) -> object:
    """Run `body()` in a thread for at most `timeout` s; its return is the figure printed."""
    box: dict = {}

    def run() -> None:
        try:
            box["figure"] = body()
        except BaseException as exc:  # noqa: BLE001 - every failure is one line
            box["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=run, daemon=True)
    start = time.perf_counter()
    thread.start()
    thread.join(timeout)
    took = time.perf_counter() - start
    if thread.is_alive():
        FAILED.append(name)
        line("FAIL", name, f"timed out after {timeout:.0f} s")
        return None
    if "error" in box:
        FAILED.append(name)
        line("FAIL", name, " ".join(box["error"].split())[:300])
        return None
    line("ok", name, f"{box['figure']}  ({took:.1f} s)")
    return box["figure"]


def value(kernel, source: str, timeout: float) -> object:
    """Run a cell that prints one JSON line last; its value."""
    record = kernel.run(source, timeout)
    if not record.ok:
        raise CheckFailed(ANSI.sub("", record.error_text)[-400:] or "the cell did not finish")
    return json.loads(record.output.strip().splitlines()[-1])


PLAIN_LOOP = """
import json, time, torch
from torch import nn
torch.manual_seed(0)
n, batch, epochs, device = {samples}, 1024, {epochs}, "cuda:0"
if "{task}" == "regression":
    x, y = torch.randn(n, 1, device=device), torch.randn(n, 1, device=device)
    model, loss_fn = nn.Linear(1, 1).to(device), nn.MSELoss()
else:
    x, y = torch.randn(n, 2, device=device), torch.randint(0, 2, (n,), device=device)
    model, loss_fn = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2)).to(device), nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.01)
torch.cuda.synchronize(); start = time.perf_counter()
for _ in range(epochs):
    order = torch.randperm(n, device=device)
    total = torch.zeros((), device=device)
    for i in range(0, n, batch):
        idx = order[i:i + batch]
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad(); loss.backward(); opt.step()
        total += loss.detach()
    float(total)
torch.cuda.synchronize()
print(json.dumps(n * epochs / (time.perf_counter() - start)))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--step-timeout", type=float, default=300.0)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("gpu_check: no torch here: nothing to check")
        return 0
    if not torch.cuda.is_available():
        print(f"gpu_check: no CUDA here (torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'}): "
              "nothing to check")
        return 0
    gpus = torch.cuda.device_count()
    print(f"gpu_check: torch {torch.__version__}, CUDA {torch.version.cuda}, {gpus} GPU(s): "
          f"{torch.cuda.get_device_name(0)}", flush=True)
    state = tempfile.mkdtemp(prefix="tt-gpu-")
    os.environ["XDG_STATE_HOME"] = state
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="tt-"))
    limit = args.step_timeout
    from kernel_driver import KernelDriver

    holder: dict = {}
    check("kernel start", 240, lambda: holder.setdefault("k", KernelDriver(device="cuda:0")).session.ready)
    kernel = holder.get("k")
    if kernel is None:
        line("FAIL", "all", "no kernel: nothing else can be checked")
        return 1
    try:
        run_checks(kernel, args, limit, gpus)
    finally:
        check("kernel shutdown", 60, lambda: kernel.close() or "stopped")
        shutil.rmtree(state, ignore_errors=True)
    print(f"gpu_check: {len(FAILED)} failed" + (f": {', '.join(FAILED)}" if FAILED else ""), flush=True)
    return 1 if FAILED else 0


def run_checks(kernel, args, limit: float, gpus: int) -> None:
    from engine.protocol import TrainFinished, TrainStart

    def ones() -> str:
        record = kernel.run('torch.ones(2, device="cuda")', limit)
        if not record.ok or "cuda:0" not in (record.value or "") + record.summary:
            raise CheckFailed(record.text()[-300:])
        return (record.value or "").replace("\n", " ")

    check("cuda ones", limit, ones)

    for task in ("regression", "moons"):
        def train(task=task) -> str:
            config = {"task": task, "device": "cuda:0", "samples": args.samples, "batch_size": 1024,
                      "epochs": args.epochs, "loader": "tensor"}
            with kernel.cond:
                mark = len(kernel.events)
            run = kernel.request(TrainStart(config), timeout=60)
            done = kernel.first_since(mark, lambda e: isinstance(e, TrainFinished) and e.run == run, limit)
            if done is None or done.result is None:
                raise CheckFailed(f"the run did not finish: {getattr(done, 'error', None)}")
            if not str(done.result.device).startswith("cuda"):
                raise CheckFailed(f"trained on {done.result.device}")
            trainer = done.result.samples_per_s
            plain = float(value(kernel, PLAIN_LOOP.format(task=task, samples=args.samples, epochs=args.epochs),
                                limit))
            ratio = trainer / plain
            if ratio < 0.5:
                raise CheckFailed(f"trainer {trainer:,.0f} samples/s, plain loop {plain:,.0f}: {ratio:.2f}x")
            return f"trainer {trainer:,.0f} samples/s · plain loop {plain:,.0f} · {ratio:.2f}x"

        check(f"train {task}", limit, train)

    def ddp() -> str:
        source = (f"import json\nfrom engine.distributed import train_distributed, check_world\n"
                  f"from engine.training import make_config\n"
                  f"cfg = make_config(device='cuda:0', samples={args.samples}, batch_size=1024, epochs=2,"
                  f" loader='tensor')\n"
                  f"backend = check_world(cfg, {gpus})[1]\nr = train_distributed(cfg, {gpus})\n"
                  f"print(json.dumps([backend, r.samples_per_s, len(r.ranks)]))")
        backend, rate, ranks = value(kernel, source, limit)
        if backend != "nccl" or ranks != gpus:
            raise CheckFailed(f"backend {backend}, {ranks} rank(s) of {gpus}")
        return f"{ranks} rank(s) on {backend}: {rate:,.0f} samples/s"

    check("ddp nccl", limit, ddp)

    def oom() -> str:
        record = kernel.run('too_big = torch.empty(2**47, dtype=torch.uint8, device="cuda")', limit)
        error = record.error
        if error is None or error.ename != "OutOfMemoryError":
            raise CheckFailed(f"expected OutOfMemoryError: {record.text()[-300:]}")
        text = ANSI.sub("", "\n".join(error.traceback))
        if "this call asked for" not in text or "allocated" not in text:
            raise CheckFailed(f"no explanation under it: {text[-300:]}")
        after = kernel.run('float(torch.ones(1000, device="cuda").sum())', limit)
        if after.value != "1000.0":
            raise CheckFailed(f"the next cell: {after.text()[-300:]}")
        asked = re.search(r"asked for ([\d.]+ \w+)", text)
        return f"explained ({asked.group(1) if asked else '?'} asked), the next cell works"

    check("oom", limit, oom)

    def device_assert() -> str:
        from tui.kernel.display import hint_for

        record = kernel.run('i = torch.tensor([5], device="cuda"); x = torch.arange(3, device="cuda")[i]; '
                            'torch.cuda.synchronize()', limit)
        error = record.error
        if error is None:
            raise CheckFailed("no error from an index out of range")
        words = f"{error.ename}: {error.evalue}"
        if "device-side assert" not in words.lower():
            raise CheckFailed(f"not a device-side assert: {words[:300]}")
        banner = hint_for(error.ename, error.evalue, error.traceback)
        if not banner:
            raise CheckFailed("the app's hint (banner) is empty")
        kernel.restart()
        after = kernel.run('float(torch.ones(3, device="cuda").sum())', limit)
        if after.value != "3.0":
            raise CheckFailed(f"after the restart: {after.text()[-300:]}")
        return f"said: {banner[:60]}… · restarted, a cell works"

    check("device assert", limit, device_assert)

    def nvml() -> str:
        from engine.gpu_info import NvmlReader

        smi = shutil.which("nvidia-smi")
        if smi is None:
            raise CheckFailed("nvidia-smi is not on PATH")
        reader = NvmlReader()
        snapshot = reader.read()
        out = subprocess.run([smi, "--query-gpu=utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=30)
        reader.close()
        if snapshot.unavailable is not None:
            raise CheckFailed(snapshot.unavailable.words("en"))
        rows = [[part.strip() for part in row.split(",")] for row in out.stdout.strip().splitlines()]
        if len(rows) != len(snapshot.gpus):
            raise CheckFailed(f"NVML sees {len(snapshot.gpus)} GPU(s), nvidia-smi {len(rows)}")
        figures, wrong = [], []
        for gpu, (util, used, total, temp, power) in zip(snapshot.gpus, rows, strict=True):
            mib = 2**20
            ours = (gpu.utilisation, (gpu.memory_used or 0) / mib, (gpu.memory_total or 0) / mib, gpu.temperature,
                    gpu.power_w)
            if abs(ours[2] - float(total)) > 0.01 * float(total):
                wrong.append(f"GPU {gpu.index} total {ours[2]:.0f} vs {total} MiB")
            if abs(ours[1] - float(used)) > max(512, 0.05 * float(used)):
                wrong.append(f"GPU {gpu.index} used {ours[1]:.0f} vs {used} MiB")
            if ours[3] is not None and temp.replace(".", "").isdigit() and abs(ours[3] - float(temp)) > 5:
                wrong.append(f"GPU {gpu.index} temperature {ours[3]} vs {temp}")
            kernel_pid = kernel.session.process_id()
            marked = kernel_pid in {p.pid for p in gpu.processes}
            figures.append(f"GPU {gpu.index}: util {ours[0]}%/{util}% · used {ours[1]:.0f}/{used} MiB · "
                           f"total {ours[2]:.0f}/{total} · {ours[3]}/{temp} °C · "
                           f"{ours[4] if ours[4] is None else round(ours[4])}/{power} W"
                           + (" · kernel's process listed" if marked and gpu.index == 0 else ""))
        if wrong:
            raise CheckFailed("; ".join(wrong))
        return " | ".join(figures) + "  (ours/nvidia-smi)"

    check("nvml", limit, nvml)

    def timeit() -> str:
        source = ("import json, torch.utils.benchmark as benchmark\n"
                  "a = torch.randn(4096, 4096, device='cuda'); b = torch.randn(4096, 4096, device='cuda')\n"
                  "magic = %timeit -o -q a @ b\n"
                  "by_hand = benchmark.Timer('a @ b', globals={'a': a, 'b': b}).blocked_autorange(min_run_time=1)\n"
                  "print(json.dumps([magic.average, by_hand.median]))")
        magic, by_hand = value(kernel, source, limit)
        ratio = magic / by_hand
        if not 0.7 <= ratio <= 1.4:
            raise CheckFailed(f"%timeit {magic * 1e3:.3f} ms vs Timer {by_hand * 1e3:.3f} ms: {ratio:.2f}x")
        return f"%timeit {magic * 1e3:.3f} ms · Timer {by_hand * 1e3:.3f} ms · {ratio:.2f}x"

    check("timeit", limit, timeit)


if __name__ == "__main__":
    sys.exit(main())
