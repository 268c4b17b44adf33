"""%train MODEL, DATA, LOSS, OPTIMIZER[, epochs=N, batch_size=B, device=D, metric=M, shuffle=S]: the
learner's own objects trained in the kernel's training thread (engine.kernel.training_run), the
arguments being Python expressions evaluated in the namespace. The app that sent the cell opens
Training on the run; anywhere else the run goes on in the background and ends in `trained_result`."""

from __future__ import annotations

import ast
from dataclasses import asdict
from typing import Any

from IPython import get_ipython
from IPython.core.error import UsageError

from engine.i18n import SaidError, say
from engine.kernel.bridge import bridge
from engine.kernel.training_run import RESULT_NAME, own_run
from engine.protocol import TrainShown
from engine.tasks.own import KINDS, Own

OPTIONS = ("epochs", "batch_size", "device", "metric", "shuffle")  # the keywords %train takes


def parse(line: str) -> tuple[list[ast.expr], dict[str, ast.expr]]:
    """%train's arguments as Python parses a call's: the four objects, and the keywords by name."""
    try:
        call = ast.parse(f"_({line})", mode="eval").body
    except SyntaxError:
        raise UsageError(say("own.usage")) from None
    assert isinstance(call, ast.Call)  # (the source is a call by construction)
    if len(call.args) != len(KINDS) or any(isinstance(a, ast.Starred) for a in call.args):
        raise UsageError(say("own.usage"))
    options: dict[str, ast.expr] = {}
    for keyword in call.keywords:
        if keyword.arg not in OPTIONS:  # (None: a **mapping)
            raise UsageError(say("own.err.option", option=keyword.arg or "**", options=", ".join(OPTIONS)))
        options[keyword.arg] = keyword.value
    return list(call.args), options


def evaluate(node: ast.expr, source: str, namespace: dict) -> Any:
    text = ast.get_source_segment(source, node) or ""
    try:
        return eval(compile(ast.Expression(node), "<train>", "eval"), namespace)  # noqa: S307 - the learner's own
    except Exception as exc:  # noqa: BLE001 - said in one sentence, as a cell's error would be
        raise UsageError(say("own.err.eval", source=text, error=f"{type(exc).__name__}: {exc}")) from None


def train_magic(line: str) -> None:
    from engine.training import ConfigError, make_config

    ip = get_ipython()
    namespace = ip.user_ns
    source = f"_({line})"
    args, options = parse(line)
    objects = [evaluate(node, source, namespace) for node in args]
    values = {name: evaluate(node, source, namespace) for name, node in options.items()}
    metric = values.pop("metric", "auto")
    metric = "none" if metric is None else metric
    try:
        cfg = make_config(task=Own.name, **{k: v for k, v in values.items() if v is not None})
        model, data, loss, optimizer = objects
        cfg, given, data = own_run(cfg, model, data, loss, optimizer, metric=metric if isinstance(metric, str) else repr(metric))
    except (ConfigError, SaidError) as exc:
        raise UsageError(str(exc)) from None
    training = bridge.training
    names = {kind: ast.get_source_segment(source, node) or "" for kind, node in zip(KINDS, args, strict=True)}
    tag = -(training.run_id + 1)  # the kernel's own numbers, apart from the screen's (which count up from 1)
    app = bridge.comm_of_current_cell()
    if app is not None:  # before the run's first event: the screen follows this run from its start
        bridge.emit(TrainShown(tag, asdict(cfg), names), comm=app)
    training.start_given(cfg, given, data, tag)
    where = "own.started_app" if app is not None else "own.started"
    print(say(where, model=names["model"], epochs=cfg.epochs, device=cfg.device, result=RESULT_NAME))
