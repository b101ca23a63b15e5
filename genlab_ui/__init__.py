"""Streamlit-only helpers: cached loaders, shared state, widgets and components."""
