"""AppTest helpers: run one page headlessly and fail on any exception or error box."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP_DIR = Path(__file__).resolve().parents[2] / "app"


def run_page(page: str, timeout: float = 180, allow_errors: bool = False, session_state: dict | None = None) -> AppTest:
    """Run ``app/<page>`` once; assert it raised nothing (and showed no st.error unless allowed)."""
    at = AppTest.from_file(str(APP_DIR / page), default_timeout=timeout)
    for key, value in (session_state or {}).items():
        at.session_state[key] = value
    at.run()
    assert_clean(at, allow_errors)
    return at


def assert_clean(at: AppTest, allow_errors: bool = False) -> None:
    assert not at.exception, [e.value for e in at.exception]
    if not allow_errors:
        assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    """All markdown, captions, info and warning text on the page, joined (for content asserts)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)
