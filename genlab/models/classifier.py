"""The evaluation classifier: a small CNN whose penultimate features serve the Frechet
distance and precision/recall of generated samples (as Inception features do for FID)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ClassifierConfig:
    channels: tuple[int, ...] = (32, 64)  # conv widths, each block halves the resolution
    features: int = 128  # penultimate width: the feature space of the sample metrics
    dropout: float = 0.3  # on the features during training only
    num_classes: int = 10  # MNIST digits / Fashion-MNIST garments


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.MaxPool2d(2))


class Classifier(nn.Module):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        widths = [1, *config.channels]
        self.body = nn.Sequential(*[_block(a, b) for a, b in zip(widths[:-1], widths[1:])])
        side = 28 // 2 ** len(config.channels)
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(widths[-1] * side * side, config.features),
                                   nn.ReLU())
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.features, config.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 1, 28, 28) in [0, 1] -> penultimate features (B, F)."""
        return self.embed(self.body(x - 0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (B, num_classes)."""
        return self.head(self.dropout(self.features(x)))
