"""The yardstick for first paint and control latency (#23): a Streamlit app with one slider
and one image, nothing else. ``python -m benchmarks --only firstpaint`` serves it beside
genlab and measures both the same way in the same run. ``?with=plotly`` or ``?with=vega``
adds one small chart of that kind, to show what a page's first chart costs by itself;
``?with=shell`` draws the page inside genlab's shell (app.py's menu, dataset picker, download
size and copy-link button), to show what the shell costs by itself."""

import sys
from pathlib import Path

import numpy as np
import streamlit as st

extra = st.query_params.get("with")


def trivial() -> None:
    st.title("One slider, one image")
    value = st.slider("Brightness", 0, 255, 128, key="trivial.value")
    st.image(np.full((84, 84), value, dtype=np.uint8), caption=f"brightness {value}")
    if extra == "plotly":
        import plotly.graph_objects as go

        st.plotly_chart(go.Figure(go.Scatter(y=[1, 3, 2])))
    elif extra == "vega":
        st.line_chart({"y": [1, 3, 2]})


if extra == "shell":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from genlab_ui import components, state

    st.set_page_config(page_title="genlab · latent-space explorer", page_icon="🧪", layout="wide")
    state.init_state()
    pages = [st.Page(trivial, title="One slider, one image", icon=":material/home:", default=True)]
    navigation = st.navigation(pages, position="hidden")
    components.sidebar_menu(pages * 11)  # as many links as genlab's menu
    components.copy_link(st.container())
    navigation.run()
else:
    trivial()
