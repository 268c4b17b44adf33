"""IPython-style % commands: %timeit, %who, %reset, %autograd, %help."""

from __future__ import annotations

from dataclasses import dataclass


class MagicError(ValueError):
    """A % command that is unknown or used wrongly; the message says how to use it."""


@dataclass(frozen=True)
class AutogradRequest:
    """%autograd asks the UI to open the inspector on this recording."""

    expression: str
    recording: object
    forward: object  # forward(**leaves) for the gradient check, or None
    leaves: dict
    check_note: str = ""


HELP = """Playground commands
  %timeit EXPR    time EXPR with torch.utils.benchmark (CUDA work is synchronized)
  %who            list tensors, arrays and modules with shape, dtype, device and bytes
  %reset          clear the namespace (torch, np, nn, optim and F come back)
  %autograd EXPR  open the Autograd inspector on EXPR's graph (EXPR must give a scalar with grad_fn)
  %help           this list
Keys: Enter runs a complete cell · ctrl+c interrupts · Up/Down walk history · ctrl+r searches it
      Tab completes · F1 shows every key"""

NAMES = ("timeit", "who", "reset", "autograd", "help")


def split(line: str) -> tuple[str, str]:
    body = line.strip()[1:]
    name, _, arg = body.partition(" ")
    return name.strip(), arg.strip()


def run(line: str, kernel) -> AutogradRequest | None:
    name, arg = split(line)
    if name not in NAMES:
        raise MagicError(f"unknown command %{name}: known are " + ", ".join(f"%{n}" for n in NAMES))
    return globals()[f"_{name}"](arg, kernel)


def _help(arg, kernel):
    print(HELP)


def _timeit(arg, kernel):
    if not arg:
        raise MagicError("usage: %timeit EXPR, e.g. %timeit torch.randn(1000, 1000) @ torch.randn(1000, 1000)")
    compile(arg, "<timeit>", "exec")  # a syntax error is reported before timing starts
    from torch.utils import benchmark

    timer = benchmark.Timer(stmt=arg, globals=kernel.namespace)
    m = timer.blocked_autorange(min_run_time=0.5)
    spread = f" (IQR {m.iqr * 1e6:.1f} µs)" if len(m.times) >= 4 else ""
    mean = m.mean
    unit, scale = ("s", 1) if mean >= 1 else ("ms", 1e3) if mean >= 1e-3 else ("µs", 1e6)
    print(f"{mean * scale:.3g} {unit} per run, median {m.median * scale:.3g} {unit}{spread}; "
          f"{m.number_per_run * len(m.times)} runs")


def _who(arg, kernel):
    from engine.repl.variables import collect

    rows = collect(kernel.namespace)
    if not rows:
        print("no tensors, arrays or modules yet")
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        grad = " requires_grad" if r.requires_grad else ""
        print(f"{r.name:<{width}}  {r.kind:<7} {r.shape:<14} {r.dtype:<9} {r.device:<6} {r.nbytes:>12,} B{grad}")


def _reset(arg, kernel):
    kernel.reset_namespace()
    print("namespace cleared: torch, np, nn, optim and F are loaded again")


def _autograd(arg, kernel):
    if not arg:
        raise MagicError("usage: %autograd EXPR, e.g. %autograd loss  or  %autograd ((x @ w + b - y) ** 2).mean()")
    import ast

    from engine.autograd import record_backward

    ns = kernel.namespace
    root = eval(compile(arg, "<autograd>", "eval"), ns)
    recording = record_backward(root, ns, keep=True)
    leaves = {n.label: ns[n.label] for n in recording.graph.leaves() if n.label in ns}
    forward, note = None, ""
    if isinstance(ast.parse(arg, mode="eval").body, ast.Name):
        note = ("the gradient check recomputes the expression: give one that computes from the leaves, "
                "e.g. %autograd ((x @ w + b - y) ** 2).mean()")
    elif leaves:
        import torch

        code = compile(arg, "<autograd>", "eval")
        # The check runs in float64: every other floating tensor the expression may use goes too.
        as_double = {name: value.detach().double() for name, value in ns.items()
                     if isinstance(value, torch.Tensor) and value.is_floating_point()
                     and value.numel() <= 10**7 and name not in leaves}

        def forward(**values):
            return eval(code, {**ns, **as_double, **values})
    print(f"recorded {len(recording.steps)} backward steps over {len(recording.graph.nodes)} nodes: "
          "opening the Autograd inspector")
    return AutogradRequest(arg, recording, forward, leaves, note)
