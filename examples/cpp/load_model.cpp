// Runs a model that Python trained and saved (tf.train.Saver: PREFIX.meta + PREFIX.safetensors) on rows
// of numbers read from stdin, printing one output row per input row.
//   load_model PREFIX INPUT_TENSOR OUTPUT_TENSOR < rows.txt      (e.g. x:0 and probabilities:0)
#include <tideflow/tideflow.h>

#include <cstdio>

namespace tf = tideflow;

int main(int argc, char** argv) {
  if (argc != 4) return std::fprintf(stderr, "usage: %s PREFIX INPUT_TENSOR OUTPUT_TENSOR < rows\n", argv[0]), 2;
  tf::Graph g;
  tf::train::Saver saver = tf::train::import_meta_graph(g, std::string(argv[1]) + ".meta");
  tf::Session sess(g);
  saver.restore(sess, argv[1]);
  tf::Output input = g.tensor(argv[2]), output = g.tensor(argv[3]);

  int64_t width = input.shape().back();
  std::vector<float> values;
  for (float v; std::scanf("%f", &v) == 1;) values.push_back(v);
  tf::Tensor rows(values, {static_cast<int64_t>(values.size()) / width, width});

  tf::Tensor result = sess.run(output, {{input, rows}});
  const float* p = result.data<float>();
  int64_t n = result.dim(0), cols = result.size() / n;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < cols; ++j) std::printf("%.9g%c", p[i * cols + j], j + 1 < cols ? ' ' : '\n');
  return 0;
}
