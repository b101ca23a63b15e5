"""The yardstick for first paint and control latency (#23): a Streamlit app with one slider
and one image, nothing else. ``python -m benchmarks --only firstpaint`` serves it beside
genlab and measures both the same way in the same run."""

import numpy as np
import streamlit as st

st.title("One slider, one image")
value = st.slider("Brightness", 0, 255, 128, key="trivial.value")
st.image(np.full((84, 84), value, dtype=np.uint8), caption=f"brightness {value}")
