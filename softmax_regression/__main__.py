"""Command line: ``python -m softmax_regression compare [options]``."""

import sys

from ._compare import main as compare_main

COMMANDS = {"compare": compare_main}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        print("usage: python -m softmax_regression compare [--help]", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
