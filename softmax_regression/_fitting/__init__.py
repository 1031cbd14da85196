"""The estimator's way in (prepare), way out (store) and the callbacks around a solver."""
