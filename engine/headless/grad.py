"""`torchtui grad`: a built-in example's backward walk as plain text, for scripts and plain terminals."""

from __future__ import annotations

import argparse
import sys

from engine.grad_examples import EXAMPLES
from engine.i18n import Said, say, spoken


def add_grad_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("grad", help=say("cli.grad"))
    p.add_argument("--example", default="scalar", metavar="{" + ",".join(EXAMPLES) + "}",
                   help=say("cli.grad.example", value="%(default)s"))
    return p


def run_grad(args, warnings: tuple[Said, ...]) -> int:
    for warning in warnings:
        sys.stderr.write(say("cli.warning", message=warning.words(spoken())) + "\n")
    if args.example not in EXAMPLES:
        sys.stderr.write(say("cli.grad.unknown", name=repr(args.example), examples=", ".join(EXAMPLES)) + "\n")
        return 2
    # imported when the walk runs, not with the parser: every start of the app builds the parser
    from engine.autograd import record_backward
    from engine.grad_text import walk_lines
    from engine.gradcheck import gradient_check

    lang = spoken()
    example = EXAMPLES[args.example]
    built = example.build()
    print(f"{say('grad.example', key=example.key, title=say(example.title))}\n{say(example.lesson)}\n")
    print("import torch\nimport torch.nn.functional as F\n" + built.code + "\n")
    rec = record_backward(built.root, built.namespace, passes=built.passes)
    print("\n".join(walk_lines(rec, lang)))
    check = gradient_check(built.forward, built.leaves, rec.leaf_grads, passes=built.passes)
    print("\n" + say("check.title"))
    print("\n".join("  " + line for line in check.lines(lang)))
    print(say(example.check_note) if example.check_note and not check.passed else check.summary().words(lang))
    return 0
