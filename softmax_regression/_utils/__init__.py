"""Small helpers below everything else: array conversion, the array-API namespace, BLAS threads,
scikit-learn compatibility and failure atomicity."""
