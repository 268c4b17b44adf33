from tui.cli import main

if __name__ == "__main__":  # and not in the worker processes of a data-parallel run (spawn and the forkserver import this)
    raise SystemExit(main())
