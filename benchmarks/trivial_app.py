"""The yardstick for first paint and control latency (#23): a Streamlit app with one slider
and one image, nothing else. ``python -m benchmarks --only firstpaint`` serves it beside
genlab and measures both the same way in the same run. ``?with=plotly`` or ``?with=vega``
adds one small chart of that kind, to show what a page's first chart costs by itself."""

import numpy as np
import streamlit as st

st.title("One slider, one image")
value = st.slider("Brightness", 0, 255, 128, key="trivial.value")
st.image(np.full((84, 84), value, dtype=np.uint8), caption=f"brightness {value}")
extra = st.query_params.get("with")
if extra == "plotly":
    import plotly.graph_objects as go

    st.plotly_chart(go.Figure(go.Scatter(y=[1, 3, 2])))
elif extra == "vega":
    st.line_chart({"y": [1, 3, 2]})
