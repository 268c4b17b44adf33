"""torchtui's side of a Jupyter kernel, as an IPython extension.

`%load_ext engine.kernel` in IPython or a notebook, or `--IPKernelApp.extensions=engine.kernel` when
torchtui starts its kernel, gives the namespace torch and friends, tensor summaries as display
data, the variables list after each cell, safe completion, the `%autograd`, `%who`, `%reset`,
`%timeit` and `%help` magics, and a comm named "torchtui" through which the app's screens ask the
kernel for work (gradient checks, training runs, tour checks) and get plain data back.

torch and numpy are imported inside the functions that use them, here as in the rest of the
engine: the kernel answers its first messages before torch (a second or more) is loaded, and the
app's process, which imports engine modules for their types, never loads it at all.
"""


def load_ipython_extension(ip) -> None:
    # (IPython imports this package to find the hook; the extension's modules load only when used)
    from engine.kernel.extension import load_extension

    load_extension(ip)
