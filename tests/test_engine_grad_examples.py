"""engine/grad_examples.py: the built-in examples, and their code as plain Python prints the same numbers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.autograd import record_backward
from engine.grad_examples import EXAMPLES, MATRIX, MLP

pytestmark = pytest.mark.slow  # a kernel, or plain Python in a process of its own


@pytest.mark.parametrize("code,leaves", [(MATRIX, ("w", "b")), (MLP, ("w1", "b1", "w2", "b2"))])
def test_example_code_reproduces_its_numbers_in_plain_python(code, leaves):
    key = "matrix" if code is MATRIX else "mlp"
    rec = record_backward(EXAMPLES[key].build().root, EXAMPLES[key].build().namespace)
    program = ("import torch\nimport torch.nn.functional as F\n" + code + "\nloss.backward()\n"
               + "".join(f"print({name}.grad.tolist())\n" for name in leaves))
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    built = EXAMPLES[key].build()
    rec = record_backward(built.root, built.namespace)
    for name, line in zip(leaves, printed, strict=True):
        assert rec.leaf_grads[name].tolist() == eval(line), name
