"""A user's CSV for ``compare``: read with every column named, checked, encoded.

pandas is imported only here, and only when a CSV is read.
"""

import csv
import difflib
import io
import re
from pathlib import Path

import numpy as np

from .data import AS_IS, DataError, Dataset, group_as_is, quoted, shorten

# Larger encoded feature matrices are refused rather than run out of memory.
_MAX_BYTES = 2**31
# The text read (after decompression) stops at these limits with a message:
# a device such as /dev/zero or an endless pipe would otherwise be read until
# the process is killed.
_MAX_TEXT_BYTES = 2**30
_MAX_LINE_BYTES = 2**24
_CHUNK_BYTES = 2**20


def _decompressing(raw, suffix):
    """``raw`` (a binary file) read through the decompressor its suffix names."""
    if suffix == ".gz":
        import gzip
        return gzip.GzipFile(fileobj=raw)
    if suffix == ".bz2":
        import bz2
        return bz2.BZ2File(raw)
    if suffix == ".xz":
        import lzma
        return lzma.LZMAFile(raw)
    return raw


def _decompression_errors():
    import lzma
    import zlib
    return (EOFError, OSError, zlib.error, lzma.LZMAError)


def _read_bytes(path, name):
    """The file's bytes, decompressed by suffix, read once (a pipe can be read only once).

    Stops with a DataError on NUL bytes (a binary file, /dev/zero), a line
    longer than ``_MAX_LINE_BYTES`` or more than ``_MAX_TEXT_BYTES`` in all.
    """
    suffix = path.suffix.lower()
    chunks, size, line = [], 0, 0
    try:
        with open(path, "rb") as raw, _decompressing(raw, suffix) as stream:
            while True:
                chunk = stream.read(_CHUNK_BYTES)
                if not chunk:
                    break
                if b"\0" in chunk:
                    raise DataError(
                        f"{name}: not a text CSV file (it holds NUL bytes, as binary files "
                        "do); give --csv a CSV file (.csv, or .csv.gz/.bz2/.xz)"
                    )
                newline = chunk.rfind(b"\n")
                line = line + len(chunk) if newline < 0 else len(chunk) - newline - 1
                size += len(chunk)
                if line > _MAX_LINE_BYTES:
                    raise DataError(
                        f"{name}: a line longer than {_MAX_LINE_BYTES // 2**20} MiB; this is "
                        "not a CSV file of rows (or its lines are not separated by newlines)"
                    )
                if size > _MAX_TEXT_BYTES:
                    raise DataError(
                        f"{name}: more than {_MAX_TEXT_BYTES // 2**30} GiB of text; compare "
                        "reads CSV files up to that size: give it a sample of the rows"
                    )
                chunks.append(chunk)
    except DataError:
        raise
    except _decompression_errors() as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if suffix in (".gz", ".bz2", ".xz"):
            raise DataError(
                f"{name}: the {suffix[1:]} file is damaged or truncated ({detail}); "
                "compress the CSV again, or give the uncompressed file"
            ) from None
        raise DataError(
            f"{path}: cannot be read ({detail}); check that it is a readable CSV file"
        ) from None
    return b"".join(chunks)


def _read_text(path, name):
    """The whole CSV as text (UTF-8, a byte order mark dropped), read once."""
    if not path.exists():
        raise DataError(f"{path}: no such file; check the --csv path")
    if path.is_dir():
        raise DataError(f"{path}: is a directory; give --csv the path of a CSV file in it")
    data = _read_bytes(path, name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(name, exc) from None


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _not_utf8(name, exc):
    return DataError(
        f"{name}: not UTF-8 text (it holds the byte 0x{exc.object[exc.start]:02x}); save the "
        "file as UTF-8 CSV"
    )


def _header(text, name):
    """The first non-blank row, read with the csv module before pandas sees the text."""
    try:
        for row in csv.reader(io.StringIO(text, newline=""), skipinitialspace=True):
            if any(cell.strip() for cell in row):
                return row
    except csv.Error as exc:
        raise DataError(f"{name}: not a readable CSV ({exc}); check the file") from None
    raise DataError(f"{name}: the file is empty; a CSV needs a header row and data rows")


def _sklearn_layout(header, text, name, pd):
    """Read scikit-learn's own bundled CSV layout, or return None if it is not that.

    Its first row is ``n_samples, n_features, class names...``; each data row
    holds the features and an integer class index (``wine_data.csv``,
    ``breast_cancer.csv``, ``iris.csv``). Read as an ordinary CSV, that row
    would become column names and pandas would move columns into the index.
    """
    if len(header) < 4 or not all(cell.strip().isdigit() for cell in header[:2]):
        return None
    n_rows, n_features = int(header[0]), int(header[1])
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, skiprows=1)
    except ValueError:
        return None  # not that layout; the ordinary reading reports the problem
    codes = frame.iloc[:, -1]
    class_names = [cell.strip() for cell in header[2:]]
    if (
        frame.shape != (n_rows, n_features + 1)
        or not pd.api.types.is_integer_dtype(codes)
        or codes.min() < 0 or codes.max() >= len(class_names)
    ):
        return None
    frame.columns = [f"feature_{j}" for j in range(n_features)] + ["target"]
    frame["target"] = np.asarray(class_names, dtype=object)[codes.to_numpy()]
    note = (
        f"scikit-learn's bundled CSV layout (a first row of {n_rows} rows, {n_features} "
        f"features and the class names, no column names): columns named feature_0 to "
        f"feature_{n_features - 1}, and 'target' with the class names"
    )
    return frame, note


def _read_frame(text, name, header, pd):
    """The CSV as a DataFrame, every column named, nothing moved into the index."""
    import warnings

    with warnings.catch_warnings():
        # With index_col=False pandas warns (instead of silently indexing by
        # the first columns) when rows have more fields than the header names.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            # skipinitialspace: "a, b, c" names columns "b", not " b".
            return pd.read_csv(io.StringIO(text), index_col=False, low_memory=False,
                               skipinitialspace=True)
        except pd.errors.ParserWarning:
            n_fields = pd.read_csv(io.StringIO(text), header=None, skiprows=1,
                                   nrows=1).shape[1]
            raise DataError(
                f"{name}: the header names {len(header)} columns but the rows have "
                f"{n_fields} fields; give every column a name in the first row"
            ) from None
        except pd.errors.EmptyDataError:
            raise DataError(
                f"{name}: the file is empty; a CSV needs a header row and data rows"
            ) from None
        except pd.errors.ParserError as exc:
            found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if found is None:
                raise DataError(
                    f"{name}: not a readable CSV ({str(exc).strip().splitlines()[0]}); "
                    "check the file"
                ) from None
            expected, line, saw = found.groups()
            raise DataError(
                f"{name}: line {line} has {saw} fields where the header has {expected}; "
                "give every row one field per column"
            ) from None


def _missing_target(frame, target, name, layout):
    columns = [str(c) for c in frame.columns]
    if layout:
        return DataError(
            f"{name}: no column {target!r}; in scikit-learn's CSV layout the labels are in "
            "column 'target': use --target target"
        )
    close = difflib.get_close_matches(target, columns, n=1, cutoff=0.6)
    hint = ""
    if len(columns) == 1 and any(sep in columns[0] for sep in ";\t|"):
        hint = " (the header is one column: is the file separated by something other than commas?)"
    elif close:
        hint = f" (did you mean {close[0]!r}?)"
    return DataError(
        f"{name}: no column {target!r}{hint}; the columns are {quoted(columns, 10)}: "
        "choose one with --target"
    )


def _encode_column(column, values, pd):
    """One feature column as float64 inputs, and a description of what was done."""
    missing = int(values.isna().sum())
    if missing == len(values):
        return None, "left out: every value is missing"
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(np.float64)[:, None], "true/false as 1/0"
    if pd.api.types.is_numeric_dtype(values):
        data = values.to_numpy(np.float64)
        n_inf = int(np.isinf(data).sum())
        if n_inf:
            raise DataError(
                f"column {column!r} has {n_inf} infinite value(s); replace them with "
                "numbers or leave the cells empty (empty cells are imputed)"
            )
        finite = data[~np.isnan(data)]
        with np.errstate(all="ignore"):
            spread = np.std(finite)
        if not np.isfinite(spread):
            raise DataError(
                f"column {column!r} has values too large to standardize (largest "
                f"magnitude {np.max(np.abs(finite)):.3g}); rescale that column"
            )
        how = AS_IS
        if missing:
            median = float(np.median(finite))
            data = np.where(np.isnan(data), median, data)
            how += f"; {missing} missing value(s) imputed with the median ({median:.4g})"
        return data[:, None], how
    numbers = _as_numbers(values, pd)
    if numbers is not None:
        return _encode_column(column, numbers, pd)
    text = values.astype(object)
    if missing:
        fill = text.mode(dropna=True).iloc[0]
        text = text.fillna(fill)
    categories, codes = np.unique(text.astype(str).to_numpy(), return_inverse=True)
    how = f"one-hot, {len(categories)} categories"
    if len(categories) == len(values) and len(values) > 20:
        how += " (one per row: an identifier? such a column predicts nothing new)"
    if missing:
        how += f"; {missing} missing value(s) imputed with the most frequent ({fill!r})"
    onehot = (codes[:, None] == np.arange(len(categories))).astype(np.float64)
    return onehot, how


def _as_numbers(values, pd):
    """A text column whose every value is a number, as float64; else None.

    pandas leaves a column of integers as Python objects when one of them
    is wider than 64 bits (``123456789012345678901234567890``); it is a number all
    the same, as ``1.5e30`` is.
    """
    present = values.dropna()
    if present.empty or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) and _is_number(str(v))
        for v in present
    ):
        return None
    # float() of the text: pd.to_numeric refuses integers beyond 64 bits.
    return values.map(lambda v: v if v is None or v != v else float(str(v))).astype(np.float64)


def read_csv(path, target):
    """Read a user's CSV for the comparison.

    Numeric columns are used as they are (missing values imputed with the
    median), true/false columns as 1/0, other columns one-hot encoded (missing
    values imputed with the most frequent). Rows without a target are dropped.

    Parameters
    ----------
    path : str
        The CSV file (``.gz``, ``.bz2`` and ``.xz`` are decompressed).
    target : str
        The column that holds the class labels.

    Returns
    -------
    Dataset
        The data and what was done to read it.

    Raises
    ------
    DataError
        Whenever the file cannot be compared as given.
    """
    import pandas as pd

    path = Path(path)
    name = path.name
    text = _read_text(path, name)
    header = _header(text, name)
    notes = []
    layout = _sklearn_layout(header, text, name, pd)
    if layout is not None:
        frame, note = layout
        notes.append(note)
    else:
        if all(_is_number(cell) for cell in header):
            raise DataError(
                f"{name}: the first row holds numbers, not column names; add a header "
                "row that names every column"
            )
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise DataError(
                f"{name}: column name(s) {quoted(repeated)} appear more than once in the "
                "header; give every column its own name"
            )
        frame = _read_frame(text, name, header, pd)
    if len(frame) == 0:
        raise DataError(
            f"{name}: only a header row, no data rows; add rows below the header"
        )
    if target not in frame.columns:
        raise _missing_target(frame, target, name, bool(notes))
    n_read = len(frame)
    dropped = []
    no_target = frame[target].isna()
    if no_target.all():
        raise DataError(
            f"{name}: target {target!r} is empty in every row; choose a column with labels"
        )
    if no_target.any():
        dropped.append((int(no_target.sum()), f"no value in target {target!r}"))
        frame = frame.loc[~no_target]
    y = frame.pop(target)
    if len(frame.columns) == 0:
        raise DataError(
            f"{name}: no feature columns besides the target {target!r}; add columns "
            "to predict from"
        )
    _check_target_type(y, target, name, pd)
    _check_size(frame, name, pd)
    blocks, features = [], []
    for column in frame.columns:
        try:
            block, how = _encode_column(column, frame[column], pd)
        except DataError as exc:
            raise DataError(f"{name}: {exc}") from None
        features.append((str(column), how))
        if block is not None:
            blocks.append(block)
    if not blocks:
        raise DataError(
            f"{name}: every feature column is empty; add values to predict from"
        )
    labels = y.to_numpy()
    if labels.dtype == object:
        labels = labels.astype(str)
    return Dataset(
        name=name, X=np.hstack(blocks), y=labels, source=f"target {target!r}",
        n_read=n_read, dropped=dropped, features=group_as_is(features), notes=notes,
        target=target,
    )


def _check_size(frame, name, pd):
    """Refuse, before encoding, features whose one-hot encoding would not fit in memory."""
    widths = {
        column: 1 if pd.api.types.is_numeric_dtype(frame[column]) else frame[column].nunique()
        for column in frame.columns
    }
    n_bytes = 8 * len(frame) * sum(widths.values())
    if n_bytes > _MAX_BYTES:
        widest = max(widths, key=widths.get)
        raise DataError(
            f"{name}: the encoded features would take {n_bytes / 2**30:.1f} GiB (column "
            f"{str(widest)!r} alone has {widths[widest]} categories); leave out columns "
            "with that many categories"
        )


def _check_target_type(y, target, name, pd):
    """Refuse a target of continuous numbers (class labels must repeat)."""
    if not pd.api.types.is_float_dtype(y):
        return
    values = y.to_numpy(np.float64)
    if np.all(values == np.round(values)) and np.all(np.isfinite(values)):
        return  # whole numbers such as 1.0, 2.0 are class labels
    distinct = np.unique(values)
    raise DataError(
        f"{name}: target {target!r} holds continuous numbers ({len(distinct)} distinct "
        f"values, e.g. {shorten([f'{v:g}' for v in distinct[:3]], 3)}); compare needs "
        "class labels: choose another column or bin this one into classes"
    )
