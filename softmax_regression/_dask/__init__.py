"""Exact fits on dask collections: chunked input, the chunk-reduced problem and SGD over chunks."""

from .._utils.optional import require

# Every module here needs dask.array; without it, a fit on dask input says
# which extra to install.
require("dask.array", "Fitting and predicting on dask collections")
