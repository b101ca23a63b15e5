"""Export a VAE's MLP decoder for decoding in the browser (genlab_ui's latent pad)."""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import nn


def mlp_decoder_blob(model) -> tuple[bytes, list[list[int]], str]:
    """The decoder's Linear layers as one float32 little-endian blob.

    Layout: for each layer, W (out × in, row-major) then b (out); ReLU between layers and
    a sigmoid after the last give the decoder mean x̂ (see genlab.models.vae).

    Returns:
        (blob, shapes [[out, in], ...], content key: sha256 prefix of the blob)
    """
    linears = [m for m in model.decoder if isinstance(m, nn.Linear)]
    if len(linears) != sum(1 for m in model.decoder if not isinstance(m, nn.ReLU)):
        raise ValueError("only Linear/ReLU decoders can be exported")
    parts, shapes = [], []
    with torch.no_grad():
        for layer in linears:
            parts += [layer.weight.float().numpy(), layer.bias.float().numpy()]
            shapes.append(list(layer.weight.shape))
    blob = b"".join(np.ascontiguousarray(p, dtype="<f4").tobytes() for p in parts)
    return blob, shapes, hashlib.sha256(blob).hexdigest()[:16]


def decode_numpy(blob: bytes, shapes: list[list[int]], z: np.ndarray) -> np.ndarray:
    """Reference decode from the blob alone (what the browser computes): z (D,) -> (784,) in [0, 1]."""
    flat = np.frombuffer(blob, dtype="<f4")
    h, offset = np.asarray(z, np.float32), 0
    for i, (out, inp) in enumerate(shapes):
        w = flat[offset: offset + out * inp].reshape(out, inp)
        offset += out * inp
        b = flat[offset: offset + out]
        offset += out
        h = w @ h + b
        if i < len(shapes) - 1:
            h = np.maximum(h, 0)
    return 1 / (1 + np.exp(-h))
