"""A completion matcher for attribute chains that IPython's limited evaluation cannot follow:
nn.Module resolves submodules and parameters in __getattr__, so `model.fc.we` needs a look into
`_modules`, `_parameters` and `_buffers`. Nothing the user wrote runs."""

from __future__ import annotations

import re

from engine.repl.completion import complete

TOKEN = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\.\w*$")


def module_attributes(ip):
    def matcher(text: str) -> list[str]:
        if not TOKEN.fullmatch(text or ""):
            return []
        start, words = complete(text, ip.user_ns)
        return [text[:start] + w for w in words]

    return matcher
