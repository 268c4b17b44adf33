"""The Training screen's run, in a thread of the kernel: progress, plot data and the result go to
the app as events; pause, resume and stop come back as requests. The finished model stays in the
namespace as `trained_model` (and the run's numbers as `trained_result`) for the Playground, and
the run's data stays here (`run_data`) for the Model view's `@batch`."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.i18n import said
from engine.kernel.bridge import RequestError
from engine.protocol import TrainData, TrainFinished, TrainHealth, TrainProgress, TrainRate
from engine.tasks import own, task
from engine.tasks.base import MAX_LR

if TYPE_CHECKING:
    from torch import nn

    from engine.distributed import DistributedResult
    from engine.tasks.base import Dataset, Given
    from engine.training import Result, RunConfig, RunControl

REDRAW_HZ = 10  # progress events a second: the screen redraws no faster
SCATTER_POINTS = 400
TRAINING_NICENESS = 10  # the default; TORCHTUI_TRAINING_NICENESS=0 trains at the app's own priority
MODEL_NAME, RESULT_NAME = "trained_model", "trained_result"
REPLAY_LIMIT = 2_000_000  # samples × epochs: above this the one-process replay of a DDP run is skipped


def training_niceness() -> int:
    """How much lower than the app a run's thread and ranks are scheduled: TORCHTUI_TRAINING_NICENESS
    (0 to 19) where it is set to one, else TRAINING_NICENESS. A machine whose cores are all busy with
    other work at the same priority starves a niced run; 0 lets it take its share."""
    try:
        value = int(os.environ.get("TORCHTUI_TRAINING_NICENESS", TRAINING_NICENESS))
    except ValueError:
        return TRAINING_NICENESS
    return value if 0 <= value <= 19 else TRAINING_NICENESS


def yield_to_the_screen() -> None:
    """Run this thread at a lower priority (Linux: niceness is per thread): where cores are few,
    the app drawing keys and plots, and the terminal, come before the next training step. Where
    a core is free, training goes as fast as before."""
    niceness = training_niceness()
    if niceness and hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        except OSError:
            pass


def own_run(cfg: RunConfig, model, data, loss, optimizer, metric: str = "auto") -> tuple[RunConfig, Given, Dataset]:
    """A run of the learner's own objects: checked (engine.tasks.own: one sentence for a wrong one),
    tried on the first batch, on the device asked for ("auto": where the model is); the config
    carries the optimizer's learning rate, which a run that diverges names, and the batch size of
    the learner's DataLoader, which the screen shows."""
    from dataclasses import replace

    from engine.devices import resolve

    given, tensors = own.check_objects(model, data, loss, optimizer, batch_size=cfg.batch_size, shuffle=cfg.shuffle,
                                       seed=cfg.seed, metric=metric)
    device = own.device_of(given.model) if cfg.device == "auto" else resolve(cfg.device)
    own.preflight(given, tensors, cfg.batch_size, device)
    lr = optimizer.param_groups[0].get("lr", cfg.lr)
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        lr = cfg.lr
    batch = getattr(given.loader, "batch_size", None)
    batch = batch if isinstance(batch, int) and batch >= 1 else cfg.batch_size
    return replace(cfg, device=device, lr=lr if 0 < lr <= MAX_LR else cfg.lr, batch_size=batch), given, tensors


class HealthRelay:
    """Sends a run's gradient health at the redraw rate: progress events come faster (one per
    epoch, and short epochs are many), and each snapshot reads the device."""

    def __init__(self, emit, run_id: int) -> None:
        self.emit, self.run_id = emit, run_id
        self.sent_at = -1.0

    def send(self, tracker, last: bool = False) -> None:
        now = time.monotonic()
        if tracker is None or (not last and now - self.sent_at < 1 / REDRAW_HZ):
            return
        snapshot = tracker.snapshot()
        if snapshot is not None:
            self.sent_at = now
            self.emit(TrainHealth(self.run_id, snapshot))


class TrainingRun:
    """At most one run at a time; starting a new one stops the old."""

    def __init__(self, bridge, namespace_source) -> None:
        self.bridge = bridge
        self.namespace_source = namespace_source  # () -> the user's namespace (it changes on %reset)
        self.trainer: RunControl | None = None  # the run going on: a Trainer, or the ranks' control
        self.run_id = 0
        self.config: RunConfig | None = None
        self.result: Result | None = None
        self.model: nn.Module | None = None
        # where the last run's batches come from, for the Model view's @batch (engine.model_view):
        # the learner's DataLoader (or the one a run made over their Dataset) or their inputs'
        # first rows, both theirs already; a built-in task's first batch of inputs, copied, so
        # that the task's data is freed with its run. None before the first run and after %reset.
        self.run_data: Any = None
        self._thread: threading.Thread | None = None

    def start(self, config: dict, tag: int = 0) -> int:
        """Start a run (stopping the one before); its events carry `run=tag`, the caller's number."""
        from engine.training import make_config

        cfg = make_config(**config)  # a ConfigError goes back to the app as what it says
        if cfg.processes > 1:  # refused now, not in the thread: more ranks than GPUs, say
            from engine.distributed import check_world

            check_world(cfg, cfg.processes)
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.run_id += 1
        self.config, self.result, self.model = cfg, None, None
        self._thread = threading.Thread(target=self._run, args=(cfg, tag), name="torchtui-training",
                                        daemon=True)
        self._thread.start()
        return self.run_id

    def start_given(self, cfg: RunConfig, given: Given, data: Dataset, tag: int = 0) -> int:
        """Start a run of the learner's own objects (checked already: engine.tasks.own), as start()."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.run_id += 1
        self.config, self.result, self.model = cfg, None, None
        self.run_data = given.loader if given.loader is not None else data.x[:cfg.batch_size]
        self._thread = threading.Thread(target=self._run, args=(cfg, tag, given, data), name="torchtui-training",
                                        daemon=True)
        self._thread.start()
        return self.run_id

    def start_named(self, config: dict, names: dict[str, str], tag: int = 0) -> int:
        """The Training form's run of the learner's objects: `names` says which of the namespace's
        (by kind, engine.tasks.own.KINDS); checked here, so that a wrong one is refused in words."""
        from engine.training import make_config

        cfg = make_config(**config)
        namespace = self.namespace_source()
        cfg, given, data = own_run(cfg, *(own.look_up(namespace, k, names.get(k, "")) for k in own.KINDS))
        return self.start_given(cfg, given, data, tag)

    def _run(self, cfg, run_id: int, given: Given | None = None, data: Dataset | None = None) -> None:
        """The training thread: one run, in this process or on its ranks; however it ends, the app
        is told (a failure as a message: the kernel lives on)."""
        from engine.devices import free_cuda_cache
        from engine.i18n import SaidError

        yield_to_the_screen()  # (a DDP run's ranks are niced too; this thread replays the run afterwards)
        try:
            if given is not None and data is not None:
                self._run_given(cfg, run_id, given, data)
            elif cfg.processes > 1:
                self._run_ranks(cfg, run_id)
            else:
                self._run_here(cfg, run_id)
        except SaidError as exc:  # a bad config or device, a run that diverged, a rank that failed (named)
            self.bridge.emit(TrainFinished(run_id, error=exc.said))
        except Exception as exc:  # noqa: BLE001 - CUDA out of memory and the like: a message
            free_cuda_cache()
            first = str(exc).splitlines()[0] if str(exc) else ""
            self.bridge.emit(TrainFinished(run_id, error=said("err.request.plain", text=f"{type(exc).__name__}: {first}")))
        finally:
            self.trainer = None

    def _run_here(self, cfg, run_id: int) -> None:
        from engine.training import Trainer, make_data

        data = make_data(cfg)
        self._keep_batch(cfg, data)
        trainer = Trainer(cfg, data, events_per_second=REDRAW_HZ, health=True)
        self.trainer = trainer
        self._emit_data(cfg, run_id, data)
        result = self._drive(trainer, run_id)
        assert trainer.model is not None  # (built by the run)
        self._keep(run_id, result, trainer.model, kept=result)

    def _run_given(self, cfg, run_id: int, given: Given, data: Dataset) -> None:
        from engine.training import Trainer

        trainer = Trainer(cfg, data, events_per_second=REDRAW_HZ, device=cfg.device, given=given, health=True)
        self.trainer = trainer
        self.model = given.model  # (an export during the run writes the weights as they are)
        try:
            result = self._drive(trainer, run_id)
        finally:  # however it ended, the learner's model is as it was at the last step, under both names
            self.namespace_source()[MODEL_NAME] = given.model
        self._keep(run_id, result, given.model, kept=result)

    def _drive(self, trainer, run_id: int):
        """drive(trainer) in this process: its progress to the app, with the gradients' health at
        the redraw rate, and their last health however the run ends (one that diverged: what blew
        up, before the error says so)."""
        from engine.training import drive

        health = HealthRelay(self.bridge.emit, run_id)

        def progress(p) -> None:
            self.bridge.emit(TrainProgress(run_id, p))
            health.send(trainer.health)

        try:
            return drive(trainer, progress)
        finally:
            health.send(trainer.health, last=True)

    def _run_ranks(self, cfg, run_id: int) -> None:
        """A data-parallel run: the worker processes train, this thread relays rank 0's progress
        and each rank's speed; afterwards the model is rebuilt here from rank 0's weights, and
        one process with the global batch replays the run to show DDP took the same steps."""
        from engine.distributed import big_batch_equivalent, model_of, rank_context, train_distributed
        from engine.training import RunControl

        emit = self.bridge.emit
        control = RunControl(rank_context().Event())  # one Event the ranks share
        self.trainer = control
        data = self._emit_data(cfg, run_id)
        self._keep_batch(cfg, data)
        result = train_distributed(
            cfg, cfg.processes,
            on_progress=lambda p: emit(TrainProgress(run_id, p)),
            on_health=lambda h: emit(TrainHealth(run_id, h)),
            on_rate=lambda rank, rate: emit(TrainRate(run_id, rank, rate)),
            should_stop=control.stopping.is_set, go=control.go, niceness=training_niceness())
        if result is None:
            emit(TrainFinished(run_id, error=said("err.ddp.stopped")))
            return
        replay = None
        if cfg.samples * cfg.epochs <= REPLAY_LIMIT:
            single = big_batch_equivalent(cfg, cfg.processes, data)  # the ranks' data, made once here
            replay = max(abs(a - b) for a, b in zip(single, result.weights, strict=True))
        self._keep(run_id, result.result, model_of(cfg, result.weights), kept=result, distributed=result,
                   replay=replay)

    def _keep(self, run_id: int, result: Result, model: nn.Module, kept: object,
              distributed: DistributedResult | None = None, replay: float | None = None) -> None:
        """The end of a run: its result and model stay here for the exports, `kept` and the model
        go into the user's namespace, and the app is told (with `more`: a DDP run's figures)."""
        self.result, self.model = result, model
        namespace = self.namespace_source()
        namespace[MODEL_NAME], namespace[RESULT_NAME] = model, kept
        self.bridge.emit(TrainFinished(run_id, result, model_name=MODEL_NAME, distributed=distributed, replay=replay))

    def forget_data(self) -> None:
        """Let the last run's data go (%reset frees the learner's objects: their loader among them)."""
        self.run_data = None

    def _keep_batch(self, cfg, data: Dataset) -> None:
        """A built-in task's first batch of inputs, for @batch: a copy of those rows only."""
        self.run_data = data.x[:cfg.batch_size].clone()

    def _emit_data(self, cfg, run_id: int, data=None):
        """Send the points the task's plot draws under the loss curve (a sample of them); the data."""
        from engine.plotdata import subsample_indices
        from engine.training import make_data

        data = data or make_data(cfg)
        idx = subsample_indices(data.x.shape[0], SCATTER_POINTS)
        self.bridge.emit(TrainData(run_id, cfg.task, task(cfg.task).plot_points(cfg, data, idx)))
        return data

    def pause(self) -> bool | None:
        """Pause the run going on; True (paused), or None when no run is going."""
        if self.trainer is None:
            return None
        self.trainer.pause()
        return self.trainer.paused

    def resume(self) -> bool | None:
        """Resume the run going on; False (not paused), or None when no run is going."""
        if self.trainer is None:
            return None
        self.trainer.resume()
        return self.trainer.paused

    def stop(self) -> bool:
        if self.trainer is None:
            return False
        self.trainer.stop()
        return True

    def export(self, kind: str, path: str) -> str:
        from engine import exports

        if self.result is None or self.config is None:
            raise RequestError("err.request.no_run")
        try:
            if kind == "csv":
                written = exports.loss_csv(self.result, Path(path))
            elif kind == "state_dict":
                written = exports.state_dict(self.model, Path(path), self.config.task)
            elif kind == "script" and task(self.config.task).no_script:
                raise RequestError(task(self.config.task).no_script)
            elif kind == "script":
                epochs_run = self.result.epochs if self.result.stopped else None
                written = exports.script(self.config, self.result.device, Path(path), epochs_run)
            else:
                raise RequestError("err.request.export_kind", kind=repr(kind))
        except OSError as exc:
            raise RequestError("err.request.write", path=path, error=exc.strerror or str(exc)) from None
        return str(written)
