"""The workbench app: one entry point; each page is a small file under views/ (not pages/: Streamlit treats a pages/ folder as its old multipage mode and shows "Page not found" on direct URLs).

Run it with ``make demo`` or ``workbench app`` (binds 127.0.0.1:8501).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # so pages can `import ui`

import streamlit as st  # noqa: E402

import ui  # noqa: E402

st.set_page_config(page_title="Workbench", page_icon="🧪", layout="wide")

pages = [
    st.Page(path, title=title, icon=icon, url_path=url, default=(url == "home"))
    for path, title, icon, url, _method in ui.existing_pages()
]
st.navigation(pages).run()
