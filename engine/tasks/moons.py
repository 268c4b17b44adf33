"""Classification of scikit-learn's two moons: a small MLP (2 → hidden → 2, ReLU) with
cross-entropy; it measures accuracy, and the boundary plot draws the model's decision regions
under the points."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.i18n import Said, said
from engine.tasks.base import AccuracyMeter, Dataset, RunConfig, ScriptParts, Task
from engine.tasks.scripts import moons as scripts

if TYPE_CHECKING:
    from torch import Tensor, nn

BOUNDARY_GRID = (48, 24)  # columns, rows of the decision boundary a run reports


@dataclass(frozen=True)
class MoonsProgress:
    """The share of the epoch's samples so far classified right, and the class the model gives
    each boundary_grid point (one digit each)."""

    accuracy: float
    boundary: str = ""


@dataclass(frozen=True)
class MoonsResult:
    """The final model's accuracy on all the data, and each epoch's."""

    accuracy: float
    accuracy_history: tuple[float, ...] = field(default=(), repr=False)
    hidden: int = 0

    def as_json(self) -> dict:
        return {"accuracy": self.accuracy, "hidden": self.hidden}


def boundary_grid(x, columns: int = BOUNDARY_GRID[0], rows: int = BOUNDARY_GRID[1]):
    """The points where the decision boundary is drawn: a rows × columns grid over the data with a
    margin, row 0 at the top. Returns (points as a (rows·columns, 2) tensor, (x0, x1, y0, y1))."""
    import torch

    lo, hi = x.min(dim=0).values, x.max(dim=0).values
    pad = (hi - lo) * 0.1
    lo, hi = lo - pad, hi + pad
    xs = torch.linspace(float(lo[0]), float(hi[0]), columns)
    ys = torch.linspace(float(hi[1]), float(lo[1]), rows)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1), (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


class MoonsMeter(AccuracyMeter):
    def __init__(self, cfg: RunConfig, data: Dataset, device: str) -> None:
        super().__init__()
        self.cfg = cfg
        self.grid = boundary_grid(data.x)[0].to(device)

    def count(self, outputs: Tensor, targets: Tensor, loss: Tensor | None = None) -> None:
        self.count_right(outputs, targets)

    def boundary(self, model: nn.Module) -> str:
        import torch

        with torch.no_grad():
            classes = model(self.grid).argmax(dim=1).cpu().tolist()
        return "".join(str(c) for c in classes)

    def progress(self, model: nn.Module, seen: int, epoch_done: bool) -> MoonsProgress:
        return MoonsProgress(self.accuracy(seen, epoch_done), self.boundary(model))

    def result(self, model: nn.Module, data: Dataset, device: str) -> MoonsResult:
        import torch

        with torch.no_grad():
            accuracy = float((model(data.x.to(device)).argmax(dim=1).cpu() == data.y).float().mean())
        return MoonsResult(accuracy, tuple(self.history), self.cfg.hidden)


class Moons(Task):
    name = "moons"
    words = "tr.task.moons"
    idle = "tr.idle_moons"
    hides = frozenset({"features", "bias"})
    # reaches 0.96 training accuracy in 100 epochs of 16 batches (about 0.3 s on one CPU core)
    defaults = {"samples": 500, "features": 2, "noise": 0.2, "batch_size": 32, "lr": 0.05, "optimizer": "momentum"}
    plot = "boundary"
    curve = "tr.plot.accuracy"
    curve_name = "accuracy"
    files = {"csv": "moons_history.csv", "state_dict": "moons_mlp.pt", "script": "train_moons.py"}
    wire_classes = (MoonsProgress, MoonsResult)

    def checks(self, cfg: RunConfig) -> list[tuple[str, bool, Said]]:
        return [("features", cfg.features == 2, said("err.config.moons_features"))]

    def make_data(self, cfg: RunConfig) -> Dataset:
        import torch
        from sklearn.datasets import make_moons

        x, y = make_moons(n_samples=cfg.samples, noise=cfg.noise, random_state=cfg.data_seed)
        return Dataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long))

    def model(self, cfg: RunConfig) -> nn.Module:
        from torch import nn

        return nn.Sequential(nn.Linear(2, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 2))

    def loss(self) -> nn.Module:
        from torch import nn

        return nn.CrossEntropyLoss()

    def meter(self, cfg: RunConfig, data: Dataset, device: str) -> MoonsMeter:
        return MoonsMeter(cfg, data, device)

    def plot_points(self, cfg: RunConfig, data: Dataset, idx: list[int]) -> dict[str, Any]:
        return {"xs": data.x[idx].tolist(), "ys": data.y[idx].tolist(), "extent": list(boundary_grid(data.x)[1]),
                "grid": list(BOUNDARY_GRID)}

    def curve_point(self, metrics: MoonsProgress) -> float | None:
        return metrics.accuracy

    def curve_history(self, metrics: MoonsResult) -> tuple[float, ...]:
        return metrics.accuracy_history

    def status(self, metrics: MoonsProgress) -> tuple[str, dict[str, Any]]:
        return "tr.status_moons", {"accuracy": f"{metrics.accuracy:.3f}"}

    def epoch_line(self, epoch: int, epochs: int, loss: float, metrics: MoonsProgress) -> Said:
        return said("cli.train.epoch_moons", epoch=epoch, epochs=epochs, loss=f"{loss:.4f}",
                    accuracy=f"{metrics.accuracy:.3f}")

    def result_lines(self, result: Any, cfg: RunConfig, *, cli: bool = False) -> list[Said]:
        m: MoonsResult = result.metrics
        loss = f"{result.final_loss:.4f}"
        if cli:
            return [said("cli.train.moons_result", loss=loss, accuracy=f"{m.accuracy:.4f}", samples=cfg.samples,
                         hidden=cfg.hidden)]
        return [said("tr.moons_result", loss=loss, accuracy=f"{m.accuracy:.3f}", samples=cfg.samples, hidden=m.hidden),
                said("tr.moons_floor", device=result.device)]

    def script(self) -> ScriptParts:
        return scripts.PARTS
