"""genlab: an interactive latent-space explorer for generative models (core, no UI)."""

__version__ = "0.1.0"
