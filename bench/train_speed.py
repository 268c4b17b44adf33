"""Training throughput, side by side in one run.

1. The trainer with `--loader tensor` on 10^6 samples, batch 1024, 1 epoch, against a minimal
   hand-written loop with the same model and optimizer (randperm + index slicing), and against the
   trainer's `dataloader` path. Targets: >= 0.9x the minimal loop, >= 8x the DataLoader path.
2. The same run inside the TUI (Training screen, plots live; the run in a thread of the kernel
   process) against the headless trainer in this process. Target: >= 0.95x.
(Keystroke echo during a run: bench/repl_speed.py.)

    python bench/train_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

SAMPLES, BATCH = 1_000_000, 1024


def minimal_loop(data, seed: int = 0) -> float:
    """The competitor: the smallest correct loop, written by hand. Returns samples/s."""
    import torch

    torch.manual_seed(seed)
    x, y = data.x, data.y
    model = torch.nn.Linear(x.shape[1], 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = torch.nn.MSELoss()
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    order = torch.randperm(x.shape[0], generator=generator)
    total = torch.zeros(())
    for i in range(0, x.shape[0], BATCH):
        idx = order[i:i + BATCH]
        loss = criterion(model(x[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.detach() * idx.shape[0]
    float(total)
    return x.shape[0] / (time.perf_counter() - start)


def trainer_rate(data, loader: str) -> float:
    from engine.training import make_config, train_on

    cfg = make_config(samples=SAMPLES, batch_size=BATCH, epochs=1, loader=loader, device="cpu")
    return train_on(cfg, data).samples_per_s


async def tui_rate() -> float:
    from tui.app import make_app

    app = make_app(screen="train", device="cpu")
    async with app.run_test(size=(80, 24)) as pilot:
        while not (app.screen.ready and app.kernel.ready):
            await pilot.pause(0.05)
        screen = app.screen
        for field, value in (("samples", SAMPLES), ("batch_size", BATCH), ("epochs", 3)):
            screen.query_one(f"#f-{field}").value = str(value)
        screen.query_one("#f-loader").value = "tensor"
        await pilot.pause(0.1)
        await pilot.press("ctrl+r")
        while screen.result is None:
            await pilot.pause(0.05)
        return screen.result.samples_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp())
    from engine.training import make_config, make_data, train

    data = make_data(make_config(samples=SAMPLES))
    minimal_loop(data)  # warm caches and allocator once
    rows = {"minimal loop": [], "trainer, tensor loader": [], "trainer, dataloader": []}
    for _ in range(args.repeats):
        rows["minimal loop"].append(minimal_loop(data))
        rows["trainer, tensor loader"].append(trainer_rate(data, "tensor"))
        rows["trainer, dataloader"].append(trainer_rate(data, "dataloader"))
    best = {name: max(values) for name, values in rows.items()}
    for name, rate in best.items():
        print(f"{name:<26} {rate:>12,.0f} samples/s  (best of {args.repeats})")
    print(f"tensor loader / minimal loop: {best['trainer, tensor loader'] / best['minimal loop']:.2f}  (target >= 0.9)")
    print(f"tensor loader / dataloader:   {best['trainer, tensor loader'] / best['trainer, dataloader']:.1f}  (target >= 8)")

    # Interleaved pairs, so that a noisy stretch of the machine hits both sides alike.
    headless, inside = [], []
    for _ in range(args.repeats + 1):
        headless.append(train(make_config(samples=SAMPLES, batch_size=BATCH, epochs=3, loader="tensor",
                                          device="cpu")).samples_per_s)
        inside.append(asyncio.run(tui_rate()))
    print(f"headless, 3 epochs          {max(headless):>12,.0f} samples/s  (best of {len(headless)})")
    print(f"inside the TUI, plots live  {max(inside):>12,.0f} samples/s  (best of {len(inside)})")
    print(f"TUI / headless: {max(inside) / max(headless):.2f}  (target >= 0.95)")


if __name__ == "__main__":
    main()
