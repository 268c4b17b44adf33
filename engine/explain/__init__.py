"""Errors that teach: for an error a cell's tensor operation raised, the failing line, the tensors
it combined (each as typed, with its shape, dtype, device and requires_grad) and one hint in the
reader's language; for a cell that does not parse, what went wrong in a pasted block.

Nothing here runs the learner's code again: operands are looked up (names, attribute chains,
subscripts with literal indices), never called. No Textual, no IPython: the kernel's traceback
hook (engine.kernel.tracebacks) and a notebook's both put `render()`'s text under the traceback.
"""

from engine.explain.model import Explanation, Operand

__all__ = ["Explanation", "Operand"]
