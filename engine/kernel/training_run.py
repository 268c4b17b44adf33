"""The Training screen's run, in a thread of the kernel: progress, plot data and the result go to
the app as events; pause, resume and stop come back as requests. The finished model stays in the
namespace as `trained_model` (and the run's numbers as `trained_result`) for the Playground."""

from __future__ import annotations

import os
import threading

from engine.i18n import said
from engine.kernel.bridge import RequestError

REDRAW_HZ = 10  # progress events a second: the screen redraws no faster
SCATTER_POINTS = 400
TRAINING_NICENESS = 10
MODEL_NAME, RESULT_NAME = "trained_model", "trained_result"


def yield_to_the_screen() -> None:
    """Run this thread at a lower priority (Linux: niceness is per thread): where cores are few,
    the app drawing keys and plots, and the terminal, come before the next training step. Where
    a core is free, training goes as fast as before."""
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINING_NICENESS)
        except OSError:
            pass


class TrainingRun:
    """At most one run at a time; starting a new one stops the old."""

    def __init__(self, bridge, namespace_source) -> None:
        self.bridge = bridge
        self.namespace_source = namespace_source  # () -> the user's namespace (it changes on %reset)
        self.trainer = None
        self.run_id = 0
        self.config = None
        self.result = None
        self.model = None
        self._thread: threading.Thread | None = None

    def start(self, config: dict, tag: int = 0) -> int:
        """Start a run (stopping the one before); its events carry `run=tag`, the caller's number."""
        from engine.training import ConfigError, make_config

        try:
            cfg = make_config(**config)
        except ConfigError:
            raise  # what it says goes back to the app
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.run_id += 1
        self.config, self.result, self.model = cfg, None, None
        self._thread = threading.Thread(target=self._run, args=(cfg, tag), name="torchtui-training",
                                        daemon=True)
        self._thread.start()
        return self.run_id

    def _run(self, cfg, run_id: int) -> None:
        from engine.devices import DeviceError, free_cuda_cache
        from engine.plotdata import subsample_indices
        from engine.training import ConfigError, Diverged, Trainer, make_data

        emit = self.bridge.emit
        yield_to_the_screen()
        try:
            data = make_data(cfg)
            trainer = Trainer(cfg, data, events_per_second=REDRAW_HZ)
            self.trainer = trainer
            idx = subsample_indices(data.x.shape[0], SCATTER_POINTS)
            if cfg.task == "moons":
                from engine.training import BOUNDARY_GRID, boundary_grid

                emit("train_data", run=run_id, task="moons", xs=data.x[idx].tolist(), ys=data.y[idx].tolist(),
                     extent=list(boundary_grid(data.x)[1]), grid=list(BOUNDARY_GRID))
            else:
                xs = data.x[idx, 0].tolist() if cfg.features == 1 else data.x[idx].tolist()
                emit("train_data", run=run_id, task="regression", xs=xs, ys=data.y[idx, 0].tolist(),
                     features=cfg.features, true_w=data.true_weight[0], true_b=data.true_bias)
            gen = trainer.run()
            while True:
                try:
                    progress = next(gen)
                except StopIteration as done:
                    self.result, self.model = done.value, trainer.model
                    namespace = self.namespace_source()
                    namespace[MODEL_NAME], namespace[RESULT_NAME] = trainer.model, done.value
                    emit("train_finished", run=run_id, result=done.value, model_name=MODEL_NAME)
                    return
                emit("train_progress", run=run_id, progress=progress, paused=trainer.paused)
        except (Diverged, ConfigError, DeviceError) as exc:
            emit("train_finished", run=run_id, error=exc.said)
        except Exception as exc:  # CUDA out of memory and the like: a message, and the kernel lives on
            free_cuda_cache()
            first = str(exc).splitlines()[0] if str(exc) else ""
            emit("train_finished", run=run_id, error=said("err.request.plain", text=f"{type(exc).__name__}: {first}"))
        finally:
            self.trainer = None

    def pause(self) -> bool:
        if self.trainer is None:
            return False
        self.trainer.pause()
        return True

    def resume(self) -> bool:
        if self.trainer is None:
            return False
        self.trainer.resume()
        return True

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
                written = exports.loss_csv(self.result, path)
            elif kind == "state_dict":
                written = exports.state_dict(self.model, path)
            elif kind == "script":
                epochs_run = self.result.epochs if self.result.stopped else None
                written = exports.script(self.config, self.result.device, path, epochs_run)
            else:
                raise RequestError("err.request.export_kind", kind=repr(kind))
        except OSError as exc:
            raise RequestError("err.request.write", path=path, error=exc.strerror or str(exc)) from None
        return str(written)
