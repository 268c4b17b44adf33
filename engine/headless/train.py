"""`torchtui train`: its options and their ranges, the run's config read from them, and with
--headless the Training screen's run itself, printed as the tutorial prints it. (Without
--headless, tui.cli opens the Training screen with that config.)"""

from __future__ import annotations

import argparse
import json
import math
import sys

from engine.i18n import Said, SaidError, counted, said, say, spoken
from engine.tasks import DEFAULT_TASK, SETTINGS, TASKS, task
from engine.training import (
    ConfigError,
    Diverged,
    RunConfig,
    defaults,
    make_config,
    train,
)
from engine.words import shown

FLAGS = {  # flag -> RunConfig field
    "--task": "task", "--hidden": "hidden", "--nproc": "processes", "--samples": "samples", "--features": "features", "--noise": "noise", "--bias": "bias",
    "--data-seed": "data_seed", "--batch-size": "batch_size", "--epochs": "epochs", "--lr": "lr",
    "--optimizer": "optimizer", "--loader": "loader", "--seed": "seed",
}


SHOWN_CHARS = 24  # of a rejected value: a 5,000-digit number is not echoed whole


def whole(low: int, high: int, high_words: str = ""):
    """An argparse type: a whole number from `low` to `high`, else an error that names the range."""

    def parse(text: str) -> int:
        try:
            # (int() of thousands of digits is slow and then refused: anything that long is out of range)
            value = int(text) if len(text.strip()) <= 40 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(say("cli.whole_range", low=low, high=high_words or high,
                                                 value=shown(text, SHOWN_CHARS)))
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
            raise argparse.ArgumentTypeError(say(key, low=f"{low:g}", high=f"{high:g}", value=shown(text, SHOWN_CHARS)))
        return value

    parse.range = (low, high)  # type: ignore[attr-defined]
    return parse


def ranges() -> dict[str, object]:
    """The type (and range) of each numeric flag, from the settings' schema."""
    flag_of = {name: flag for flag, name in FLAGS.items()}
    types: dict[str, object] = {}
    for s in SETTINGS:
        if s.name in flag_of and s.kind in ("int", "float"):
            assert s.low is not None and s.high is not None  # (every number of the schema has its range)
            types[flag_of[s.name]] = (whole(int(s.low), int(s.high), s.high_words) if s.kind == "int" else
                                      number(s.low, s.high, above_low=s.above_low))
    return types


# the tasks a command line can train: those that make their own data and model (the learner's own
# objects are in a Playground's namespace, which a command line has not)
HEADLESS = {name: kind for name, kind in TASKS.items() if not kind.given}


def default_words(name: str) -> str:
    """The default of a setting, and each task's own where it differs."""
    value = getattr(defaults(DEFAULT_TASK), name)
    words = say("cli.default", value=value)
    if name == "task":
        return words
    for other in HEADLESS.values():
        own = getattr(other.config(), name)
        if own != value:
            words = say("cli.default_task", default=words, task=other.name, value=own)
    return words


def add_train_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help=say("cli.train"))
    p.add_argument("--headless", action="store_true", help=say("cli.train.headless"))
    types = ranges()
    choices = {"task": tuple(HEADLESS), **{s.name: s.choices for s in SETTINGS if s.choices}}
    for flag, name in FLAGS.items():
        # the default is the task's (the config decides it after parsing, so argparse's stays None)
        default = default_words(name)
        metavar = "{" + ",".join(choices[name]) + "}" if name in choices else name.upper()
        p.add_argument(flag, dest=f"cfg_{name}", default=None, metavar=metavar, type=types.get(flag),
                       help=say("cli.with_default", help=say("cli.train." + name), default=default))
    p.add_argument("--no-shuffle", action="store_true", help=say("cli.train.no_shuffle"))
    p.add_argument("--device", default=argparse.SUPPRESS, help=say("cli.train.device"))
    p.add_argument("--json", action="store_true", help=say("cli.train.json"))
    p.add_argument("--export-script", metavar="PATH", help=say("cli.train.export_script"))
    return p


def run_config(args, device: str) -> RunConfig | None:
    """The run the options describe, on `device`; None, said why on stderr, when they describe none."""
    raw = {name: getattr(args, f"cfg_{name}") for name in FLAGS.values() if getattr(args, f"cfg_{name}") is not None}
    if args.no_shuffle:
        raw["shuffle"] = False
    raw["device"] = device
    try:
        if str(raw.get("task", DEFAULT_TASK)).strip().lower() not in HEADLESS:
            raise ConfigError("task", said("err.config.choose", choices=", ".join(HEADLESS)))
        cfg = make_config(**raw)
    except ConfigError as exc:
        sys.stderr.write(say("cli.train.bad_config", error=str(exc)) + "\n")
        return None
    if args.export_script is not None and not args.export_script.strip():
        sys.stderr.write(say("cli.train.no_path") + "\n")
        return None
    return cfg


def run_headless(args, cfg: RunConfig, warnings: tuple[Said, ...]) -> int:
    """`torchtui train --headless`: run `cfg` here, printing its epochs and what it learned."""
    for warning in warnings:
        sys.stderr.write(say("cli.warning", message=warning.words(spoken())) + "\n")
    every = max(1, cfg.epochs // 10)
    # With --json, stdout is the JSON object alone (`| jq .`, json.load); what a person reads goes
    # to stderr, as gh, pip and kubectl do.
    human = sys.stderr if args.json else sys.stdout

    def tell(line: str) -> None:
        print(line, file=human, flush=True)

    kind = task(cfg.task)

    def show(event) -> None:
        if event.epoch_done and (event.epoch % every == 0 or event.epoch == cfg.epochs):
            tell(kind.epoch_line(event.epoch, cfg.epochs, event.loss, event.metrics).words(spoken()))

    distributed = None
    try:
        if cfg.processes > 1:
            # imported when a run starts, not with the parser: every start of the app builds the parser
            from engine.distributed import train_distributed

            distributed = train_distributed(cfg, cfg.processes, show)
            assert distributed is not None  # (None only when asked to stop, which nothing here does)
            result = distributed.result
        else:
            result = train(cfg, show)
    except ConfigError as exc:
        sys.stderr.write(say("cli.train.failed", error=str(exc)) + "\n")
        return 2
    except Diverged as exc:
        sys.stderr.write(say("cli.train.failed", error=str(exc)) + "\n")
        return 3
    except SaidError as exc:  # a rank that failed (named), a rank that diverged
        sys.stderr.write(say("cli.train.failed", error=str(exc)) + "\n")
        return 3 if exc.said.code == "err.train.diverged" else 1
    except Exception as exc:  # CUDA out of memory and the like: one clear line, not a traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(say("cli.train.failed", error=f"{type(exc).__name__}: {first}") + "\n")
        return 1
    for line in kind.result_lines(result, cfg, cli=True):
        tell(line.words(spoken()))
    if distributed is not None:
        rates = " + ".join(say("cli.train.rank_rate", rank=r.rank, rate=f"{r.samples_per_s:,.0f}")
                           for r in distributed.ranks)
        tell(say("cli.train.ddp", n=distributed.world_size, backend=distributed.backend,
                 global_batch=distributed.global_batch, batch=cfg.batch_size, shard=distributed.shard))
        tell(say("cli.train.ddp_rates", rates=rates, total=f"{distributed.samples_per_s:,.0f}"))
        tell(say("cli.train.ddp_equal", difference=f"{distributed.weights_max_difference:g}"))
    else:
        tell(say(counted("cli.train.speed", result.steps), steps=result.steps, seconds=f"{result.seconds:.2f}",
                 rate=f"{result.samples_per_s:,.0f}", device=result.device))
    if args.export_script:
        from engine import exports  # (as engine.distributed above)

        try:
            path = exports.script(cfg, result.device, args.export_script)
        except OSError as exc:
            sys.stderr.write(say("cli.train.cannot_write", path=args.export_script, error=exc.strerror) + "\n")
            return 2
        tell(say("cli.train.written", path=path))
    if args.json:
        print(json.dumps((distributed or result).as_json()))
    return 0
