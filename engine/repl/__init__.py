"""REPL pieces without a UI: tensor display and summaries, the variables list, safe attribute
completion and completeness checks. The kernel that runs cells is an ipykernel with torchtui's
extension (engine.kernel); the history file and a saved session are the app's (tui.history, tui.save)."""
