"""The finite-difference gradient check of a recorded backward, without a UI.

`gradient_check(forward, leaves, recorded)` re-runs the learner's own forward in float64 (a torch
function mode swaps every tensor an operation receives for a widened copy, so nothing of theirs is
written), perturbs each leaf element by element, and compares the central differences with the
gradients `engine.autograd.record_backward` recorded, within a per-element tolerance measured from
the recorded dtype's rounding. The GradCheck it returns holds, per leaf, the largest error and the
tolerance there, or why the leaf was not checked (not reached, random, integer, sparse, computed
before the forward, ...). `random_states()` captures the random states a forward may draw from:
every re-run starts from them, and the caller's own are put back afterwards.
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
import threading
import weakref
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from engine.i18n import Said, counted, said
from engine.tensors import fmt, regular

if TYPE_CHECKING:
    from torch import Tensor


# The check re-runs the learner's own forward on the very tensors it used: a TorchFunctionMode
# swaps every tensor an operation receives for a float64 copy (complex128 for complex), keyed by
# the tensor object itself, so a leaf reached under two names, through a function's globals or as
# a module's plain attribute is the same perturbed copy on every path, and nothing of the
# learner's is ever written. Tensors made inside the forward are widened to float64 as they come
# out of the operation that made them. Every re-run starts from the same random states.
#
# Tolerance, per element: the recorded dtype's rounding, measured rather than assumed (MARGIN ×
# the largest change of the gradient in ROUNDING_RUNS float64 re-runs of forward and backward
# whose every operation has its inputs and results perturbed by random relative amounts up to
# that dtype's unit roundoff: a sum's rounding scales with its terms, not with its result), plus
# the finite differences' own error (float64 rounding of the function, divided by the step).
EPS = 1e-6  # the finite-difference step
ROUNDING_RUNS = 4
MARGIN = 10


@dataclass(frozen=True)
class GradCheck:
    """Each leaf's recorded gradient against central finite differences of the same forward re-run
    in float64: per leaf the largest error and the tolerance at that element, or why the leaf was
    not checked. `said` holds the lines in leaf order; `notes` what holds for the whole check."""

    max_abs_error: dict[str, float]  # checked leaves only
    checked: dict[str, int]  # how many elements were perturbed per checked leaf
    tolerance: dict[str, float] = field(default_factory=dict)  # the tolerance at the worst element
    verdicts: dict[str, str] = field(default_factory=dict)  # every leaf: "ok", "differs" or "not_checked"
    skipped: dict[str, Said] = field(default_factory=dict)  # leaf -> why it was not checked
    said: tuple[Said, ...] = ()
    notes: tuple[Said, ...] = ()

    @property
    def worst(self) -> float:
        return max(self.max_abs_error.values(), default=0.0)

    @property
    def failing(self) -> list[str]:
        return [name for name, verdict in self.verdicts.items() if verdict == "differs"]

    @property
    def passed(self) -> bool:
        return not self.failing

    def lines(self, lang: str = "en") -> list[str]:
        """What the check found: a line per leaf (and one per kink or non-finite value), then notes."""
        return [s.words(lang) for s in (*self.said, *self.notes)]

    def summary(self) -> Said:
        """One sentence for the whole check."""
        if self.failing:
            return said("check.some_differ")
        ok = sum(1 for v in self.verdicts.values() if v == "ok")
        if not ok:
            return said("check.none_checked")
        if len(self.skipped):
            return said("check.agree_partly" if len(self.skipped) > 1 else "check.agree_partly_one", n=len(self.skipped))
        return said("check.all_agree")


class _ReplayFailed(Exception):
    """The forward could not be re-run in float64; `said` is why."""

    def __init__(self, why: Said) -> None:
        super().__init__(why.code)
        self.why = why


def _widened(dtype):
    import torch

    if dtype.is_complex:
        return torch.complex128
    if dtype.is_floating_point:
        return torch.float64
    return dtype


@cache
def _modes():
    """The two modes of the check, made on first use (the engine imports torch only when it runs)."""
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_map_only

    class Replay(TorchFunctionMode):
        """Swap each tensor an operation gets for a float64 copy: a leaf being checked for its
        working copy (`leaves`: id -> (original, working)), any other tensor of the learner's for
        a copy kept while unchanged; results come out widened to float64."""

        def __init__(self, leaves: dict) -> None:
            super().__init__()
            self.leaves = leaves
            self.constants: dict = {}
            self.made: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
            self.reached: set[int] = set()
            self.earlier: dict[int, Tensor] = {}  # results computed before the forward, with a graph
            self.dtypes: set = set()
            self.on = False

        def swap(self, t):
            key = id(t)
            if self.made.get(key) is t:
                return t
            hit = self.leaves.get(key)
            if hit is not None and hit[0] is t:
                self.reached.add(key)
                return hit[1]
            kept = self.constants.get(key)
            if kept is not None and kept[0] is t and kept[1]._version == kept[2]:
                return kept[1]
            if t.dtype.is_floating_point or t.dtype.is_complex:
                self.dtypes.add(t.dtype)
            if t.grad_fn is not None:
                self.earlier[key] = t
            copy = t.detach().to(_widened(t.dtype), copy=True)
            self.constants[key] = (t, copy, copy._version)
            self.made[id(copy)] = copy
            return copy

        def keep(self, t):
            if t.dtype.is_floating_point or t.dtype.is_complex:
                self.dtypes.add(t.dtype)
                if t.dtype != _widened(t.dtype):
                    t = t.to(_widened(t.dtype))
            self.made[id(t)] = t
            return t

        def __torch_function__(self, func, types, args=(), kwargs=None):
            args, kwargs = tree_map_only(torch.Tensor, self.swap, (args, kwargs or {}))
            return tree_map_only(torch.Tensor, self.keep, func(*args, **kwargs))

    active = threading.local()  # the replay running on this thread, for custom autograd Functions
    original_apply = torch.autograd.Function.apply.__func__

    def apply(cls, *args, **kwargs):
        """Function.apply, which no torch function mode sees: its inputs swapped as an op's are."""
        replay = getattr(active, "replay", None)
        if replay is None or not replay.on:
            return original_apply(cls, *args, **kwargs)
        args, kwargs = tree_map_only(torch.Tensor, replay.swap, (args, kwargs))
        return tree_map_only(torch.Tensor, replay.keep, original_apply(cls, *args, **kwargs))

    @contextlib.contextmanager
    def functions_swapped(replay):
        """While `replay` runs on this thread, custom autograd Functions get its tensors too (the
        class attribute is put back afterwards; other threads meanwhile go straight through)."""
        plain = torch.autograd.Function.__dict__["apply"]
        torch.autograd.Function.apply = classmethod(apply)
        active.replay, replay.on = replay, True
        try:
            yield
        finally:
            replay.on, active.replay = False, None
            torch.autograd.Function.apply = plain

    Replay.functions = functions_swapped

    exact = {getattr(torch.ops.aten, name).default for name in ("clone", "_to_copy", "detach", "lift_fresh")
             if hasattr(torch.ops.aten, name)}

    seeded = torch.Tag.nondeterministic_seeded

    class Rounding(TorchDispatchMode):
        """Below autograd, so in forward and backward alike: each operation's floating inputs and
        results multiplied by 1 + unit × r, r uniform in [-1, 1] from the check's own generator."""

        def __init__(self, unit: float, generator) -> None:
            super().__init__()
            self.unit, self.generator = unit, generator

        def noisy(self, t):
            if t.layout != torch.strided or not (t.is_floating_point() or t.is_complex()) or not t.numel():
                return t
            r = torch.rand(tuple(t.shape), generator=self.generator, dtype=torch.float64).to(t.device)
            return t * (1 + self.unit * (2 * r - 1))

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            schema = func._schema
            if func.is_view or func in exact or schema.is_mutable or any(r.alias_info is not None
                                                                       for r in schema.returns):
                return func(*args, **kwargs)
            clean = func(*args, **kwargs)
            if seeded in func.tags:  # a random op runs once, or it would draw other numbers
                return tree_map_only(torch.Tensor, self.noisy, clean)
            if not any(isinstance(o, torch.Tensor) and (o.is_floating_point() or o.is_complex())
                       for o in (clean if isinstance(clean, (tuple, list)) else (clean,))):
                return clean  # a comparison, an index: no rounding, and its inputs must not move
            once: dict[int, Tensor] = {}  # a tensor given twice (x * x) is one value

            def noisy(t):
                if id(t) not in once:
                    once[id(t)] = self.noisy(t)
                return once[id(t)]

            args, kwargs = tree_map_only(torch.Tensor, noisy, (args, kwargs))
            out = func(*args, **kwargs)
            return tree_map_only(torch.Tensor, self.noisy, out)

    return Replay, Rounding


def random_states(generators=()) -> dict:
    """The random states a forward may draw from: torch's (CPU and each initialised CUDA device),
    numpy's and Python's, and those of the torch.Generator objects given."""
    import torch

    state: dict = {"torch": torch.get_rng_state(), "python": random.getstate(),
                   "generators": [(g, g.get_state()) for g in generators]}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    np = sys.modules.get("numpy")
    if np is not None:
        state["numpy"] = np.random.get_state()
    return state


def set_random_states(state: dict) -> None:
    """Put back what random_states() read."""
    import torch

    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    if "cuda" in state:
        torch.cuda.set_rng_state_all(state["cuda"])
    if "numpy" in state:
        sys.modules["numpy"].random.set_state(state["numpy"])
    for g, s in state["generators"]:
        g.set_state(s)


def _reseed(seed: int, state: dict) -> None:
    """Other random states than `state`'s, for telling a random forward from a fixed one."""
    import torch

    torch.default_generator.manual_seed(seed)
    random.seed(seed)
    if "cuda" in state:
        for g in torch.cuda.default_generators:
            g.manual_seed(seed)
    if "numpy" in state:
        sys.modules["numpy"].random.seed(seed)
    for g, _ in state["generators"]:
        g.manual_seed(seed)


def _module_states(modules) -> list:
    """What a forward could rebind on the learner's modules (attributes, parameters, buffers)."""
    seen, out = set(), []
    for top in modules:
        try:
            found = list(top.modules())
        except Exception:  # noqa: BLE001 - a module that cannot list its children: only itself
            found = [top]
        for m in found:
            if id(m) in seen:
                continue
            seen.add(id(m))
            inner = {k: dict(v) for k, v in vars(m).items() if k in ("_parameters", "_buffers", "_modules")}
            out.append((m, dict(vars(m)), inner))
    return out


def _restore_modules(states: list) -> None:
    for m, attrs, inner in states:
        d = vars(m)
        if d.keys() != attrs.keys() or any(d[k] is not v for k, v in attrs.items()):
            d.clear()
            d.update(attrs)
        for k, v in inner.items():  # by identity: `!=` on the dicts would compare the tensors
            if d[k].keys() != v.keys() or any(d[k][n] is not x for n, x in v.items()):
                d[k].clear()
                d[k].update(v)


def _components(t):
    """A float64 tensor as a flat real vector: a complex one as (real, imaginary) pairs."""
    import torch

    t = t.detach()
    if t.layout != torch.strided:
        t = t.to_dense()
    t = t.to(_widened(t.dtype))
    return (torch.view_as_real(t) if t.is_complex() else t).reshape(-1)


def _where(shape, component: int, is_complex: bool, lang_free=True) -> Said:
    index = component // 2 if is_complex else component
    place = []
    for size in reversed(shape):
        place.append(index % size)
        index //= size
    at = "[" + ", ".join(str(i) for i in reversed(place)) + "]"
    if is_complex:
        return said("check.at_part" if component % 2 else "check.at_real", at=at)
    return said("check.at", at=at)


def _num(x: float) -> str:
    return f"{x:.1e}" if x == x and abs(x) != float("inf") else str(x)


def gradient_check(forward, leaves: dict, recorded: dict, passes: int = 1, eps: float = EPS,
                   max_elements: int = 200, gradient=None, random_state: dict | None = None,
                   names: dict | None = None, modules=(), generators=()) -> GradCheck:
    """Compare `recorded` leaf gradients (summed over `passes` backward passes) with central
    finite differences of `forward(**leaves)` re-run in float64 (see the comment above), never
    writing a tensor of the caller's, nor moving their random states.

    `leaves` maps labels to the leaf tensors themselves; a leaf the re-run never reaches, or whose
    float64 gradient is not what was recorded (a random forward, a result computed before the
    forward) is said as not checked, with why. `gradient`: what backward started from, for a
    non-scalar root. `random_state` (see random_states()): the states the recorded forward started
    from, which every re-run starts from. `names` (id -> name) words the results computed before;
    `modules`' attributes are put back after each re-run; `generators` are kept as they were.
    Perturbs at most `max_elements` elements per leaf (evenly spread) so a big leaf stays quick.
    """
    import torch

    learner = random_states(generators)
    fixed = random_state if random_state is not None else learner
    fixed = {**fixed, "generators": fixed.get("generators") or learner["generators"]}
    module_states = _module_states(modules)
    Replay, Rounding = _modes()
    skipped: dict[str, Said] = {}
    work: dict[str, tuple] = {}  # label -> (original, float64 working copy, pristine copy, recorded)
    for label, value in leaves.items():
        grad = recorded.get(label)
        if grad is None:
            skipped[label] = said("check.skip.no_gradient")
        elif not regular(value) or value.is_meta:
            skipped[label] = said("check.skip.layout")
        elif not (value.is_floating_point() or value.is_complex()):
            skipped[label] = said("check.skip.integer")
        else:
            copy = value.detach().to(_widened(value.dtype), memory_format=torch.contiguous_format, copy=True)
            work[label] = (value, copy, copy.clone(), grad)
    wide_gradient = None if gradient is None else gradient.detach().to(_widened(gradient.dtype), copy=True)

    def target(root):
        if not isinstance(root, torch.Tensor):
            root = torch.as_tensor(root, dtype=torch.float64)
        value = root.reshape(()) if wide_gradient is None else (wide_gradient.conj() * root).sum()
        return value.real if value.is_complex() else value

    last_replay: list = []

    def run(values: dict, grad: bool = False, rounding=None, state: dict | None = fixed, seed: int = 0):
        """One re-run of the forward with `values` (label -> working tensor) for the leaves."""
        if state is None:
            _reseed(seed, fixed)
        else:
            set_random_states(state)
        replay = Replay({id(work[k][0]): (work[k][0], v) for k, v in values.items()})
        last_replay[:] = [replay]
        versions = {k: v._version for k, v in values.items()}
        try:
            noise = rounding if rounding is not None else contextlib.nullcontext()
            with torch.enable_grad() if grad else torch.no_grad(), noise:
                with replay, replay.functions():
                    value = target(forward(**leaves))
                if not grad:
                    return value
                if not value.requires_grad:
                    return value, [None] * len(values)
                # outside the replay, which would swap the leaves asked about for constants
                return value, torch.autograd.grad(value, list(values.values()), allow_unused=True)
        except _ReplayFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - the learner's forward: said, never raised
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise _ReplayFailed(said("check.skip.eval", error=f"{type(exc).__name__}: {first}")) from None
        finally:
            _restore_modules(module_states)
            for k, v in values.items():
                if v._version != versions[k] and not grad:  # the forward wrote the leaf: start over
                    with torch.no_grad():
                        v.copy_(work[k][2])

    said_lines: list[Said] = []
    notes: list[Said] = []
    verdicts: dict[str, str] = {}
    errors: dict[str, float] = {}
    counts: dict[str, int] = {}
    tolerances: dict[str, float] = {}
    try:
        if work:
            _check(run, work, skipped, notes, said_lines, verdicts, errors, counts, tolerances, passes, eps,
                   max_elements, names or {}, Rounding, last_replay, recorded)
    finally:
        set_random_states(learner)
        _restore_modules(module_states)
    if passes > 1:
        notes.append(said("check.passes", n=passes))
    ordered: list[Said] = []
    for label in leaves:
        if label in skipped:
            verdicts[label] = "not_checked"
            ordered.append(said("check.skipped", name=label, why=skipped[label]))
        else:
            ordered += [s for s in said_lines if s.values.get("name") == label]
    return GradCheck(errors, counts, tolerances, {k: verdicts[k] for k in leaves}, skipped, tuple(ordered),
                     tuple(notes))


def _check(run, work, skipped, notes, said_lines, verdicts, errors, counts, tolerances, passes, eps,
           max_elements, names, Rounding, last_replay, recorded) -> None:
    import torch

    labels = list(work)
    working = {k: work[k][1] for k in labels}
    try:
        first = run(working)
        again = run(working)
        other = run(working, state=None, seed=12345)
    except _ReplayFailed as failed:
        for k in labels:
            skipped[k] = failed.why
        return
    same = lambda a, b: bool(torch.equal(a, b) or (a.isnan() & b.isnan()).all())  # noqa: E731
    if not same(first, again):
        for k in labels:
            skipped[k] = said("check.skip.unstable")
        return
    is_random = not same(first, other)
    if is_random:
        notes.append(said("check.random"))
    f0 = float(first)
    try:
        grads = {k: work[k][1].clone().requires_grad_() for k in labels}
        f64, g64 = run(grads, grad=True)
        replay = last_replay[0]
        reached, earlier, dtypes = set(replay.reached), dict(replay.earlier), set(replay.dtypes)
        dtypes |= {work[k][3].dtype for k in labels} | {work[k][0].dtype for k in labels}
        unit = max(torch.finfo(d).eps / 2 for d in dtypes if d.is_floating_point or d.is_complex)
        unit = max(unit, torch.finfo(torch.float64).eps / 2)
        generator = torch.Generator().manual_seed(0)
        spreads: dict[str, Any] = {k: None for k in labels}
        f_spread = 0.0
        for _ in range(ROUNDING_RUNS):
            f_r, g_r = run(grads, grad=True, rounding=Rounding(unit, generator))
            f_spread = max(f_spread, abs(f_r.item() - f64.item()))
            for k, a, b in zip(labels, g_r, g64, strict=True):
                if a is None or b is None:
                    continue
                d = (_components(a) - _components(b)).abs()
                spreads[k] = d if spreads[k] is None else torch.maximum(spreads[k], d)
    except _ReplayFailed as failed:
        for k in labels:
            skipped[k] = failed.why
        return
    beneath = _beneath(earlier)
    for k, g in zip(labels, g64, strict=True):
        original = work[k][0]
        if g is None or id(original) not in reached:
            skipped[k] = _why_unreached(id(original), beneath, names, is_random)
            continue
        _check_leaf(run, k, work[k], g, spreads[k], f0, f_spread / unit, is_random, id(original) in beneath,
                    beneath, names, skipped, said_lines, verdicts, errors, counts, tolerances, passes, eps,
                    max_elements, working, unit)


def _beneath(earlier: dict) -> dict[int, set[int]]:
    """For each leaf below a result computed before the forward: the ids of those results."""
    found: dict[int, set[int]] = {}
    for key, t in earlier.items():
        queue, seen = [t.grad_fn], set[object]()
        while queue and len(seen) < 100_000:
            fn = queue.pop()
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            variable = getattr(fn, "variable", None)
            if variable is not None:
                found.setdefault(id(variable), set()).add(key)
            queue.extend(child for child, _ in fn.next_functions)
    return found


def _earlier_names(leaf_id: int, beneath: dict, names: dict) -> str:
    named = sorted({names.get(key, "") for key in beneath.get(leaf_id, ())} - {""})
    return ", ".join(named)


def _why_unreached(leaf_id: int, beneath: dict, names: dict, is_random: bool) -> Said:
    if leaf_id in beneath:
        which = _earlier_names(leaf_id, beneath, names)
        return said("check.skip.earlier", names=which) if which else said("check.skip.earlier_unnamed")
    return said("check.skip.not_reached")


def _check_leaf(run, label, item, g64, spread, f0, f_terms, is_random, below_earlier, beneath, names, skipped,
                said_lines, verdicts, errors, counts, tolerances, passes, eps, max_elements, working, unit) -> None:
    import torch

    original, base, _pristine, rec_grad = item
    is_complex = base.is_complex()
    rec = _components(rec_grad)
    exact = _components(g64) * passes
    spread = torch.zeros_like(exact) if spread is None else spread * passes
    eps64 = torch.finfo(torch.float64).eps
    rounding = MARGIN * spread + 2 * unit * exact.abs()
    # faithful: the float64 re-run's gradient is the recorded one, up to the recorded dtype's rounding
    both_bad = ~torch.isfinite(rec) & ~torch.isfinite(exact)
    agree_bad = both_bad & ((rec == exact) | (rec.isnan() & exact.isnan()))
    off = (rec - exact).abs()
    unfaithful = (torch.isfinite(rec) & torch.isfinite(exact) & (off > rounding + 1e-300)) | \
        (~torch.isfinite(rec) ^ ~torch.isfinite(exact)) | (both_bad & ~agree_bad)
    if bool(unfaithful.any()):
        worst = float(off[torch.isfinite(off)].max()) if bool(torch.isfinite(off).any()) else float("nan")
        if is_random:
            skipped[label] = said("check.skip.random")
        elif below_earlier:
            which = _earlier_names(id(original), beneath, names)
            skipped[label] = said("check.skip.earlier", names=which) if which else said("check.skip.earlier_unnamed")
        else:
            skipped[label] = said("check.skip.replay", error=_num(worst))
        return
    flat = torch.view_as_real(base).reshape(-1) if is_complex else base.view(-1)
    n = flat.numel()
    step = max(1, n // max_elements)
    picked = range(0, n, step)
    fd_noise = 4 * eps64 * max(abs(f0), f_terms, 1e-300) / eps
    worst_ratio, report = -1.0, None
    largest = 0.0
    kinks: list[Said] = []
    nonfinite = {"rec_nan": 0, "rec_inf": 0, "fd_nan": 0, "fd_inf": 0}
    mismatched_nonfinite = 0
    example_bad = None
    failing = False
    for c in picked:
        old = flat[c].item()
        try:
            with torch.no_grad():
                flat[c] = old + eps
            up = float(run(working))
            with torch.no_grad():
                flat[c] = old - eps
            down = float(run(working))
        except _ReplayFailed as failed:
            skipped[label] = failed.why
            return
        finally:
            with torch.no_grad():
                flat[c] = old
        fd = (up - down) / (2 * eps) * passes
        r = float(rec[c])
        if not (math.isfinite(r) and math.isfinite(fd)):
            for name, value in (("rec", r), ("fd", fd)):
                if value != value:
                    nonfinite[f"{name}_nan"] += 1
                elif not math.isfinite(value):
                    nonfinite[f"{name}_inf"] += 1
            if not (r == fd or (r != r and fd != fd)):
                mismatched_nonfinite += 1
                example_bad = example_bad or (c, r, fd)
            continue
        err = abs(r - fd)
        largest = max(largest, err)
        round_c = float(rounding[c])
        fd_c = fd_noise * passes + 1e-15
        tol = round_c + fd_c
        if err > tol:
            right, left = (up - f0) / eps * passes, (f0 - down) / eps * passes
            jump = abs(right - left)
            if jump > 10 * tol and jump > 1e-3 * max(abs(right), abs(left)) and \
                    min(abs(r - left), abs(r - right)) <= tol + 1e-3 * jump:
                kinks.append(said("check.kink", name=label, where=_where(base.shape, c, is_complex),
                                  left=_fmt(left / passes), right=_fmt(right / passes), value=_fmt(r / passes)))
                continue
            failing = True
        ratio = err / tol
        if ratio > worst_ratio:
            worst_ratio, report = ratio, (c, err, tol, round_c, fd_c, r, fd)
    counts[label] = len(picked)
    errors[label] = largest
    failing = failing or mismatched_nonfinite > 0
    verdicts[label] = "differs" if failing else "ok"
    verdict = said("check.differs" if failing else "check.agrees")
    dtype = str(rec_grad.dtype).removeprefix("torch.")
    if report is not None:
        c, err, tol, round_c, fd_c, r, fd = report
        tolerances[label] = tol
        said_lines.append(said("check.line" if n > 1 else "check.line_one", name=label, error=_num(err), where=_where(base.shape, c, is_complex),
                               count=len(picked), tolerance=_num(tol), dtype=dtype, rounding=_num(round_c),
                               fd=_num(fd_c), verdict=verdict, recorded=_fmt(r), expected=_fmt(fd)))
    else:
        tolerances[label] = 0.0
        said_lines.append(said(counted("check.line_nonfinite", len(picked)), name=label, count=len(picked), verdict=verdict))
    for kind, count in nonfinite.items():
        if count:
            said_lines.append(said(counted(f"check.nonfinite.{kind}", len(picked)), name=label, n=count, count=len(picked)))
    if example_bad is not None:
        c, r, fd = example_bad
        said_lines.append(said("check.nonfinite_example", name=label, where=_where(base.shape, c, is_complex),
                               recorded=_fmt(r), fd=_fmt(fd)))
    said_lines.extend(kinks)


def _fmt(x: float) -> str:
    return fmt(x)
