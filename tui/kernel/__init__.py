"""The app's side of the kernel: start it, talk to it, restart it, notice when it dies.

The kernel is an ipykernel process (engine.kernel loaded as an extension) that owns torch and the
GPU; this process never imports torch. Everything arrives as the plain events of `events`.
"""
