"""`torchtui train --headless`: the Training screen's run, printed as the tutorial prints it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from tui.i18n import language

if TYPE_CHECKING:
    from engine.config import Config
    from engine.i18n import Said

FLAGS = {  # flag -> RunConfig field
    "--task": "task", "--hidden": "hidden", "--nproc": "processes", "--samples": "samples", "--features": "features", "--noise": "noise", "--bias": "bias",
    "--data-seed": "data_seed", "--batch-size": "batch_size", "--epochs": "epochs", "--lr": "lr",
    "--optimizer": "optimizer", "--loader": "loader", "--seed": "seed",
}


def add_train_parser(sub) -> None:
    p = sub.add_parser("train", help="train the linear regression or the moons classifier (--task moons); "
                                     "headless with --headless")
    p.add_argument("--headless", action="store_true", help="train without the UI and print the result")
    for flag, name in FLAGS.items():
        p.add_argument(flag, dest=f"cfg_{name}", default=None, metavar=name.upper())
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
