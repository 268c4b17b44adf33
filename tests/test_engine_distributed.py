"""Data-parallel training on N processes (gloo on the CPU): the all-reduce keeps every rank's
weights equal, DDP with N ranks of batch b equals one process with batch N·b on the same sample
order, and faults (a killed rank, a taken port, too many ranks for the GPUs) end clearly."""

from __future__ import annotations

import os
import signal
import socket
import threading

import pytest
import torch

from engine.distributed import RankFailed, check_world, train_distributed
from engine.protocol import TrainProgress, TrainStart
from engine.training import ConfigError, build_model, make_config, make_data

pytestmark = pytest.mark.slow  # rank processes


def test_ddp_with_n_ranks_equals_one_process_with_n_times_the_batch():
    """The key fact: DDP averages the ranks' gradients, so N ranks of batch b take the same SGD
    steps as one process with batch N·b over the same samples in the same order."""
    world, batch = 2, 8
    cfg = make_config(samples=96, batch_size=batch, epochs=3, lr=0.01, seed=5, loader="tensor")
    ddp = train_distributed(cfg, world)
    assert ddp.world_size == world and ddp.backend == "gloo" and ddp.global_batch == world * batch
    assert ddp.weights_max_difference == 0.0  # every rank ends with the same weights

    from torch.utils.data import TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    data = make_data(cfg)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    dataset = TensorDataset(data.x, data.y)
    for epoch in range(1, cfg.epochs + 1):
        shards = []
        for rank in range(world):
            sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed)
            sampler.set_epoch(epoch)
            shards.append(list(sampler))
        for start in range(0, len(shards[0]), batch):
            idx = [i for shard in shards for i in shard[start:start + batch]]  # rank 0's, then rank 1's
            loss = torch.nn.functional.mse_loss(model(data.x[idx]), data.y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    single = model.weight.detach().reshape(-1).tolist() + [float(model.bias.detach())]
    together = list(ddp.result.metrics.weight) + [ddp.result.metrics.bias]
    assert max(abs(a - b) for a, b in zip(single, together, strict=True)) < 1e-5
    # the engine's own replay (what the Training screen shows after a run) agrees with this one
    from engine.distributed import big_batch_equivalent

    replay = big_batch_equivalent(cfg, world)
    assert max(abs(a - b) for a, b in zip(replay, single, strict=True)) < 1e-6
    assert list(ddp.weights) == pytest.approx(together)


def test_each_rank_reports_its_speed_and_rank_zero_streams_progress():
    seen, rates = [], {}
    result = train_distributed(make_config(epochs=4, samples=400), 2, on_progress=seen.append,
                               on_rate=lambda rank, rate: rates.__setitem__(rank, rate))
    assert [p.epoch for p in seen if p.epoch_done] == [1, 2, 3, 4]
    assert len(result.ranks) == 2 and all(r.samples_per_s > 0 for r in result.ranks)
    assert result.samples_per_s == pytest.approx(sum(r.samples_per_s for r in result.ranks))
    assert set(rates) == {0, 1}
    data = result.as_json()
    assert data["world_size"] == 2 and data["backend"] == "gloo" and len(data["rank_samples_per_s"]) == 2


def _processes() -> dict[int, tuple[int, str]]:
    """Every process: its parent and its command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline") as f:
                    found[int(entry)] = (parent, f.read())
            except (OSError, ValueError, IndexError):
                continue
    return found


def _ranks(starter: int | None = None) -> list[int]:
    """The rank processes `starter` (this process) started, oldest first: its spawned children, or
    the children of its forkserver (whose command line they share). The idle forkserver itself is
    not a rank: it stays, waiting for the next run, until its starter ends. (The resource tracker,
    another child, is neither.)"""
    starter = os.getpid() if starter is None else starter
    table = _processes()
    servers = {pid for pid, (parent, cmd) in table.items()
               if parent == starter and "multiprocessing.forkserver" in cmd}
    return sorted(pid for pid, (parent, cmd) in table.items()
                  if (parent == starter and "spawn_main" in cmd) or parent in servers)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to find the workers")
def test_a_killed_rank_stops_the_run_naming_it_and_leaves_no_process():
    assert _ranks() == []
    killed = []

    def kill_rank_one(progress):
        if progress.epoch >= 2 and not killed:
            ranks = _ranks()  # rank 1 is the second one started
            assert len(ranks) == 2
            os.kill(ranks[1], signal.SIGKILL)
            killed.append(ranks[1])

    with pytest.raises(RankFailed) as info:
        train_distributed(make_config(epochs=100000, samples=200), 2, on_progress=kill_rank_one)
    assert info.value.rank == 1 and "SIGKILL" in str(info.value)
    assert _ranks() == []  # no rank left (the forkserver that started them may stay, idle)


def test_a_taken_rendezvous_port_is_replaced():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = train_distributed(make_config(epochs=1), 2, port=port)
    assert result.result.epochs == 1


def test_more_ranks_than_gpus_is_refused_with_the_count(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    from engine import devices

    monkeypatch.setattr(devices, "list_devices", lambda: [devices.DeviceInfo("cpu", "cpu"),
                                                          devices.DeviceInfo("cuda:0", "GPU")])
    with pytest.raises(ConfigError) as info:
        check_world(make_config(device="cuda"), 2)
    assert info.value.field == "processes" and "GPUs available: 1" in str(info.value)
    assert check_world(make_config(device="cpu"), 4) == ("cpu", "gloo")


def test_stopping_ends_every_worker():
    assert _ranks() == []
    stop = threading.Event()
    result = train_distributed(make_config(epochs=100000, samples=200), 2,
                               on_progress=lambda p: stop.set() if p.epoch >= 2 else None,
                               should_stop=stop.is_set)
    assert result is None
    assert _ranks() == []  # every rank gone (the forkserver that started them may stay, idle)


def test_headless_nproc_and_its_script_under_torchrun(tmp_path):
    """`torchtui train --headless --nproc 2 --json --export-script` reports the ranks, and the
    script it writes gives the same numbers under torchrun (and runs alone as a group of one)."""
    import json
    import subprocess
    import sys

    script = tmp_path / "ddp.py"
    run = [sys.executable, "-m", "tui", "train", "--headless", "--nproc", "2", "--epochs", "6", "--json",
           "--export-script", str(script)]
    out = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # the JSON object alone: the ranks print nothing there either
    assert (data["world_size"], data["backend"], data["global_batch"]) == (2, "gloo", 32)
    assert len(data["rank_samples_per_s"]) == 2 and data["weights_max_difference"] == 0.0
    torchrun = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                               str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert torchrun.returncode == 0, torchrun.stderr[-2000:]
    lines = torchrun.stdout.strip().splitlines()
    assert lines[-1] == f"final loss: {data['final_loss']:.6f}"
    assert lines[-3] == "world size 2: weights differ between ranks by at most 0"
    alone = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert alone.returncode == 0 and "world size 1:" in alone.stdout
    bad = subprocess.run([sys.executable, "-m", "tui", "train", "--headless", "--nproc", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--nproc" in bad.stderr and "between 1 and 64" in bad.stderr \
        and "Traceback" not in bad.stderr and len(bad.stderr.splitlines()) == 1


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to find the workers")
def test_the_ranks_die_with_the_kernel_that_started_them():
    """The Training screen's run on two processes, started in a kernel; the kernel killed with -9
    (as it goes when the app dies): its ranks go too, none is left running on its own."""
    import time
    from dataclasses import asdict

    from kernel_driver import KernelDriver

    driver = KernelDriver(device="cpu")
    try:
        kernel_pid = int(driver.run("import os; os.getpid()").value)
        driver.request(TrainStart(asdict(make_config(epochs=100000, samples=200, processes=2)), 1))
        assert driver.wait_for(lambda e: isinstance(e, TrainProgress), 120) is not None

        def alive(pid: int) -> bool:
            try:
                return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
            except OSError:
                return False

        workers = _ranks(kernel_pid)  # (the kernel's forkserver's children, or the kernel's own)
        assert len(workers) == 2
        os.kill(kernel_pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in workers if alive(pid)]
        for pid in left:  # (a failed test leaves nothing running either)
            os.kill(pid, signal.SIGKILL)
        assert left == []
    finally:
        driver.close()


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


STARTER = """
from engine.distributed import train_distributed
from engine.training import make_config

said = []
train_distributed(make_config(epochs=100000, samples=200), 2,
                  on_progress=lambda p: said or said.append(print("up", flush=True)))
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to find the workers")
def test_the_ranks_die_with_a_starter_killed_with_no_reaper_behind_it():
    """A CLI run killed with -9, no kernel's reaper to kill its group: the ranks (a forkserver's
    children, not the starter's) go within seconds, and so does the forkserver."""
    import subprocess
    import sys
    import time

    starter = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True)
    try:
        assert starter.stdout is not None and starter.stdout.readline() == "up\n"
        workers = _ranks(starter.pid)
        assert len(workers) == 2
        servers = [pid for pid, (parent, cmd) in _processes().items()
                   if parent == starter.pid and "multiprocessing.forkserver" in cmd]
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers + servers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in workers + servers if _alive(pid)]
        for pid in left:  # (a failed test leaves nothing running either)
            os.kill(pid, signal.SIGKILL)
        assert left == []
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait(10)


@pytest.mark.parametrize("n,world,shuffle,drop_last", [(10, 2, True, False), (7, 3, True, False), (7, 3, False, True),
                                                      (2, 5, True, False), (100, 4, False, False)])
def test_shard_indices_are_what_the_sampler_gives(n, world, shuffle, drop_last):
    from torch.utils.data.distributed import DistributedSampler

    from engine.training import shard_indices

    for rank in range(world):
        sampler = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=shuffle, seed=3,
                                     drop_last=drop_last)
        for epoch in (0, 1, 5):
            sampler.set_epoch(epoch)
            assert shard_indices(sampler).tolist() == list(sampler)


def _listening(port: int) -> list[str]:
    """The local addresses (as /proc/net/tcp{,6} writes them) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, _, hex_port = fields[1].rpartition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc/net/tcp")
def test_the_rendezvous_store_of_a_local_run_listens_on_the_loopback_only():
    from engine.distributed import free_port, rendezvous_store

    port = free_port()
    store = rendezvous_store(0, 1, port, timeout_s=60)  # a group of one: it waits for no other rank
    try:
        assert _listening(port) == [LOOPBACK_HEX]  # not 0.0.0.0, not ::
        client = rendezvous_store(1, 2, port, timeout_s=60)
        store.set("seen", "by rank 0")
        assert client.get("seen") == b"by rank 0"
        with pytest.raises(OSError):  # a taken port: the parent's cue to try another
            rendezvous_store(0, 2, port, timeout_s=60)
        del client
    finally:
        del store


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc/net/tcp")
def test_a_local_run_listens_on_the_loopback_only_while_it_trains():
    """While rank 0 reports progress the group is up: every socket its ranks listen on (the
    rendezvous store, gloo's own) is bound to 127.0.0.1."""
    from engine.distributed import free_port

    port = free_port()
    store_addresses: list[list[str]] = []
    rank_addresses: list[str] = []
    stop = threading.Event()

    def look(progress) -> None:
        if store_addresses:
            return
        store_addresses.append(_listening(port))
        sockets = set()
        for pid in _ranks():
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        sockets.add(link[8:-1])
            except OSError:
                continue
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for row in open(table).read().splitlines()[1:]:
                fields = row.split()
                if fields[3] == "0A" and fields[9] in sockets:
                    rank_addresses.append(fields[1].rpartition(":")[0])
        stop.set()

    result = train_distributed(make_config(epochs=100000, samples=200), 2, on_progress=look, port=port,
                               should_stop=stop.is_set)
    assert result is None
    assert store_addresses == [[LOOPBACK_HEX]]
    assert rank_addresses and set(rank_addresses) == {LOOPBACK_HEX}
