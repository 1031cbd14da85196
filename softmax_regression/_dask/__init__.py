"""Exact fits on dask collections: chunked input, the chunk-reduced problem and SGD over chunks."""
