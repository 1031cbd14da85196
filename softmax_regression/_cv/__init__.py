"""SoftmaxClassifierCV: the estimator, the warm-started path per fold, the choice of C and its plot."""
