"""The evaluation classifier: not a generative model but the judge of the others. A small
CNN trained with cross-entropy on shifted images; its penultimate features give the
Fréchet distance and precision/recall of samples, its predictions the class histograms
(``genlab.metrics``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genlab.families import Family, Preset
from genlab.models.classifier import Classifier, ClassifierConfig
from genlab.train import adam_optimizers


def augment_shift(x: torch.Tensor, gen: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Random translation by up to ``max_shift`` pixels (zero padding), per image."""
    b = x.shape[0]
    padded = F.pad(x, (max_shift,) * 4)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=gen)
    rows = (dy[:, None] + torch.arange(x.shape[2])[None]).view(b, -1, 1)  # (B, H, 1)
    cols = (dx[:, None] + torch.arange(x.shape[3])[None]).view(b, 1, -1)  # (B, 1, W)
    return padded[:, 0][torch.arange(b)[:, None, None], rows, cols].unsqueeze(1)  # (B, 1, H, W)


def classifier_step(model, optimizers, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator
                    ) -> dict[str, float]:
    """One cross-entropy step on shifted images (a little augmentation against overfitting)."""
    (opt,) = optimizers
    logits = model(augment_shift(x, gen))
    loss = F.cross_entropy(logits, y.long())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"loss": loss.item(), "acc": (logits.argmax(1) == y).float().mean().item()}


@torch.inference_mode()
def classifier_metrics(model, x: torch.Tensor, gen: torch.Generator, *, labels: torch.Tensor,
                       batch: int = 1000) -> dict[str, float]:
    """Held-out accuracy and cross-entropy (nats) of the evaluation classifier."""
    logits = torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])
    return {"accuracy": round((logits.argmax(1) == labels).float().mean().item(), 5),
            "nll": round(F.cross_entropy(logits, labels).item(), 4), "n": len(x)}


def _penultimate(model, x: torch.Tensor) -> torch.Tensor:
    return model.features(x)


PRESETS = {"classifier": Preset("classifier", {})}

FAMILY = Family(
    name="classifier", config=ClassifierConfig, model=Classifier,
    make_optimizers=adam_optimizers, train_step=classifier_step,
    sample=None, evaluate=classifier_metrics,
    equation=r"\mathrm{FD} = \|\mu_r - \mu_g\|^2 + \mathrm{tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r\Sigma_g)^{1/2}\big)",
    about=("Not a generative model: a small CNN trained on the train split that scores the "
           "others. Its penultimate features give the Fréchet distance and precision/recall "
           "between generated and held-out images; its predictions give class histograms."),
    features=_penultimate, features_label="penultimate features",
)
