"""`import jdist` pulls in only its runtime dependencies."""

import subprocess
import sys


def test_import_does_not_load_extras():
    code = (
        "import sys, jdist\n"
        "bad = [m for m in ('scipy', 'torch', 'matplotlib', 'tensorflow', 'tensorflow_probability',"
        " 'distrax', 'numpyro', 'gymnasium', 'hypothesis', 'pytest') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "assert jdist.__all__ and all(getattr(jdist, n).__doc__ for n in jdist.__all__)\n"
        "print('IMPORT_OK')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "IMPORT_OK" in proc.stdout, proc.stderr
