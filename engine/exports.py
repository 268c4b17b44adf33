"""What a learner takes away from a run: the loss history (CSV), the weights (state_dict) and a
standalone script that reproduces the run with plain PyTorch."""

from __future__ import annotations

import io
from pathlib import Path

from engine import paths
from engine.tasks import DEFAULT_TASK, task
from engine.training import Result, RunConfig


def default_dir() -> Path:
    return paths.state_dir(create=False) / "exports"  # created when something is written there


def loss_csv(result: Result, path: Path | None = None) -> Path:
    kind = task(result.task)
    path = Path(path) if path else default_dir() / kind.files["csv"]
    second = kind.curve_history(result.metrics)
    if second:  # the task's other curve per epoch too (the moons' accuracy)
        lines = [f"epoch,loss,{kind.curve_name}"] + [f"{i},{loss!r},{value!r}" for i, (loss, value) in
                                                      enumerate(zip(result.loss_history, second, strict=True), 1)]
    else:
        lines = ["epoch,loss"] + [f"{i},{loss!r}" for i, loss in enumerate(result.loss_history, 1)]
    return paths.write_private(path, "\n".join(lines) + "\n")


def state_dict(model, path: Path | None = None, task_name: str = DEFAULT_TASK) -> Path:
    import torch

    path = Path(path) if path else default_dir() / task(task_name).files["state_dict"]
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    return paths.write_private(path, buffer.getvalue())


def load_state_dict(path: Path) -> dict:
    """Load weights saved by `state_dict`; weights_only=True never runs code from the file."""
    import torch

    return torch.load(Path(path), map_location="cpu", weights_only=True)


OPTIMIZER_LINES = {
    "sgd": "optim.SGD(model.parameters(), lr=LR)",
    "momentum": "optim.SGD(model.parameters(), lr=LR, momentum=0.9)",
    "adam": "optim.Adam(model.parameters(), lr=LR)",
}

DATALOADER_SETUP = '''from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(x, y), batch_size=BATCH_SIZE, shuffle=SHUFFLE, generator=generator)
'''
DATALOADER_LOOP = '''    for batch_x, batch_y in loader:
        batch_x, batch_y = batch_x.to(DEVICE), batch_y.to(DEVICE)
'''
TENSOR_SETUP = '''x, y = x.to(DEVICE), y.to(DEVICE)  # the whole dataset lives on the device
'''
TENSOR_LOOP = '''    order = torch.randperm(x.shape[0], generator=generator).to(DEVICE) if SHUFFLE else None
    for start in range(0, x.shape[0], BATCH_SIZE):
        if order is None:
            batch_x, batch_y = x[start:start + BATCH_SIZE], y[start:start + BATCH_SIZE]
        else:
            idx = order[start:start + BATCH_SIZE]
            batch_x, batch_y = x[idx], y[idx]
'''


DDP_SCRIPT = '''"""Data-parallel {what} with PyTorch (DistributedDataParallel), exported from torchtui:
this reproduces one run of {processes} processes exactly.

Launch it with torchrun, which starts one process per rank and tells each its RANK, WORLD_SIZE,
LOCAL_RANK and where to meet (MASTER_ADDR, MASTER_PORT):

    torchrun --nproc-per-node {processes} {filename}
    # on a cluster of M machines, on each of them (machine 0 is the rendezvous host):
    torchrun --nnodes M --nproc-per-node N --rdzv-backend c10d --rdzv-endpoint HOST0:29500 {filename}

`python {filename}` alone runs it as one process (world size 1).{stopped}
"""
import os
import socket
import sys

import torch
import torch.distributed as dist
from sklearn.datasets import {maker}
from torch import nn, optim
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

SAMPLES, FEATURES, NOISE, BIAS, DATA_SEED, HIDDEN = {samples}, {features}, {noise!r}, {bias!r}, {data_seed}, {hidden}
BATCH_SIZE, SHUFFLE, EPOCHS, LR, SEED = {batch_size}, {shuffle}, {epochs}, {lr!r}, {seed}
DEVICE = {device!r}  # a CUDA device means one GPU per process (NCCL); otherwise the CPU (gloo)

store = None
if "RANK" not in os.environ:  # started without torchrun: a group of one, meeting on the loopback only
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    # given only a port, torch's TCPStore listens on every interface: it gets this loopback socket instead
    store = dist.TCPStore("127.0.0.1", port, 1, True, master_listen_fd=listener.detach())
elif os.environ["RANK"] == "0":
    print(f"rendezvous: torchrun's store at {{os.environ['MASTER_ADDR']}}:{{os.environ['MASTER_PORT']}}, listening on "
          "every interface of that machine without authentication: keep the port to a trusted network",
          file=sys.stderr, flush=True)
use_cuda = DEVICE.startswith("cuda") and torch.cuda.is_available()
local_rank = int(os.environ["LOCAL_RANK"])
device = f"cuda:{{local_rank}}" if use_cuda else "cpu"
if use_cuda:
    torch.cuda.set_device(device)
if store is None:
    dist.init_process_group("nccl" if use_cuda else "gloo")  # the rendezvous comes from torchrun's environment
else:
    dist.init_process_group("nccl" if use_cuda else "gloo", store=store, rank=0, world_size=1)
rank, world_size = dist.get_rank(), dist.get_world_size()

# 1. Data: every rank makes the same numbers (random_state); the sampler gives each its shard.
{data_lines}
sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=SHUFFLE, seed=SEED)
loader = DataLoader(dataset, batch_size=BATCH_SIZE, sampler=sampler)

# 2. The same starting weights on every rank (the seed); DDP averages the gradients in backward().
torch.manual_seed(SEED)
model = {model_line}.to(device)
ddp_model = DistributedDataParallel(model, device_ids=[device] if use_cuda else None)
criterion = {criterion_line}
optimizer = {optimizer_line}

# 3. Training: each rank its shard; the epoch's loss is summed over all ranks (all_reduce).
for epoch in range(1, EPOCHS + 1):
    sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
    total = torch.zeros((), device=device)
    seen = torch.zeros(1, device=device)
    for batch_x, batch_y in loader:
        batch_x, batch_y = batch_x.to(device), batch_y.to(device)
        loss = criterion(ddp_model(batch_x), batch_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total.add_(loss.detach(), alpha=batch_x.shape[0])
        seen += batch_x.shape[0]
    dist.all_reduce(total)
    dist.all_reduce(seen)
    avg_loss = total.item() / seen.item()
    if rank == 0 and (epoch % max(1, EPOCHS // 10) == 0 or epoch == EPOCHS):
        print(f"Epoch [{{epoch}}/{{EPOCHS}}], Loss: {{avg_loss:.4f}}", flush=True)

# 4. Every rank holds the same weights: the largest difference from rank 0's, over all ranks.
flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
gathered = [torch.zeros_like(flat) for _ in range(world_size)]
dist.all_gather(gathered, flat)
if rank == 0:
    difference = max((g - flat).abs().max().item() for g in gathered)
    print(f"world size {{world_size}}: weights differ between ranks by at most {{difference:g}}")
{report_lines}
    print(f"final loss: {{avg_loss:.6f}}")
dist.barrier()  # every rank done with the group before any takes it down
dist.destroy_process_group()
'''


def shown_name(filename: str) -> str:
    """`filename` as the script's docstring shows it, ready to paste into a shell (shlex-quoted),
    escaped so that it can only ever be text there: backslashes and double quotes, and every
    character outside printable ASCII (line ends, lone surrogates), become escapes of the string
    literal. A name that closes the docstring and calls os.system stays a name in the docstring,
    never code of the script, and the docstring's value shows it exactly."""
    import shlex

    quoted = shlex.quote(" ".join(filename.split()))
    out = []
    for char in quoted:
        if char in "\\\"":
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append(ascii(char)[1:-1])  # \x01, \u2028, \udcff
    return "".join(out)


def script_text(cfg: RunConfig, device: str, filename: str = "train_linear.py", epochs_run: int | None = None) -> str:
    """The script of a run; a run stopped early (`epochs_run` complete epochs) is reproduced as it
    happened, and the docstring says so. Only numbers, reprs and the escaped file name go into the
    code: nothing in a config or a name can become a statement of the script."""
    dataloader = cfg.loader == "dataloader"
    stopped = ""
    epochs = cfg.epochs
    if epochs_run is not None and epochs_run < cfg.epochs:
        stopped = (f"\nThe run was stopped after {epochs_run} of its {cfg.epochs} epochs: EPOCHS is the "
                   f"{epochs_run} it completed.")
        epochs = epochs_run
    parts = task(cfg.task).script()
    template = DDP_SCRIPT if cfg.processes > 1 else parts.single
    return template.format(hidden=int(cfg.hidden), processes=int(cfg.processes), **parts.ddp,
        optimizer=cfg.optimizer, filename=shown_name(filename), stopped=stopped,
        samples=int(cfg.samples), features=int(cfg.features),
        noise=float(cfg.noise), bias=float(cfg.bias), data_seed=int(cfg.data_seed), batch_size=int(cfg.batch_size),
        shuffle=bool(cfg.shuffle), epochs=int(epochs), lr=float(cfg.lr), seed=int(cfg.seed), device=str(device),
        optimizer_line=OPTIMIZER_LINES[cfg.optimizer],
        loader_setup=DATALOADER_SETUP if dataloader else TENSOR_SETUP,
        loader_loop=DATALOADER_LOOP if dataloader else TENSOR_LOOP)


def default_name(cfg: RunConfig) -> str:
    """The script's file name ("" for a task that exports none: see Task.no_script)."""
    name = task(cfg.task).files.get("script", "")
    if not name:
        return ""
    return name.removesuffix(".py") + ("_ddp.py" if cfg.processes > 1 else ".py")


def script(cfg: RunConfig, device: str, path: Path | None = None, epochs_run: int | None = None) -> Path:
    path = Path(path) if path else default_dir() / default_name(cfg)
    return paths.write_private(path, script_text(cfg, device, path.name, epochs_run))
