"""`torchtui train --headless`: the Training screen's run, printed as the tutorial prints it."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING

from tui.i18n import language, t

if TYPE_CHECKING:
    from engine.config import Config
    from engine.i18n import Said

FLAGS = {  # flag -> RunConfig field
    "--task": "task", "--hidden": "hidden", "--nproc": "processes", "--samples": "samples", "--features": "features", "--noise": "noise", "--bias": "bias",
    "--data-seed": "data_seed", "--batch-size": "batch_size", "--epochs": "epochs", "--lr": "lr",
    "--optimizer": "optimizer", "--loader": "loader", "--seed": "seed",
}


SHOWN_CHARS = 24  # of a rejected value: a 5,000-digit number is not echoed whole


def _shown(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…")


def whole(low: int, high: int, high_words: str = ""):
    """An argparse type: a whole number from `low` to `high`, else an error that names the range."""

    def parse(text: str) -> int:
        try:
            # (int() of thousands of digits is slow and then refused: anything that long is out of range)
            value = int(text) if len(text.strip()) <= 40 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(t("cli.whole_range", low=low, high=high_words or high,
                                               value=_shown(text)))
        return value

    parse.range = (low, high)  # type: ignore[attr-defined]
    return parse


def number(low: float, high: float, above_low: bool = False):
    """An argparse type: a finite number from `low` to `high` (above `low` when `above_low`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (low < value <= high if above_low else low <= value <= high):  # NaN is in no range
            key = "cli.above_range" if above_low else "cli.number_range"
            raise argparse.ArgumentTypeError(t(key, low=f"{low:g}", high=f"{high:g}", value=_shown(text)))
        return value

    parse.range = (low, high)  # type: ignore[attr-defined]
    return parse


def ranges() -> dict[str, object]:
    """The type (and range) of each numeric flag. Sized to what a laptop trains in minutes to hours
    and the engine's own limits; past them a run would not end (--epochs 10**20) or not start
    (--batch-size 10**23, more than a slice can take)."""
    from engine.training import MAX_HIDDEN, MAX_LR, MAX_PROCESSES

    return {
        "--hidden": whole(1, MAX_HIDDEN), "--nproc": whole(1, MAX_PROCESSES),
        "--samples": whole(2, 100_000_000), "--features": whole(1, 10_000),
        "--noise": number(0.0, 1e6), "--bias": number(-1e6, 1e6),
        "--data-seed": whole(0, 2**32 - 1), "--batch-size": whole(1, 100_000_000),
        "--epochs": whole(1, 100_000), "--lr": number(0.0, MAX_LR, above_low=True),
        "--seed": whole(0, 2**63 - 1, "2**63 - 1"),
    }


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train the linear regression or the moons classifier (--task moons); "
                                     "headless with --headless")
    p.add_argument("--headless", action="store_true", help="train without the UI and print the result")
    types = ranges()
    for flag, name in FLAGS.items():
        p.add_argument(flag, dest=f"cfg_{name}", default=None, metavar=name.upper(), type=types.get(flag))
    p.add_argument("--no-shuffle", action="store_true", help="keep the data in order")
    p.add_argument("--device", default=argparse.SUPPRESS, help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object, alone on stdout (the epoch lines and the summary go to stderr)")
    p.add_argument("--export-script", metavar="PATH", help="write a plain-PyTorch script of this run")
    p.set_defaults(run=run_train)


def run_train(args, device: str, warnings: tuple[Said, ...], config: Config) -> int:
    from engine.i18n import SaidError
    from engine.training import ConfigError, Diverged, make_config, train

    raw = {name: getattr(args, f"cfg_{name}") for name in FLAGS.values() if getattr(args, f"cfg_{name}") is not None}
    if args.no_shuffle:
        raw["shuffle"] = False
    raw["device"] = device
    try:
        cfg = make_config(**raw)
    except ConfigError as exc:
        sys.stderr.write(f"torchtui train: bad config: {exc}\n")
        return 2
    if args.export_script is not None and not args.export_script.strip():
        sys.stderr.write("torchtui train: --export-script needs a file path\n")
        return 2
    if not args.headless:
        from tui.fullscreen import run_app

        return run_app("train", device, language(), warnings, config.theme, train_config=cfg, keys=config.keys)
    for warning in warnings:
        sys.stderr.write(f"torchtui: warning: {warning.words(language())}\n")
    every = max(1, cfg.epochs // 10)
    # With --json, stdout is the JSON object alone (`| jq .`, json.load); what a person reads goes
    # to stderr, as gh, pip and kubectl do.
    human = sys.stderr if args.json else sys.stdout

    def say(line: str) -> None:
        print(line, file=human, flush=True)

    def show(event) -> None:
        if event.epoch_done and (event.epoch % every == 0 or event.epoch == cfg.epochs):
            accuracy = f", accuracy: {event.accuracy:.3f}" if event.accuracy is not None else ""
            say(f"Epoch [{event.epoch}/{cfg.epochs}], Loss: {event.loss:.4f}{accuracy}")

    distributed = None
    try:
        if cfg.processes > 1:
            from engine.distributed import train_distributed

            distributed = train_distributed(cfg, cfg.processes, show)
            assert distributed is not None  # (None only when asked to stop, which nothing here does)
            result = distributed.result
        else:
            result = train(cfg, show)
    except ConfigError as exc:
        sys.stderr.write(f"torchtui train: {exc}\n")
        return 2
    except Diverged as exc:
        sys.stderr.write(f"torchtui train: {exc}\n")
        return 3
    except SaidError as exc:  # a rank that failed (named), a rank that diverged
        sys.stderr.write(f"torchtui train: {exc}\n")
        return 3 if exc.said.code == "err.train.diverged" else 1
    except Exception as exc:  # CUDA out of memory and the like: one clear line, not a traceback
        sys.stderr.write(f"torchtui train: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n")
        return 1
    if result.task == "moons":
        say(f"final loss {result.final_loss:.4f}  accuracy {result.accuracy:.4f} on all {cfg.samples} points "
            f"(MLP 2 -> {cfg.hidden} -> 2)")
    else:
        w = ", ".join(f"{v:.4f}" for v in result.weight)
        tw = ", ".join(f"{v:.4f}" for v in result.true_weight)
        ow = ", ".join(f"{v:.4f}" for v in result.optimal_weight)
        say(f"learned  weight [{w}]  bias {result.bias:.4f}  loss {result.final_loss:.4f}")
        say(f"true     weight [{tw}]  bias {result.true_bias:.4f}")
        say(f"optimum  weight [{ow}]  bias {result.optimal_bias:.4f}  loss {result.optimal_loss:.4f} "
            "(least squares)")
    if distributed is not None:
        rates = " + ".join(f"rank {r.rank} {r.samples_per_s:,.0f}" for r in distributed.ranks)
        say(f"{distributed.world_size} processes ({distributed.backend}) · global batch {distributed.global_batch} "
            f"= {distributed.world_size} × {cfg.batch_size} · {distributed.shard} samples per rank and epoch")
        say(f"samples/s: {rates} = {distributed.samples_per_s:,.0f} in all")
        say(f"weights after the last step: max difference between ranks {distributed.weights_max_difference:g} "
            "(the all-reduce keeps them equal)")
    else:
        say(f"{result.steps} steps in {result.seconds:.2f} s · {result.samples_per_s:,.0f} samples/s · {result.device}")
    if args.export_script:
        from engine import exports

        try:
            path = exports.script(cfg, result.device, args.export_script)
        except OSError as exc:
            sys.stderr.write(f"torchtui train: cannot write {args.export_script}: {exc.strerror}\n")
            return 2
        say(f"script written to {path}")
    if args.json:
        print(json.dumps((distributed or result).as_json()))
    return 0
