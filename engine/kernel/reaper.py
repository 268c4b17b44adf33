"""The kernel's reaper: kills the kernel's process group once the kernel is gone.

    python -S -E reaper.py KERNEL_PID   (started by engine.kernel.launcher, as the kernel's child)

It waits for the signal PR_SET_PDEATHSIG sends when its parent, the kernel, has ended, then sends
SIGKILL to the group the kernel led, taking along what the learner's cells started. It ignores
the signals sent to the whole group while the kernel lives: SIGINT interrupts a cell; SIGTERM,
SIGHUP and SIGQUIT ask the kernel to stop, which then tells the reaper by ending. Standard
library only, and no site packages: it is started in a few milliseconds.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    kernel = int(sys.argv[1])
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, signal.SIG_IGN)
    # Blocked, and waited for: a signal that comes between the look at the parent and the wait
    # stays pending, so it cannot be missed (as it could be by a handler and pause()).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGUSR1), 0, 0, 0)
    while os.getppid() == kernel:  # (also when the kernel ended before prctl took effect)
        signal.sigtimedwait({signal.SIGUSR1}, 5.0)
    try:
        os.killpg(kernel, signal.SIGKILL)  # the reaper is in the group: it goes last
    except OSError:
        pass


if __name__ == "__main__":
    main()
