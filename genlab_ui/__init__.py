"""Streamlit-only helpers: cached loaders, shared state, widgets and components.

Importing the package first imports, once, the libraries the pages and their libraries
would otherwise import lazily, inside a session's script thread. Two script threads that
import pandas at the same moment (plotly imports it on a session's first figure) can see
it half-initialized: with 50 sessions opening at once, /gans failed in some with
"partially initialized module 'pandas' has no attribute 'Series'". Every session imports
this package before any page, so the others wait here until these are whole.
"""

import numpy  # noqa: F401
import pandas  # noqa: F401
import plotly.graph_objects  # noqa: F401
import plotly.subplots  # noqa: F401
import PIL.Image  # noqa: F401
import torch  # noqa: F401
