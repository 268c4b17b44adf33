"""The command line's headless commands, `torchtui train --headless` and `torchtui grad`: they run
torch in the process that parsed the command line, with no app and no kernel, so they are the
engine's and say what they say through engine.i18n. tui.cli parses the command line and hands each
its arguments (and opens the app for `torchtui train` without --headless)."""
