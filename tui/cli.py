"""The `torchtui` command: parse arguments, then start the app or a headless subcommand.

Kept light on purpose: the app's process never imports torch (its kernel process does); only
--version and the headless subcommands import it here.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from engine import __version__, devices
from engine.devices import DeviceError, versions
from engine.headless import grad, train
from engine.i18n import LANGUAGES, Said, said
from engine.wire import from_wire
from tui import config, i18n
from tui.fullscreen import run_app
from tui.i18n import catalog, counted, t
from tui.screens import SCREENS


class _Formatter(argparse.HelpFormatter):
    """argparse's own words (usage, the sections' titles) in the reader's language."""

    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, t("cli.usage") if prefix is None else prefix)

    def start_section(self, heading) -> None:
        titles = {"options": "cli.options", "optional arguments": "cli.options", "positional arguments": "cli.commands"}
        super().start_section(t(titles[heading]) if heading in titles else heading)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr and exits with 2, and words its
    help in the reader's language."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.update(formatter_class=_Formatter, add_help=False)
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", help=t("cli.help"))

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(t("cli.error", prog=self.prog, message=message) + "\n")
        raise SystemExit(2)


@contextmanager
def argparse_in_catalog() -> Iterator[None]:
    """argparse's own words in the reader's language while the CLI builds and parses: argparse
    looks each of its messages up through its module-level gettext functions `argparse._` and
    `argparse.ngettext` ("invalid choice: %(value)r …", "expected one argument"); these are
    replaced here by a lookup in the catalog, whose `argparse.*` keys hold argparse's English
    messages exactly (their %-placeholders kept), and put back afterwards. A message of another
    Python's argparse that the catalog lacks stays in English."""
    keys = {words: key for key, words in catalog("en").items() if key.startswith("argparse.")}
    saved = {name: getattr(argparse, name) for name in ("_", "ngettext")}

    def words(message: str) -> str:
        key = keys.get(message)
        return t(key) if key else message

    def counted_words(singular: str, plural: str, n: int) -> str:
        key = keys.get(plural)
        return t(counted(key, n)) if key else singular if n == 1 else plural

    replaced = {"_": words, "ngettext": counted_words}
    for name, function in replaced.items():
        setattr(argparse, name, function)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(argparse, name, function)


def fail(message: str) -> int:
    sys.stderr.write(t("cli.fail", message=message) + "\n")
    return 2


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="torchtui", description=t("cli.description"))
    p.add_argument("--version", action="store_true", help=t("cli.version"))
    p.add_argument("--screen", choices=tuple(SCREENS), default="playground", help=t("cli.screen", value="%(default)s"))
    p.add_argument("--device", default=None, help=t("cli.device"))
    p.add_argument("--lang", choices=LANGUAGES, default=None, help=t("cli.lang"))
    p.add_argument("--existing", nargs="?", const="", default=None, metavar="CONNECTION_FILE", help=t("cli.existing"))
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="{train,grad}")
    train.add_train_parser(sub).set_defaults(run=run_train)
    grad.add_grad_parser(sub).set_defaults(run=run_grad)
    return p


def run_train(args, device: str, warnings: tuple[Said, ...], cfg: config.Config) -> int:
    """`torchtui train`: the Training screen set to the run its options describe, or with
    --headless that run here, printed (engine.headless.train)."""
    run = train.run_config(args, device)
    if run is None:  # (said why)
        return 2
    if not args.headless:
        return run_app("train", device, i18n.language(), warnings, cfg.theme, train_config=run, keys=cfg.keys)
    return train.run_headless(args, run, warnings)


def run_grad(args, device: str, warnings: tuple[Said, ...], cfg: config.Config) -> int:
    """`torchtui grad`: the example's walk, printed (engine.headless.grad)."""
    return grad.run_grad(args, warnings)


def print_version() -> int:
    torch_version, cuda = versions()
    detail = t("cli.cuda_yes_one") if cuda == 1 else t("cli.cuda_yes", n=cuda) if cuda else t("cli.cuda_no")
    print(t("cli.versions", version=__version__, torch=torch_version, cuda=detail))
    return 0


PROBE = """
import json, sys
from engine.devices import DeviceError, resolve
from engine.wire import to_wire
try:
    print(resolve(sys.argv[1]))
except DeviceError as exc:
    print(json.dumps(to_wire(exc.said)), file=sys.stderr)
    raise SystemExit(2)
"""


def check_device(spec: str) -> str:
    """Validate --device: syntax at once; presence (which needs torch) only for a named GPU, asked
    of a short-lived child process, since this process never imports torch."""
    spec = devices.check_syntax(spec)
    if spec in ("auto", "cpu"):
        return spec
    probe = subprocess.run([sys.executable, "-c", PROBE, spec], capture_output=True, text=True)
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines()
        try:
            said = from_wire(json.loads(lines[-1]))
        except (ValueError, IndexError):
            said = None
        if not isinstance(said, Said):  # the probe itself failed (a broken torch, say)
            raise devices.DeviceError("err.device.unchecked", spec=repr(spec), error=lines[-1] if lines else "")
        raise devices.DeviceError(said.code, **said.values)
    return probe.stdout.strip()


NEGATIVE = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)


def glue_negative_values(argv: list[str]) -> list[str]:
    """`--bias -inf` as `--bias=-inf`: argparse takes a value starting with '-' for an option
    unless it looks like a plain negative number, and -inf, -1e3 or -.5 are numbers too."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and NEGATIVE.match(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def asked_language(argv: list[str]) -> str | None:
    """--lang as given, read before argparse: its errors (a value out of range) are said in it."""
    for i, arg in enumerate(argv):
        value = arg.partition("=")[2] if arg.startswith("--lang=") else (
            argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None)
        if value in LANGUAGES:
            return value
    return None


def main(argv: list[str] | None = None) -> int:
    argv = glue_negative_values(list(sys.argv[1:] if argv is None else argv))
    cfg = config.load()
    i18n.set_language(asked_language(argv) or cfg.language or i18n.language_from_locale())
    try:
        with argparse_in_catalog():
            args = build_parser().parse_args(argv)
    except SystemExit as stop:  # a usage error (said on stderr, 2), or --help (0)
        return stop.code if isinstance(stop.code, int) else 2
    if args.version:
        return print_version()

    lang = args.lang or cfg.language or i18n.language_from_locale()
    i18n.set_language(lang)
    warnings = list(cfg.warnings)
    if args.device:  # asked for on the command line: a bad one is an error
        try:
            device = check_device(args.device)
        except DeviceError as exc:
            return fail(str(exc))
    else:  # from the config file: a bad one is a warning
        try:
            device = check_device(cfg.device)
        except DeviceError as exc:
            warnings.append(said("warn.config.device", reason=exc.said))
            device = "auto"
    if args.command:
        if args.existing is not None:
            return fail(t("attach.headless"))
        return args.run(args, device, tuple(warnings), cfg)
    existing = None
    if args.existing is not None:
        from tui.kernel.attach import AttachError, find

        try:
            existing = find(args.existing)
        except AttachError as exc:
            return fail(str(exc))
    return run_app(args.screen, device, lang, tuple(warnings), cfg.theme, existing=existing, keys=cfg.keys)


if __name__ == "__main__":
    raise SystemExit(main())
