"""Multi-task multilayer perceptrons (shared trunk, one head per task)."""

from ._mlp import MultiTaskMLPClassifier, MultiTaskMLPRegressor

__all__ = ["MultiTaskMLPClassifier", "MultiTaskMLPRegressor"]
