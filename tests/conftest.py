import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# Set by tools/sanitize.sh when the core under test is built with ASan/UBSan ("asan") or TSan ("tsan").
SANITIZED = os.environ.get("TIDEFLOW_SANITIZED", "") not in ("", "0")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "not_sanitized(reason): the test cannot hold when the core runs under a sanitizer "
        "(TIDEFLOW_SANITIZED set by tools/sanitize.sh); it skips there with the reason")


def pytest_collection_modifyitems(config, items):
    # ASan keeps freed memory in a quarantine and maps shadow memory, so
    # resident-memory bounds and address-space limits do not hold, and instrumented code runs several
    # times slower. Only tests marked not_sanitized skip, each with its reason; everything else runs.
    if not SANITIZED:
        return
    for item in items:
        mark = item.get_closest_marker("not_sanitized")
        if mark is not None:
            reason = mark.args[0] if mark.args else mark.kwargs["reason"]
            item.add_marker(pytest.mark.skip(reason="under a sanitizer: " + reason))
