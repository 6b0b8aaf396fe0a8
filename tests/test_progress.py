import io

from workbench.progress import plain_line, scaled, tqdm_progress


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()  # not a tty: a log file, CI, nohup
    bar = tqdm_progress("demo", every=0.0, stream=out)
    bar("step 1", 0.1)
    bar("step 2", 0.5)
    bar("done", 1.0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("[demo] 100%") and "| done" in lines[-1]
    assert "ETA" in lines[0]


def test_plain_lines_are_throttled():
    out = io.StringIO()
    bar = tqdm_progress("demo", every=3600.0, stream=out)
    for i in range(100):
        bar("working", i / 200)
    bar("done", 1.0)
    assert len(out.getvalue().splitlines()) == 1  # only the final line within the hour


def test_plain_line_format_and_scaled():
    assert plain_line("x", "m", 0.0, 5.0) == "[x] 0% elapsed 5s ETA ? | m"
    seen = []
    scaled(lambda m, f: seen.append(f), 0.2, 0.4)("half", 0.5)
    assert seen == [0.30000000000000004] or abs(seen[0] - 0.3) < 1e-12
