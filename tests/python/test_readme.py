"""The README's test-suite example for `smtpsim serve`, run as it stands.

The first Python block of the README's `serve` section is written to a file and run with
pytest, with the binary under test first on PATH as `smtpsim`.
"""

import os
import pathlib
import subprocess
import sys

from conftest import ROOT, binary


def readme_example():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## `smtpsim serve` and `smtpsim blast`"):]
    start = section.index("```python\n") + len("```python\n")
    return section[start:section.index("```\n", start)]


def test_the_readme_example_passes(tmp_path):
    example = tmp_path / "test_example.py"
    example.write_text(readme_example())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "smtpsim").symlink_to(pathlib.Path(binary()).resolve())
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout, run.stdout
