"""`torchtui grad`: a built-in example's backward walk as plain text, for scripts and plain terminals."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tui.i18n import language

if TYPE_CHECKING:
    from engine.i18n import Said
    from tui.config import Config


def add_grad_parser(sub) -> None:
    from engine.grad_examples import EXAMPLES
    from tui.i18n import t

    p = sub.add_parser("grad", help=t("cli.grad"))
    p.add_argument("--example", default="scalar", metavar="{" + ",".join(EXAMPLES) + "}",
                   help=t("cli.grad.example", value="%(default)s"))
    p.set_defaults(run=run_grad)


def run_grad(args, device: str, warnings: tuple[Said, ...], cfg: Config) -> int:
    from engine.grad_examples import EXAMPLES
    from tui.i18n import t

    for warning in warnings:
        sys.stderr.write(t("cli.warning", message=warning.words(language())) + "\n")
    if args.example not in EXAMPLES:
        sys.stderr.write(t("cli.grad.unknown", name=repr(args.example), examples=", ".join(EXAMPLES)) + "\n")
        return 2
    from engine.autograd import record_backward
    from engine.grad_text import walk_lines
    from engine.gradcheck import gradient_check

    lang = language()
    example = EXAMPLES[args.example]
    built = example.build()
    print(f"{t('grad.example', key=example.key, title=t(example.title))}\n{t(example.lesson)}\n")
    print("import torch\nimport torch.nn.functional as F\n" + built.code + "\n")
    rec = record_backward(built.root, built.namespace, passes=built.passes)
    print("\n".join(walk_lines(rec, lang)))
    check = gradient_check(built.forward, built.leaves, rec.leaf_grads, passes=built.passes)
    print("\n" + t("check.title"))
    print("\n".join("  " + line for line in check.lines(lang)))
    print(t(example.check_note) if example.check_note and not check.passed else check.summary().words(lang))
    return 0
