# tideflow as a C/C++ library: the public headers (cpp/include/tideflow: the C ABI c_api.h and the
# header-only C++ API over it), and an installed package with them, libtideflow, a CMake config
# (target tideflow::tideflow) and a pkg-config file. Included from the top-level CMakeLists.txt.
#
# Note [package layout]
# In a wheel (scikit-build-core sets SKBUILD) everything lives in the Python package, next to the
# extension that needs libtideflow:  tideflow/libtideflow.so, tideflow/include/tideflow/*.h,
# tideflow/cmake/tideflowConfig.cmake, tideflow/pkgconfig/tideflow.pc (`python -m tideflow --cmake-dir`
# and friends print these). `cmake --install` of a source build uses the usual prefix layout: lib/,
# include/, lib/cmake/tideflow/, lib/pkgconfig/. The config and .pc files find everything relative to
# their own location, so an installed tree can move. libtideflow needs OpenBLAS from the scipy-openblas32
# wheel: its RUNPATH finds it ($ORIGIN/../scipy_openblas32/lib in a wheel, the build's copy otherwise),
# and the package hands programs an RPATH to libtideflow plus an -rpath-link to OpenBLAS, so they run
# without LD_LIBRARY_PATH.

target_include_directories(tideflow PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/cpp/include>)

file(STRINGS "${CMAKE_CURRENT_SOURCE_DIR}/pyproject.toml" _tf_version_line REGEX "^version = \"[^\"]+\"")
string(REGEX REPLACE "^version = \"([^\"]+)\"" "\\1" TIDEFLOW_VERSION "${_tf_version_line}")
set_property(SOURCE cpp/c_api.cc APPEND PROPERTY COMPILE_DEFINITIONS TIDEFLOW_VERSION="${TIDEFLOW_VERSION}")
