"""Home: the model zoo (every shipped checkpoint with samples and metrics) and the
families' key equations."""

from pathlib import Path

import streamlit as st

from genlab import checkpoints, registry, sample
from genlab.images import file_name, grid, upscale
from genlab_ui import components, loaders
from genlab_ui import state
from genlab_ui.state import dataset_label

state.page_setup()

st.title("genlab — see how generative models work")
st.markdown(
    "Pick a dataset in the sidebar, then a page: drag through a VAE's latent plane and "
    "watch images morph. Every model below was trained on this machine's CPU; its card "
    "records the training steps, time, data split and held-out metrics.")

box, draw = components.lazy_expander("The model families and their key equations", "home.families")
if draw:
    with box:
        for family in registry.FAMILIES.values():
            st.markdown(f"**{family.name.upper()}** — {family.about}")
            st.latex(family.equation)

HEADLINE = {"neg_elbo": ("−ELBO (nats)", "held-out negative ELBO, Bernoulli likelihood on grey levels"),
            "iw_nll": ("IW bound (nats)", "importance-weighted bound on −log p(x), k = 100"),
            "kl": ("KL (nats)", "mean KL(q(z|x) ‖ N(0, I)) per image"),
            "nll_nats": ("exact NLL (nats)", "held-out −log p(x) per image of a flow (dequantized "
                         "8-bit images) or PixelCNN (binarized or 8-bit images, as its card says)"),
            "bits_per_dim": ("bits/dim", "the exact NLL divided by 784 · ln 2"),
            "fd": ("FD", "Fréchet distance to held-out images in the classifier's features (lower is better)"),
            "accuracy": ("held-out accuracy", "share of held-out images classified correctly")}

ZOO_TABLE = Path(__file__).resolve().parent.parent / "docs" / "model-zoo.md"


def zoo_tables(text: str) -> tuple[str, dict[str, list[dict]]]:
    """docs/model-zoo.md read back: its notes, and each dataset's table as rows of
    {column: text}."""
    notes, _, rest = text.split("\n", 1)[1].partition("\n## ")
    tables = {}
    for section in rest.split("\n## "):
        title, *lines = section.strip().splitlines()
        cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines
                 if line.startswith("|") and not line.startswith("|---")]
        if cells:
            tables[title.strip()] = [dict(zip(cells[0], row)) for row in cells[1:]]
    return notes.strip(), tables


def likelihood_data(card: dict) -> str | None:
    """What a card's exact likelihood is measured on: a binarized PixelCNN's NLL and a flow's
    are on different data (binarized vs dequantized 8-bit images) and cannot be compared; an
    8-bit PixelCNN's can (the flow's bounds the same discrete NLL from above)."""
    if card["family"] == "pixelcnn":
        levels = card["metrics"].get("levels", 2)
        return "binarized images" if levels == 2 else "8-bit images" if levels == 256 else f"{levels}-level images"
    if card["family"] == "flow":
        return "dequantized 8-bit images"
    return None


def headline(card: dict) -> str:
    """The card's headline metrics, each label saying what it is measured on where that varies."""
    metrics, spec = card["metrics"], {"accuracy": ".1%", "bits_per_dim": ".3f"}
    on = likelihood_data(card)
    labels = {"nll_nats": f"exact NLL (nats, {on})" if on else None,
              "bits_per_dim": f"bits/dim ({on})" if on else None,
              "fd": f"FD ({metrics['quality_n']:,} samples"
                    + (f", {metrics['quality_per_class']:,} per class)" if metrics.get("quality_per_class") else ")")
                    if "quality_n" in metrics else None}
    return " · ".join(f"{labels.get(k) or label} **{metrics[k]:{spec.get(k, '.1f')}}**"
                      for k, (label, _) in HEADLINE.items() if k in metrics)

def bring_your_own() -> None:
    """Upload a checkpoint trained with ``genlab train`` (any family): checked as a shipped one
    is, then on every page for this session, marked as uploaded."""
    box, draw = components.lazy_expander("Bring your own checkpoint", "home.byo")
    if draw:
        with box:
            st.caption("The `card.json` and `model.safetensors` of a model trained with `python -m genlab "
                       "train` (any family, MNIST or Fashion-MNIST). They are checked as a shipped "
                       "checkpoint is (card fields, family, config, the weights' sha256 against the card, "
                       f"every tensor's shape; safetensors only, never unpickled; at most "
                       f"{registry.MAX_UPLOAD_BYTES // 2**20} MB), then the model is on every page of "
                       "this session, named …-uploaded-….")
            c = st.columns(2)
            card = c[0].file_uploader("card.json", type=["json"], key="home.upload_card")
            weights = c[1].file_uploader("model.safetensors", type=["safetensors"], key="home.upload_weights")
            if card is None or weights is None:
                return
            try:
                row = loaders.add_upload(card.getvalue(), weights.getvalue())
            except checkpoints.CheckpointError as exc:
                st.error(f"This checkpoint cannot be used: {exc}", icon="⚠️")
                return
            st.success(f"Added **{Path(row['folder']).name}** ({row['card']['family']}, "
                       f"{dataset_label(row['card']['dataset'])}): pick it in the sidebar of its page.")


FIRST_SCREEN_CARDS = 4
dataset = st.session_state["dataset"]
bring_your_own()
rows = loaders.models_for(dataset)
st.subheader(f"Model zoo · {dataset_label(dataset)}")
if not rows:
    st.info("No checkpoints are installed for this dataset.")
columns = st.columns(2)
for i, row in enumerate(rows):
    if i == FIRST_SCREEN_CARDS:  # two rows fill the first screen; the rest follow it
        if not components.below_the_fold("home"):
            break
        columns = st.columns(2)
    with columns[i % 2].container(border=True):
        if row["error"]:
            st.markdown(f"**{row['folder'].rsplit('/', 2)[-2]}/{row['folder'].rsplit('/', 1)[-1]}**")
            st.error(row["error"], icon="⚠️")
            continue
        card = row["card"]
        st.markdown(f"**{card['name']}** · {card['family'].upper()}"
                    + (f" · uploaded ({Path(row['folder']).name})" if row.get("uploaded") else ""))
        if note := loaders.training_note(card):
            st.warning(note, icon="⏳")
        if registry.get(card["family"]).sample is None:
            st.caption("Scores the other models: its features give FD and precision/recall, "
                       "its predictions the class histograms.")
        elif loaders.try_load(row["folder"]) is not None:
            samples = grid(loaders.samples(row["folder"], 16, 0), ncol=8)
            drawn = sample.conditional_classes(registry.get(card["family"]), card)  # as loaders.samples
            components.inline_image(upscale(samples, 2), "16 samples, seed 0"
                                    + (", a class drawn for each" if drawn else ""))  # no second request
            components.png_download(samples, file_name(card["id"], "16-samples", "seed0", ext="png"))
        st.markdown(headline(card), help="; ".join(f"{label}: {tip}" for label, tip in HEADLINE.values()))
        t = card["training"]
        st.caption(f"{t['steps']:,} steps ({t['epochs']} epochs) · {t['wall_time_s'] / 60:.1f} min on CPU · "
                   f"train {card['split']['train_size']:,} / holdout {card['split']['holdout_size']:,} · "
                   f"{card['date'][:10]}" + (f" · started from {card['trained_from']}" if card.get("trained_from") else ""))

if ZOO_TABLE.is_file():
    box, draw = components.lazy_expander("All held-out metrics, with the real-vs-real reference (docs/model-zoo.md)", "home.metrics")
    if draw:
        with box:
            notes, tables = zoo_tables(ZOO_TABLE.read_text())
            st.markdown(notes)
            if dataset in tables:  # st.table scrolls sideways inside the expander; markdown overflowed it
                st.table(tables[dataset])
                components.csv_download(tables[dataset], file_name(dataset, "model-zoo", ext="csv"))
