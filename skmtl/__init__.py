"""skmtl: scikit-learn compatible multi-task learning."""

__version__ = "0.1.0.dev0"
