"""`python -m tideflow --cmake-dir` (also --include-dir, --lib-dir, --pkgconfig-dir, --version): where the
installed C/C++ package is, for programs that embed tideflow:

    cmake -Dtideflow_DIR=$(python -m tideflow --cmake-dir) ...   # find_package(tideflow CONFIG REQUIRED)
    cc app.c $(PKG_CONFIG_PATH=$(python -m tideflow --pkgconfig-dir) pkg-config --cflags --libs tideflow)

The wheel ships the headers (include/tideflow), libtideflow, the CMake config (cmake/) and a pkg-config
file (pkgconfig/) inside the tideflow package (Note [package layout] in cmake/TideflowPackage.cmake)."""
import argparse
import os
import sys

from . import __tideflow_version__

_PKG = os.path.dirname(os.path.abspath(__file__))
_DIRS = {
    "cmake_dir": (os.path.join(_PKG, "cmake"), "tideflowConfig.cmake"),
    "include_dir": (os.path.join(_PKG, "include"), os.path.join("tideflow", "c_api.h")),
    "lib_dir": (_PKG, "libtideflow.so"),
    "pkgconfig_dir": (os.path.join(_PKG, "pkgconfig"), "tideflow.pc"),
}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tideflow", description="Where tideflow's C/C++ package is installed.")
    for key in _DIRS:
        p.add_argument("--" + key.replace("_", "-"), action="store_true",
                       help="print the directory of the %s" % key.replace("_dir", "").replace("_", " "))
    p.add_argument("--version", action="store_true", help="print tideflow's version")
    args = p.parse_args(argv)
    if args.version:
        print(__tideflow_version__)
        return 0
    wanted = [k for k in _DIRS if getattr(args, k)]
    if not wanted:
        p.print_help()
        return 0
    for key in wanted:
        path, marker = _DIRS[key]
        if not os.path.isfile(os.path.join(path, marker)):
            sys.stderr.write("tideflow: %s is missing: the C/C++ package is installed by `pip install .` (a source "
                             "build without pip installs it with `cmake --install BUILD_DIR --prefix DIR`, under "
                             "DIR/lib/cmake/tideflow)\n" % os.path.join(path, marker))
            return 1
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
