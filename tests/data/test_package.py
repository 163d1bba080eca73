"""The top-level names of supremix.data, and what importing the package loads."""

import subprocess
import sys

import supremix.data
from supremix.data import echonet


def test_public_names_resolve_to_their_modules():
    for name in supremix.data.__all__:
        assert getattr(supremix.data, name) is not None
    assert supremix.data.clip_options is echonet.clip_options
    assert supremix.data.video_mean_std is echonet.video_mean_std


def test_import_loads_no_decoding_library():
    code = (
        "import sys, supremix.data; "
        "print(sorted(m for m in ('cv2', 'nibabel', 'PIL', 'pandas') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
