"""Statistical inference on a fitted model: the entry point, its linear algebra and the result."""
