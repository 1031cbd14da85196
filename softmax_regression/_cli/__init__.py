"""The command line: the compare command, bundled and CSV data, plots."""
