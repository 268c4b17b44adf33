"""Every word a learner reads comes from the catalogs: the string literals of engine/ and tui/ that
reach a person (what is printed, notified, written to the log or a widget, raised at them, and any
f-string or constant with words in it) are read from the source with ast, and each must be code, a
name, a unit, or a catalog key. Docstrings, CSS, ids, styles, keys and log lines are not read.

A literal found here is fixed by putting its words in engine/locales/{en,zh}/*.json and calling
t()/say()/text() (or raising a SaidError); ALLOWED below lists the few that are not prose."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from engine.i18n import catalog

ROOT = Path(__file__).resolve().parent.parent
# Code generators: their literals are the Python they write (comments included), not the app's words.
CODE_FILES = {"engine/exports.py", "tui/snippets.py", *(f"engine/tasks/scripts/{p.name}"
                                                       for p in (ROOT / "engine/tasks/scripts").glob("*.py"))}
# A kernel for tests (make_app(kernel=FakeKernel())): what it says, a test reads, never a learner.
TEST_ONLY_FILES = {"tui/kernel/fake.py"}
# Calls whose text argument a person reads.
SINKS = {"notify", "write_note", "Static", "update", "print", "Text", "Label", "Button", "write", "exit",
         "Option", "ArgumentParser", "add_argument", "add_parser", "error", "set_status", "Notify"}
TEXT_KEYWORDS = {"message", "title", "label", "placeholder", "tooltip", "help", "description", "epilog", "renderable",
                 "content", "usage", "prog"}
# Calls whose string arguments are not words for a person: the catalog itself, logging, bindings (they
# hold catalog keys), paths, styles and lookups.
CATALOG_CALLS = {"t", "say", "text", "said", "said_text", "Said"}
KEY = re.compile(r"[\w.{}-]+")
NOT_PROSE_CALLS = {"debug", "info", "warning", "exception", "log",
                   "getLogger", "Binding", "query", "query_one", "get", "startswith", "endswith", "split", "replace",
                   "removeprefix", "removesuffix", "strip", "rstrip", "lstrip", "compile", "match", "search", "sub",
                   "findall", "fullmatch", "getattr", "setattr", "hasattr", "environ", "getenv", "Path", "joinpath",
                   "with_name", "with_suffix", "glob", "open", "Style", "parse", "set_class", "add_class",
                   "remove_class", "has_class", "encode", "decode", "register_target", "for_type", "send",
                   "execute", "post", "run_cell", "register", "set_interval", "Popen", "run", "call", "check_output"}
NOT_PROSE_KEYWORDS = {"id", "classes", "name", "key", "style", "variant", "severity", "group", "action", "dest",
                      "metavar", "mimetype", "language", "theme", "sep", "end", "encoding", "mode", "kind", "op"}
# Exceptions a program catches, or a programmer sees: not words for a learner.
PROGRAMMER_ERRORS = {"ValueError", "TypeError", "AttributeError", "KeyError", "AssertionError", "NotImplementedError",
                     "IndexError", "ImportError"}
# Words that are names or units, the same in every language.
NAMES = {"torch", "torchtui", "numpy", "np", "nn", "optim", "F", "cpu", "cuda", "mps", "meta", "CUDA", "MPS", "GPU",
         "NCCL", "gloo", "nccl", "PyTorch", "Python", "IPython", "Jupyter", "ipykernel", "NaN", "Inf", "GiB", "MiB",
         "KiB", "B", "ns", "µs", "ms", "s", "In", "Out", "MLP", "grad", "UsageError", "stdin", "stdout", "stderr",
         "ipc", "tcp", "json", "csv", "py", "txt", "tmp", "pid", "w", "b", "x", "y", "z", "ok", "rank", "cfg",
         "hmac", "sha", "tb", "help", "who", "train", "plot", "autograd", "timeit", "live", "None", "True", "False"}
# Rich styles (a widget's colours), which read like words to the pattern below.
STYLE_WORDS = {"bold", "italic", "dim", "reverse", "underline", "strike", "blink", "red", "green",
               "yellow", "blue", "cyan", "magenta", "white", "black", "grey", "bright"}
# Literals that look like words and are not prose, by file: each says why.
ALLOWED: dict[str, set[str]] = {
    # matplotlib's and the OS's own messages, matched (never shown) to recognise them
    "engine/kernel/figures.py": {"Noto Sans CJK SC", "Noto Sans CJK", "Source Han Sans SC", "WenQuanYi Zen Hei",
                                 "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Heiti SC",
                                 "AR PL UMing CN", "Droid Sans Fallback"},
    "engine/kernel/extension.py": {"out of memory", "can't allocate memory"},
    "tui/kernel/display.py": {"can't allocate memory", "out of memory", "not compiled with cuda",
                              "no cuda gpus are available", "device-side assert"},
    "engine/distributed.py": {"address already in use"},
    "engine/devices.py": {"Apple GPU"},  # a device's name, as torch has none for it
    "tui/kernel/jupyter.py": {"kernel subshells",  # a Jupyter protocol feature, matched in its kernel_info
                              "torchtui: could not handle a kernel message: {}"},  # to the kernel log
    "tui/kernel/own.py": {"signal {}"},  # a key's part: kernel.signal.other words it
    "engine/autograd.py": {"leaf{}"},  # the name given to an unnamed leaf, as a variable's
}
WORD = re.compile(r"[^\W\d_][\w'’-]+")
CODE_CHARS = re.compile(r"[_=()\[\]./\\<>@#$%^&*+|~`\"]|^-|-$|\d")


def prose_words(literal: str) -> list[str]:
    """The words of `literal` that are neither code, a placeholder, a name nor a style."""
    body = re.sub(r"`[^`]*`|\{[^{}]*\}|%\([a-z_]+\)[a-z]", " ", literal)
    out = []
    for token in body.split():
        token = token.strip(",;:!?\"'()[]…·→")
        if not token or CODE_CHARS.search(token) or not WORD.fullmatch(token):
            continue
        if token in NAMES or token.lower() in STYLE_WORDS or token.lower() in NAMES:
            continue
        if any("\u4e00" <= c <= "\u9fff" for c in token):  # already Chinese: a catalog's words, or a test
            continue
        out.append(token)
    return out


def is_code(literal: str) -> bool:
    """A Python line or block (what the app runs or shows as code): it parses, and reads as code."""
    try:
        ast.parse(literal.strip())
    except (SyntaxError, ValueError):
        return False
    return bool(re.search(r"[=(\[:.\n]", literal.strip()))


def call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def flowing_strings(node: ast.AST):
    """The literals that make up a value: concatenations, conditionals, joins, lists."""
    if literal_text(node) is not None:
        yield node
    elif isinstance(node, ast.BinOp):
        yield from flowing_strings(node.left)
        yield from flowing_strings(node.right)
    elif isinstance(node, ast.IfExp):
        yield from flowing_strings(node.body)
        yield from flowing_strings(node.orelse)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for e in node.elts:
            yield from flowing_strings(e)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("join", "format"):
        if node.func.attr == "format":
            yield from flowing_strings(node.func.value)
        for a in node.args:
            yield from flowing_strings(a)


def exempt(node: ast.AST, parents: dict) -> bool:
    """Inside a catalog call, a lookup, a comparison, CSS, or a keyword argument that is not text."""
    child, p = node, parents.get(node)
    while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
        if isinstance(p, ast.Call) and call_name(p) in CATALOG_CALLS:
            # a key (`tr.task.{task}`), or a value with no words: prose here is a local say() or print()
            return KEY.fullmatch(literal_text(node) or "") is not None or not prose_words(literal_text(node) or "")
        if isinstance(p, ast.Call) and call_name(p) in NOT_PROSE_CALLS:
            return True
        if isinstance(p, ast.keyword) and p.arg in NOT_PROSE_KEYWORDS:
            return True
        if isinstance(p, (ast.Subscript, ast.Compare, ast.FormattedValue)) or (isinstance(p, ast.Dict)
                                                                               and child in p.keys):
            return True
        if isinstance(p, ast.Raise) and isinstance(p.exc, ast.Call) and call_name(p.exc) in PROGRAMMER_ERRORS:
            return True
        if isinstance(p, (ast.Assign, ast.AnnAssign)):
            targets = p.targets if isinstance(p, ast.Assign) else [p.target]
            if any(getattr(t, "id", getattr(t, "attr", "")) in ("DEFAULT_CSS", "CSS", "__all__") for t in targets):
                return True
        child, p = p, parents.get(p)
    return False


def user_visible_literals() -> list[tuple[str, int, str]]:
    """(file, line, literal) for each literal with prose in it that does not go through the catalog."""
    keys = set(catalog("en"))
    found = []
    files = sorted([*ROOT.glob("engine/**/*.py"), *ROOT.glob("tui/**/*.py")])
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel in CODE_FILES or rel in TEST_ONLY_FILES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and n.body and isinstance(n.body[0], ast.Expr)}
        shown: dict[int, ast.AST] = {}  # literals that reach a person whatever they say
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and call_name(node) in SINKS:
                args = node.args[:1] if call_name(node) in ("write_note", "put", "update") else node.args
                args = [*args, *(k.value for k in node.keywords if k.arg in TEXT_KEYWORDS)]
                for a in args:
                    shown |= {id(s): s for s in flowing_strings(a)}
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                    and call_name(node.exc) not in PROGRAMMER_ERRORS):
                for a in node.exc.args:
                    shown |= {id(s): s for s in flowing_strings(a)}
        for node in ast.walk(tree):
            words_of = literal_text(node)
            if words_of is None or id(node) in docstrings or isinstance(parents.get(node), ast.JoinedStr):
                continue
            if words_of in keys or words_of in ALLOWED.get(rel, ()) or is_code(words_of):
                continue
            if words_of.isidentifier() and not (isinstance(parents.get(node), ast.Call)
                                                and call_name(parents[node]) in SINKS):
                continue  # a field's, an event's or a file's name, not words
            words = prose_words(words_of)
            if id(node) in shown:
                if words and not exempt(node, parents):
                    found.append((rel, node.lineno, words_of))
            elif isinstance(node, ast.JoinedStr) or len(words) >= 2:
                # not handed to a sink here, but on its way to one (a return, a list of parts, a warning)
                if words and not exempt(node, parents) and not all(w.lower() in STYLE_WORDS for w in words):
                    found.append((rel, node.lineno, words_of))
    return found


def test_the_detector_finds_prose_and_passes_code_names_and_keys():
    assert prose_words("history file {path} could not be read") == ["history", "file", "could", "not", "be", "read"]
    assert prose_words("{name} · {n} parameters") == ["parameters"]
    assert not prose_words("grad_fn={fn} · float32 · cpu · {size} GiB")
    assert not prose_words("bold red")
    assert is_code("import torch\nimport torch.nn.functional as F\n") and not is_code("not available")


def test_every_user_visible_literal_goes_through_the_catalog():
    found = user_visible_literals()
    assert not found, "\n".join(f"{file}:{line}: {text!r}" for file, line, text in found)
