"""REPL pieces without a UI: tensor display and summaries, the variables list, safe attribute
completion, completeness checks and the durable history file. The kernel that runs cells is an
ipykernel with torchtui's extension (engine.kernel)."""
