"""`torchtui grad`: a built-in example's backward walk as plain text, for scripts and plain terminals."""

from __future__ import annotations

import sys


def add_grad_parser(sub) -> None:
    p = sub.add_parser("grad", help="print backward() step by step for a built-in example")
    p.add_argument("--example", default="scalar", metavar="NAME",
                   help="scalar, matrix, mlp, accumulate or detach (default: scalar)")
    p.set_defaults(run=run_grad)


def run_grad(args, device: str, warnings: tuple[str, ...] = (), theme: str | None = None) -> int:
    from engine.grad_examples import EXAMPLES

    if args.example not in EXAMPLES:
        sys.stderr.write(f"torchtui grad: unknown example {args.example!r}; examples: {', '.join(EXAMPLES)}\n")
        return 2
    from engine.autograd import gradient_check, record_backward
    from engine.grad_text import walk_lines

    example = EXAMPLES[args.example]
    built = example.build()
    print(f"Example {example.key}: {example.title}\n{example.lesson}\n")
    print("import torch\nimport torch.nn.functional as F\n" + built.code + "\n")
    rec = record_backward(built.root, built.namespace, passes=built.passes)
    print("\n".join(walk_lines(rec)))
    check = gradient_check(built.forward, built.leaves, rec.leaf_grads, passes=built.passes)
    print("\nGradient check (recorded gradients against central finite differences in float64):")
    print("\n".join("  " + line for line in check.lines()))
    if check.passed:
        print("All gradients agree: autograd computed the true derivatives.")
    else:
        print(example.check_note or "Some gradients differ from finite differences.")
    return 0
