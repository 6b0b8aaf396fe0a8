"""Home: what the workbench is, what is built, and the claims report."""

import pandas as pd
import streamlit as st

import ui
from workbench import methods, report
from workbench.claims import sentence
from workbench.viz import claims_frame

st.title("Research workbench")
st.markdown(
    """
Learn, demo and debug three methods from one research group — on generated worlds with planted
ground truth (so every claim can be checked), and on real data when you point it at some.

| method | what it does | pages |
|---|---|---|
| **Living needs → services** | one language model infers a user's living need, maps it to a service category and ranks merchants; behavioral clustering filters accidental records; curriculum + GRPO | Behavior clusters · Needs & services |
| **GLASS** | generative recommendation with semantic IDs; long-term interests via SID-Tier and semantic hard search with a gated fusion | SID tree |
| **Thinking spectrum** | merge a direct and a thinking model at many strengths and methods; accuracy vs tokens; Pareto improvements | Merge strength |
"""
)

with ui.guard():
    profile = ui.profile_picker()
    store = ui.store()

    st.subheader("What is built")
    rows = []
    for name in methods.METHODS:
        try:
            title = methods.load(name).TITLE
            available = True
        except Exception:  # noqa: BLE001
            title, available = name, False
        for dataset in store.datasets(name, profile) or ["synthetic"]:
            run = methods.latest(store, name, profile, dataset) if available else None
            m = run.manifest if run else {}
            rows.append({
                "method": title,
                "dataset": dataset,
                "status": "built" if run else ("not built" if available else "not available yet"),
                "build time (s)": m.get("build_seconds"),
                "built at": m.get("created", ""),
                "folder": str(run.path) if run else "",
            })
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

    missing = [n for n in methods.available() if methods.latest(store, n, profile) is None]
    if ui.build_progress(None, profile):  # a build runs (started here, by `make demo` or another session)
        pass
    elif missing:
        st.caption(f"Not built for profile **{profile}**: {', '.join(missing)}. "
                   "Building runs on this machine's CPU in the background (the cheapest method first; each page "
                   "fills in as its method lands); the demo profile takes a few minutes per method.")
        if st.button(f"Build {profile} artifacts ({', '.join(missing)})", type="primary", key="build-all") \
                and ui.start_build(missing, profile):
            st.rerun()

    st.subheader("Paper claims")
    rows = report.collect(store, profile)
    reference = report.load_reference(profile)
    lead = bool(reference) and report.at_stable_budget(reference)
    if reference:  # what the reference is comes first: at the stable budget, or plainly not
        (st.success if lead else st.warning)(report.reference_headline(reference))
    st.caption(
        "Each claim of the papers: what is compared on which quantity, the two numbers, their difference with "
        "a 95% interval, the verdict, and the seeds and budget behind it. A claim that does not reproduce is "
        "shown as such. " + ("*reference*: the committed multi-seed verdict; *your run*: the built run's own "
                             "(one seed can flip a verdict; read both)." if reference else "")
    )
    if rows:
        wide = st.column_config.TextColumn(width="large")
        st.dataframe(claims_frame(rows, report.reference_verdicts(profile), lead=lead), hide_index=True,
                     width="stretch", row_height=96,
                     column_config={"claim": st.column_config.TextColumn(width="medium"), "comparison": wide,
                                    "your run comparison": wide, "reference comparison": wide})
        with st.expander("The comparisons as text"):  # nothing cut off, for reading aloud or copying
            st.markdown("\n".join(f"- **{r.id}** — {sentence(r)}" for r in rows))
        st.download_button(
            "Download the report (one HTML file)", data=lambda: report.html(store, profile),
            file_name=f"workbench-report-{profile}.html", mime="text/html", key="download-report", on_click="ignore",
            help="The claims, each method's key figure, data card and settings, and the versions; opens in any browser.")
    else:
        st.info("No method is available yet, so there are no claims to show.")
