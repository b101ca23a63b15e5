"""genlab: the Streamlit entry point (page config, navigation, the shared sidebar)."""

import streamlit as st

from genlab_ui import components, state

st.set_page_config(page_title="genlab · latent-space explorer", page_icon="🧪", layout="wide")
state.hold_widgets()  # values set by a click, over the browser's older ones (state.set_widgets)
state.resend_url()  # the URL this run was asked with, over any older run's late write
state.init_state()
components.page_style()

PAGES = [
    st.Page("pages/home.py", title="Model zoo", icon=":material/home:", url_path="home", default=True),
    st.Page("pages/concepts.py", title="Foundations", icon=":material/school:", url_path="concepts"),
    st.Page("pages/playground.py", title="2-D playground", icon=":material/bubble_chart:", url_path="playground"),
    st.Page("pages/vae.py", title="VAE latent explorer", icon=":material/explore:", url_path="vae"),
    st.Page("pages/diffusion.py", title="Diffusion step by step", icon=":material/blur_on:",
            url_path="diffusion"),
    st.Page("pages/transport.py", title="Noise to data: flows, ODEs, SDEs", icon=":material/timeline:",
            url_path="transport"),
    st.Page("pages/gans.py", title="GANs side by side", icon=":material/compare:", url_path="gans"),
    st.Page("pages/bigan.py", title="BiGAN: a GAN that can invert", icon=":material/sync_alt:", url_path="bigan"),
    st.Page("pages/flows.py", title="Normalizing flows", icon=":material/swap_horiz:", url_path="flows"),
    st.Page("pages/autoregressive.py", title="PixelCNN, pixel by pixel", icon=":material/grid_on:", url_path="autoregressive"),
    st.Page("pages/projections.py", title="Projections (PCA, t-SNE)", icon=":material/scatter_plot:",
            url_path="projections"),
]
navigation = st.navigation(PAGES, position="hidden")
components.sidebar_menu(PAGES)
state.keep_in_url()
components.copy_link(st.container())  # at the top of every page
state.note_url_params(navigation.url_path)
navigation.run()  # (a page that ends early calls state.stop(), which reports)
state.report_dropped_params()  # one notice for what a link asked that the page could not use
