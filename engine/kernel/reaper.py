"""The kernel's reaper: kills the kernel's process group once the kernel is gone.

    python -S -E reaper.py KERNEL_PID   (started by engine.kernel.launcher, as the kernel's child)

It waits for the signal PR_SET_PDEATHSIG sends when its parent, the kernel, has ended, then sends
SIGKILL to the group the kernel led, taking along what the learner's cells started. It ignores
the signals sent to the whole group while the kernel lives: SIGINT interrupts a cell; SIGTERM,
SIGHUP and SIGQUIT ask the kernel to stop, which then tells the reaper by ending. A SIGTERM from
the kernel itself is another matter: a kernel asked to shut down terminates its children before
it exits (ipykernel does, SIGTERM first, and waits for them), and then takes the rest of its
group along itself; the reaper ends. Ignoring that one too kept the kernel waiting on its reaper
until it was killed, past its shutdown wait. Standard library only, and no site packages: it is
started in a few milliseconds.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    kernel = int(sys.argv[1])
    for number in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, signal.SIG_IGN)
    # Blocked, and waited for: a signal that comes between the look at the parent and the wait
    # stays pending, so it cannot be missed (as it could be by a handler and pause()). SIGTERM is
    # waited for too (not ignored: an ignored signal is dropped), to see who sent it.
    waited = {signal.SIGUSR1, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGUSR1), 0, 0, 0)
    while os.getppid() == kernel:  # (also when the kernel ended before prctl took effect)
        got = signal.sigtimedwait(waited, 5.0)
        if got is not None and got.si_signo == signal.SIGTERM and got.si_pid == kernel:
            return  # the kernel shutting down: it ends its group itself
    try:
        os.killpg(kernel, signal.SIGKILL)  # the reaper is in the group: it goes last
    except OSError:
        pass


if __name__ == "__main__":
    main()
