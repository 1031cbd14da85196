"""The model: the softmax loss, the penalties, the problem a solver minimizes, row blocks."""
