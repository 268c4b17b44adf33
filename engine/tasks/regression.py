"""The linear regression of the classic tutorial: scikit-learn's make_regression, nn.Linear and
MSELoss, compared at the end with the closed-form least-squares optimum; the fit plot draws the
line (or, with several features, the predictions against the targets)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from engine.i18n import Said, said
from engine.tasks.base import Dataset, Meter, RunConfig, ScriptParts, Task
from engine.tasks.scripts import regression as scripts

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class RegressionData(Dataset):
    """The data with the coefficients that made it."""

    true_weight: tuple[float, ...] = ()
    true_bias: float = 0.0


@dataclass(frozen=True)
class RegressionProgress:
    """The line so far."""

    weight: tuple[float, ...]
    bias: float


@dataclass(frozen=True)
class RegressionResult:
    """The line learned, the one that made the data, and the least-squares optimum (the floor)."""

    weight: tuple[float, ...]
    bias: float
    true_weight: tuple[float, ...]
    true_bias: float
    optimal_weight: tuple[float, ...]
    optimal_bias: float
    optimal_loss: float

    def as_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def least_squares(data: Dataset) -> tuple[tuple[float, ...], float, float]:
    """The closed-form optimum on the data (float64): weights, bias, and its mean squared error."""
    import numpy as np

    x = data.x.double().numpy()
    y = data.y.double().numpy().reshape(-1)
    design = np.hstack([x, np.ones((x.shape[0], 1))])
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    mse = float(np.mean((design @ solution - y) ** 2))
    return tuple(float(v) for v in solution[:-1]), float(solution[-1]), mse


def line_of(model: nn.Module) -> tuple[tuple[float, ...], float]:
    from torch import nn

    assert isinstance(model, nn.Linear)  # (the regression's model)
    return tuple(model.weight.detach().reshape(-1).cpu().tolist()), float(model.bias.detach().cpu().item())


class RegressionMeter(Meter):
    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg

    def progress(self, model: nn.Module, seen: int, epoch_done: bool) -> RegressionProgress:
        return RegressionProgress(*line_of(model))

    def result(self, model: nn.Module, data: Dataset, device: str) -> RegressionResult:
        assert isinstance(data, RegressionData)  # (made by Regression.make_data)
        ow, ob, omse = least_squares(data)
        weight, bias = line_of(model)
        return RegressionResult(weight, bias, data.true_weight, data.true_bias, ow, ob, omse)


def _shown(ws) -> str:
    """The first weights (the screen has room for two)."""
    return " ".join(f"{w:.4f}" for w in ws[:2]) + (" …" if len(ws) > 2 else "")


class Regression(Task):
    name = "regression"
    words = "tr.task.regression"
    idle = "tr.idle"
    hides = frozenset({"hidden"})
    plot = "fit"
    files = {"csv": "loss_history.csv", "state_dict": "linear_regression.pt", "script": "train_linear.py"}
    wire_classes = (RegressionProgress, RegressionResult)

    def make_data(self, cfg: RunConfig) -> RegressionData:
        """make_regression(...) as the tutorial calls it."""
        import numpy as np
        import torch
        from sklearn.datasets import make_regression

        x, y, coef = make_regression(n_samples=cfg.samples, n_features=cfg.features, noise=cfg.noise,
                                     coef=True, bias=cfg.bias, random_state=cfg.data_seed)
        coef = np.atleast_1d(coef)
        return RegressionData(torch.tensor(x, dtype=torch.float32),
                              torch.tensor(y, dtype=torch.float32).reshape(-1, 1),
                              tuple(float(c) for c in coef), float(cfg.bias))

    def model(self, cfg: RunConfig) -> nn.Module:
        from torch import nn

        return nn.Linear(cfg.features, 1)

    def loss(self) -> nn.Module:
        from torch import nn

        return nn.MSELoss()

    def meter(self, cfg: RunConfig, data: Dataset, device: str) -> RegressionMeter:
        return RegressionMeter(cfg)

    def plot_points(self, cfg: RunConfig, data: Dataset, idx: list[int]) -> dict[str, Any]:
        assert isinstance(data, RegressionData)
        xs = data.x[idx, 0].tolist() if cfg.features == 1 else data.x[idx].tolist()
        return {"xs": xs, "ys": data.y[idx, 0].tolist(), "features": cfg.features, "true_w": data.true_weight[0],
                "true_b": data.true_bias}

    def status(self, metrics: RegressionProgress) -> tuple[str, dict[str, Any]]:
        return "tr.status", {"w": ", ".join(f"{v:.3f}" for v in metrics.weight[:3]), "b": f"{metrics.bias:.3f}"}

    def epoch_line(self, epoch: int, epochs: int, loss: float, metrics: RegressionProgress) -> Said:
        return said("cli.train.epoch", epoch=epoch, epochs=epochs, loss=f"{loss:.4f}")

    def result_lines(self, result: Any, cfg: RunConfig, *, cli: bool = False) -> list[Said]:
        m: RegressionResult = result.metrics
        loss = f"{result.final_loss:.4f}"
        if cli:
            def ws(values) -> str:
                return ", ".join(f"{v:.4f}" for v in values)

            return [said("cli.train.learned", w=ws(m.weight), b=f"{m.bias:.4f}", loss=loss),
                    said("cli.train.true", w=ws(m.true_weight), b=f"{m.true_bias:.4f}"),
                    said("cli.train.optimum", w=ws(m.optimal_weight), b=f"{m.optimal_bias:.4f}",
                         loss=f"{m.optimal_loss:.4f}")]
        return [said("tr.learned", w=_shown(m.weight), b=f"{m.bias:.4f}", loss=loss),
                said("tr.true", w=_shown(m.true_weight), b=f"{m.true_bias:.4f}"),
                said("tr.optimum", w=_shown(m.optimal_weight), b=f"{m.optimal_bias:.4f}", loss=f"{m.optimal_loss:.4f}"),
                said("tr.floor", device=result.device)]

    def script(self) -> ScriptParts:
        return scripts.PARTS
