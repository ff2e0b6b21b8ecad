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

include(CMakePackageConfigHelpers)
if(SKBUILD)
  install(TARGETS tideflow _core LIBRARY DESTINATION tideflow)
  set(TF_LIBDIR tideflow)
  set(TF_INCLUDEDIR tideflow/include)
  set(TF_CMAKEDIR tideflow/cmake)
  set(TF_PKGCONFIGDIR tideflow/pkgconfig)
  set(TF_OPENBLAS_REL scipy_openblas32/lib)  # a sibling package in site-packages
  set(TF_OPENBLAS_ABS "")
else()
  include(GNUInstallDirs)
  install(TARGETS tideflow LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set(TF_LIBDIR ${CMAKE_INSTALL_LIBDIR})
  set(TF_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
  set(TF_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/tideflow)
  set(TF_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  set(TF_OPENBLAS_REL "")
  set(TF_OPENBLAS_ABS ${OPENBLAS_LIB_DIR})  # the scipy-openblas32 this build linked
  set_property(TARGET tideflow APPEND PROPERTY INSTALL_RPATH "${OPENBLAS_LIB_DIR}")
endif()
install(DIRECTORY cpp/include/tideflow DESTINATION ${TF_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

# Writes tideflowConfig.cmake, its version file and tideflow.pc for the layout described by the TF_*
# variables into the build tree's `subdir`.
function(tideflow_package_files subdir)
  # Paths from the config and .pc files back to the installation root (Note [package layout]).
  file(RELATIVE_PATH TF_CMAKE_TO_ROOT "/root/${TF_CMAKEDIR}" "/root")
  file(RELATIVE_PATH TF_PC_TO_ROOT "/root/${TF_PKGCONFIGDIR}" "/root")
  string(REGEX REPLACE "/$" "" TF_CMAKE_TO_ROOT "${TF_CMAKE_TO_ROOT}")
  string(REGEX REPLACE "/$" "" TF_PC_TO_ROOT "${TF_PC_TO_ROOT}")
  if(TF_OPENBLAS_ABS)
    set(TF_PC_OPENBLAS "${TF_OPENBLAS_ABS}")
  else()
    set(TF_PC_OPENBLAS "\${prefix}/${TF_OPENBLAS_REL}")
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${subdir})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/tideflowConfig.cmake.in ${dir}/tideflowConfig.cmake @ONLY)
  write_basic_package_version_file(${dir}/tideflowConfigVersion.cmake VERSION ${TIDEFLOW_VERSION}
                                   COMPATIBILITY SameMinorVersion)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/tideflow.pc.in ${dir}/tideflow.pc @ONLY)
endfunction()

tideflow_package_files(package)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/package/tideflowConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/package/tideflowConfigVersion.cmake DESTINATION ${TF_CMAKEDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/package/tideflow.pc DESTINATION ${TF_PKGCONFIGDIR})

# An in-place development build gets the wheel's layout inside python/tideflow (git ignores it): the
# headers as a symlink to cpp/include, the config and .pc files pointing at the build's OpenBLAS. Then
# `python -m tideflow --cmake-dir` and tests/test_cpp_api.py work without installing anything.
if(TIDEFLOW_INPLACE)
  set(TF_LIBDIR tideflow)
  set(TF_INCLUDEDIR tideflow/include)
  set(TF_CMAKEDIR tideflow/cmake)
  set(TF_PKGCONFIGDIR tideflow/pkgconfig)
  set(TF_OPENBLAS_ABS ${OPENBLAS_LIB_DIR})
  tideflow_package_files(inplace)
  set(_pkg ${CMAKE_CURRENT_SOURCE_DIR}/python/tideflow)
  file(COPY ${CMAKE_CURRENT_BINARY_DIR}/inplace/tideflowConfig.cmake
            ${CMAKE_CURRENT_BINARY_DIR}/inplace/tideflowConfigVersion.cmake DESTINATION ${_pkg}/cmake)
  file(COPY ${CMAKE_CURRENT_BINARY_DIR}/inplace/tideflow.pc DESTINATION ${_pkg}/pkgconfig)
  if(NOT EXISTS ${_pkg}/include)
    file(CREATE_LINK ../../cpp/include ${_pkg}/include SYMBOLIC)
  endif()
endif()
