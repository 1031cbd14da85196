"""Command line: ``python -m softmax_regression <command> [options]``."""

import sys

PROG = "python -m softmax_regression"

# One line each for --help. The command modules are imported only when run, so
# --help and usage errors need none of their dependencies.
COMMANDS = {
    "compare": "fit SoftmaxClassifier and LogisticRegression on the same data; print one table",
}

USAGE = f"usage: {PROG} <command> [options]"


def _help():
    width = max(len(name) for name in COMMANDS)
    lines = [
        USAGE,
        "",
        "Multinomial logistic (softmax) regression as a scikit-learn estimator.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {text}" for name, text in COMMANDS.items()),
        "",
        "options:",
        "  -h, --help  show this message and exit",
        "  --version   show the version and exit",
        "",
        f"'{PROG} <command> --help' shows the options of a command.",
    ]
    return "\n".join(lines)


def _run_command(name, argv):
    if name == "compare":
        from ._cli.compare import main as compare_main

        return compare_main(argv)
    raise KeyError(name)  # COMMANDS and this function list the same names


def main(argv=None):
    """Dispatch to a command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``python -m softmax_regression``; ``sys.argv[1:]``
        when None.

    Returns
    -------
    int
        The command's exit status; 0 for ``--help`` and ``--version``, 2 (with
        one line on stderr) without a command or with an unknown one.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(f"{USAGE}; commands: {', '.join(COMMANDS)} (see --help)", file=sys.stderr)
        return 2
    first = argv[0]
    if first in ("-h", "--help"):
        print(_help())
        return 0
    if first == "--version":
        from . import __version__

        print(f"softmax_regression {__version__}")
        return 0
    if first not in COMMANDS:
        kind = "option" if first.startswith("-") else "command"
        print(f"{PROG}: unknown {kind} {first!r}; commands: {', '.join(COMMANDS)} "
              "(see --help)", file=sys.stderr)
        return 2
    return _run_command(first, argv[1:])


def _exit(status):
    """Exit quietly when stdout was closed early (``... compare | head``)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at devnull so the interpreter's final flush cannot fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    try:
        status = main()
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        status = 130
    except BrokenPipeError:
        status = 1
    _exit(status)
