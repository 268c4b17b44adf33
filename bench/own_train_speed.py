"""%train's speed against the same loop written by hand, side by side in one run.

The seed's linear regression (nn.Linear(1, 1), MSELoss, SGD lr 0.01, make_regression's 100
samples with noise 10, batch 16, 100 epochs), trained (a) by the hand-written loop a learner
writes, over a DataLoader and keeping each epoch's loss, and (b) by the trainer %train runs, on
the same objects (the kernel's training thread runs exactly this: Trainer with a Given). Each
side gets a fresh model and optimizer per repeat; repeats are interleaved so that a noisy
stretch of the machine hits both alike. Target: (b) / (a) >= 0.95.

    python bench/own_train_speed.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

EPOCHS, BATCH = 100, 16


def data():
    import torch
    from sklearn.datasets import make_regression

    x, y = make_regression(n_samples=100, n_features=1, noise=10, random_state=0)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32).reshape(-1, 1)


def objects(x, y, seed: int):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(seed)
    model = torch.nn.Linear(1, 1)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    return model, loader, torch.nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01)


def by_hand(x, y, seed: int) -> float:
    """The learner's loop; returns seconds."""
    model, loader, loss_fn, optimizer = objects(x, y, seed)
    start = time.perf_counter()
    history = []
    for _ in range(EPOCHS):
        total = 0.0
        for bx, by in loader:
            loss = loss_fn(model(bx), by)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * bx.shape[0]
        history.append(total / len(loader.dataset))
    return time.perf_counter() - start


def by_train(x, y, seed: int) -> float:
    """What %train model, loader, loss_fn, optimizer, epochs=100 runs in the kernel; returns seconds
    (the checks before the run included)."""
    from engine.kernel.training_run import REDRAW_HZ, own_run
    from engine.training import Trainer, drive, make_config

    model, loader, loss_fn, optimizer = objects(x, y, seed)
    start = time.perf_counter()
    cfg, given, tensors = own_run(make_config(task="own", epochs=EPOCHS, batch_size=BATCH), model, loader, loss_fn,
                                  optimizer)
    drive(Trainer(cfg, tensors, events_per_second=REDRAW_HZ, device=cfg.device, given=given), lambda _p: None)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # (a 100-sample run: threads only add noise)
    x, y = data()
    by_hand(x, y, 0), by_train(x, y, 0)  # warm up both paths once
    hand, train = [], []
    for seed in range(args.repeats):  # which side goes first alternates: neither always follows the other
        if seed % 2:
            train.append(by_train(x, y, seed))
            hand.append(by_hand(x, y, seed))
        else:
            hand.append(by_hand(x, y, seed))
            train.append(by_train(x, y, seed))
    h, t = statistics.median(hand), statistics.median(train)
    print(f"hand-written loop   {h * 1e3:8.1f} ms  (median of {args.repeats}; best {min(hand) * 1e3:.1f})")
    print(f"%train's trainer    {t * 1e3:8.1f} ms  (median of {args.repeats}; best {min(train) * 1e3:.1f})")
    pairs = statistics.median(a / b for a, b in zip(hand, train, strict=True))
    print(f"%train / by hand (speed): {h / t:.2f} by the medians, {pairs:.2f} by the median of the pairs "
          f"(one seed each, run back to back)  (target >= 0.95)")


if __name__ == "__main__":
    main()
