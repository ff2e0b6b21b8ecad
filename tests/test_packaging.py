"""Issue 16's first run: pyproject's extras and dependency groups agree, the README's commands build once,
and .ci/run is valid shell that runs the TensorFlow comparisons when its budget allows."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pyproject():
    tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else pytest.importorskip("tomli")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def test_extras_and_dependency_groups_agree():
    p = _pyproject()
    extras, groups = p["project"]["optional-dependencies"], p["dependency-groups"]
    assert extras["test"] == groups["test"] and extras["tf"] == groups["tf"]
    assert "tensorboard" in extras["demo"]  # the demo ends by pointing TensorBoard at its logs
    assert any(d.startswith("tensorflow-cpu") for d in extras["tf"])
    assert any(d.startswith("absl-py") for d in p["project"]["dependencies"])  # tf.flags
    assert any(d.startswith("mypy") for d in extras["test"])  # tests/test_stubs.py
    assert p["tool"]["scikit-build"]["build-dir"]  # a persistent build folder
    assert p["tool"]["scikit-build"]["build"]["verbose"] is True  # compile progress with pip -v


def test_readme_first_run_builds_once():
    readme = open(os.path.join(ROOT, "README.md")).read()
    setup = readme[readme.index("Set-up on a fresh machine"):readme.index("## Quickstart")]
    assert setup.count("pip install -v \".[demo]\"") == 1
    assert "pip install --group test && python -m pytest -q tests" in setup  # no reinstall: no second build
    assert "pip install --group tf" in setup


def test_ci_script_is_valid_and_budgets_the_tensorflow_run():
    path = os.path.join(ROOT, ".ci", "run")
    assert os.access(path, os.X_OK)
    assert subprocess.run(["bash", "-n", path]).returncode == 0
    text = open(path).read()
    assert "--group tf" in text and "could not import 'tensorflow" in text and "budget" in text


def test_ci_runs_the_sanitizer_subset_and_its_linker_reads_build_ninja(tmp_path):
    """.ci/run runs tools/sanitize.sh ci, which takes each source's flags and the link line from the
    existing build's build.ninja (tools/sanitize_subset.py)."""
    assert "tools/sanitize.sh ci" in open(os.path.join(ROOT, ".ci", "run")).read()
    assert subprocess.run(["bash", "-n", os.path.join(ROOT, "tools", "sanitize.sh")]).returncode == 0
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import sanitize_subset
    finally:
        sys.path.pop(0)
    (tmp_path / "build.ninja").write_text(
        "build CMakeFiles/tideflow.dir/cpp/ops/nn.cc.o: CXX_COMPILER__tideflow_unscanned_Release /src/cpp/ops/nn.cc"
        " || cmake_object_order_depends_target_tideflow\n"
        "  DEFINES = -DTIDEFLOW_BUILDING\n  FLAGS = -O3 -DNDEBUG -std=gnu++17\n  INCLUDES = -I/src/cpp\n\n"
        "build CMakeFiles/_core.dir/cpp/bindings.cc.o: CXX_COMPILER___core_unscanned_Release /src/cpp/bindings.cc\n"
        "  FLAGS = -O3\n\n"
        "build /src/python/tideflow/libtideflow.so: CXX_SHARED_LIBRARY_LINKER__tideflow_Release"
        " CMakeFiles/tideflow.dir/cpp/ops/nn.cc.o | /blas/libscipy_openblas.so\n"
        "  LINK_LIBRARIES = -Wl,-rpath,\"\\$$ORIGIN\"  /blas/libscipy_openblas.so  -ldl\n")
    compiles, link = sanitize_subset.parse_build_ninja(str(tmp_path / "build.ninja"))
    assert list(compiles) == ["cpp/ops/nn.cc"]
    src, obj, v = compiles["cpp/ops/nn.cc"]
    assert (src, obj) == ("/src/cpp/ops/nn.cc", "CMakeFiles/tideflow.dir/cpp/ops/nn.cc.o")
    assert v["FLAGS"] == "-O3 -DNDEBUG -std=gnu++17" and v["INCLUDES"] == "-I/src/cpp"
    assert link["objects"] == ["CMakeFiles/tideflow.dir/cpp/ops/nn.cc.o"]
    assert "/blas/libscipy_openblas.so" in link["LINK_LIBRARIES"] and "$ORIGIN" in link["LINK_LIBRARIES"]
    # pip's isolated build environment is gone after the install: the installed OpenBLAS stands in
    gone = "/tmp/pip-build-env-gone/overlay/lib/python3.11/site-packages/scipy_openblas32/include"
    assert os.path.isdir(sanitize_subset.relocate_flag("-I" + gone)[2:])
    assert sanitize_subset.relocate_flag("-ldl") == "-ldl"
