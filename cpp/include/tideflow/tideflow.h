// tideflow's C++ API: build, train, save and run TensorFlow 1.x-style graphs from C++.
//
//   #include <tideflow/tideflow.h>
//   namespace tf = tideflow;
//   tf::Graph g;
//   auto x = tf::placeholder(g, tf::float32, {-1, 1}, "x");
//   tf::Variable w(g, tf::Tensor({0.5f}, {1, 1}), "w");
//   auto y = tf::matmul(x, w);
//   tf::Session sess(g);
//   sess.run(tf::global_variables_initializer(g));
//   tf::Tensor out = sess.run(y, {{x, tf::Tensor({1.f, 2.f}, {2, 1})}});
//
// Header-only over the C ABI of tideflow/c_api.h (stable across compilers and standard libraries); link
// libtideflow (CMake: find_package(tideflow) + target_link_libraries(app tideflow::tideflow)). Errors are
// exceptions derived from tideflow::Error, carrying TensorFlow's codes and messages.
#pragma once

#include "tideflow/core.h"
#include "tideflow/graph.h"
#include "tideflow/ops.h"
#include "tideflow/session.h"
#include "tideflow/summary.h"
#include "tideflow/train.h"
