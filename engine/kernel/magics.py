"""torchtui's % commands in the kernel: %autograd, %plot, %who, %reset, %timeit and %help.

IPython's own magics (%time, %run, %debug, %history, …) stay; %who, %reset and a line %timeit are
replaced by versions that speak about tensors, never ask for confirmation and, for %timeit,
synchronise CUDA (torch.utils.benchmark does).
"""

from __future__ import annotations

from engine.kernel.bridge import bridge

HELP = """Playground commands
  %timeit EXPR    time EXPR with torch.utils.benchmark (CUDA work is synchronized)
  %who            list tensors, arrays and modules with shape, dtype, device and bytes
  %reset          clear the namespace (torch, np, nn, optim and F come back)
  %autograd EXPR  step through EXPR's backward pass (EXPR must give a scalar with grad_fn)
  %plot EXPR      draw a tensor: 1-D as a line, 2-D as a heatmap; --hist for a histogram
  live(loss=...)  plot named numbers from your own loop, live (F4 shows them)
  %save NAME.py   the session as a script (.ipynb: a notebook; .png: the newest figure)
  %help           this list
  obj? / obj??    documentation / source of obj;  %time, %run FILE, %debug, %history and
                  IPython's other magics work too (%lsmagic lists them)
Keys: Enter runs a complete cell (an empty line ends a block) · ctrl+c interrupts
      F9 restarts the kernel · Up/Down walk history · ctrl+r searches it · Tab completes
      F1 shows every key"""


class MagicError(ValueError):
    """A % command used wrongly; the message says how to use it."""


def _usage(message: str):
    from IPython.core.error import UsageError

    return UsageError(message)


def help_magic(line: str = "") -> None:
    print(HELP)


def timeit_magic(line: str) -> None:
    arg = line.strip()
    if not arg:
        raise _usage("usage: %timeit EXPR, e.g. %timeit torch.randn(1000, 1000) @ torch.randn(1000, 1000)")
    compile(arg, "<timeit>", "exec")  # a syntax error is reported before timing starts
    from IPython import get_ipython
    from torch.utils import benchmark

    timer = benchmark.Timer(stmt=arg, globals=get_ipython().user_ns)
    m = timer.blocked_autorange(min_run_time=0.5)
    spread = f" (IQR {m.iqr * 1e6:.1f} µs)" if len(m.times) >= 4 else ""
    mean = m.mean
    unit, scale = ("s", 1) if mean >= 1 else ("ms", 1e3) if mean >= 1e-3 else ("µs", 1e6)
    print(f"{mean * scale:.3g} {unit} per run, median {m.median * scale:.3g} {unit}{spread}; "
          f"{m.number_per_run * len(m.times)} runs")


def who_magic(line: str = "") -> None:
    from IPython import get_ipython

    from engine.repl.variables import collect

    rows = collect(_visible(get_ipython()))
    if not rows:
        print("no tensors, arrays or modules yet")
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        grad = " requires_grad" if r.requires_grad else ""
        print(f"{r.name:<{width}}  {r.kind:<7} {r.shape:<14} {r.dtype:<9} {r.device:<6} {r.nbytes:>12,} B{grad}")


def _visible(ip) -> dict:
    hidden = ip.user_ns_hidden
    return {k: v for k, v in ip.user_ns.items() if k not in hidden or hidden[k] is not v}


def reset_magic(line: str = "") -> None:
    import gc

    from IPython import get_ipython

    from engine.devices import free_cuda_cache
    from engine.kernel.extension import fill_namespace

    ip = get_ipython()
    ip.reset(new_session=False)
    fill_namespace(ip)
    gc.collect()
    free_cuda_cache()
    print("namespace cleared: torch, np, nn, optim and F are loaded again")
    bridge.emit("variables", rows=[])


def autograd_magic(line: str) -> None:
    arg = line.strip()
    if not arg:
        raise _usage("usage: %autograd EXPR, e.g. %autograd loss  or  %autograd ((x @ w + b - y) ** 2).mean()")
    from IPython import get_ipython

    from engine.autograd import AutogradError
    from engine.kernel import inspections

    try:
        inspection = inspections.from_expression(arg, get_ipython().user_ns)
    except AutogradError as exc:
        raise _usage(str(exc)) from None
    rec = inspection.recording
    app = bridge.comm_of_current_cell()
    if app is not None:  # a torchtui app sent this cell: its Autograd screen shows the recording
        print(f"recorded {len(rec.steps)} backward steps over {len(rec.graph.nodes)} nodes: "
              "opening the Autograd inspector")
        bridge.emit("autograd", comm=app, inspection=inspection.payload())
    else:  # a notebook or IPython: the same walk `torchtui grad` prints
        from engine.grad_text import walk_lines

        print("\n".join(walk_lines(rec)))


PLOT_USAGE = ("usage: %plot EXPR [--hist] [--bins N], e.g. %plot torch.sin(torch.linspace(0, 6.3, 100)) "
              "(1-D: a line, 2-D: a heatmap, --hist: a histogram of any shape)")
COLUMNS = [80]  # the width %plot draws at: the app's output log tells it (requests.display_width)


def plot_magic(line: str) -> None:
    import re

    from IPython import get_ipython

    from engine.tensorplot import PlotError, plot_text

    hist = bool(re.search(r"(?:^|\s)--hist(?=\s|$)", line))
    source = re.sub(r"(?:^|\s)--hist(?=\s|$)", " ", line)
    bins = 40
    found = re.search(r"(?:^|\s)--bins\s+(\d+)(?=\s|$)", source)
    if found:
        bins = max(1, int(found.group(1)))
        source = source[:found.start()] + " " + source[found.end():]
    source = source.strip()
    if not source:
        raise _usage(PLOT_USAGE)
    try:
        code = compile(source, "<plot>", "eval")
    except SyntaxError as exc:
        unknown = re.search(r"(?:^|\s)(--[A-Za-z][\w-]*)", source)
        if unknown:
            raise _usage(f"%plot: unknown option {unknown.group(1)}. {PLOT_USAGE}") from None
        raise _usage(f"%plot: {source!r} is not an expression ({exc.msg})") from None
    try:
        value = eval(code, get_ipython().user_ns)  # noqa: S307 - the learner's own expression
    except Exception as exc:
        raise _usage(f"%plot: {source} failed: {type(exc).__name__}: {exc}") from None
    try:
        print(plot_text(value, source, columns=COLUMNS[0], hist=hist, bins=bins))
    except PlotError as exc:
        raise _usage(f"%plot: {exc}") from None


def register(ip) -> None:
    from engine.kernel.extension import own_kernel

    magics = [("help", help_magic), ("timeit", timeit_magic), ("who", who_magic), ("autograd", autograd_magic),
              ("plot", plot_magic)]
    if own_kernel():  # in someone else's kernel (a notebook's) IPython's %reset, which asks first, stays
        magics.append(("reset", reset_magic))
    for name, func in magics:
        ip.register_magic_function(func, "line", name)
