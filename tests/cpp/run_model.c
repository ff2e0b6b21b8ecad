/* A C program (C99, no C++) that runs a model saved by tideflow's Python API through the C ABI:
 *   run_model PREFIX INPUT_TENSOR OUTPUT_TENSOR ROWS COLS v11 v12 ...
 * prints the output values, one row per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tideflow/c_api.h>

static int check(TFL_Status* s, const char* what) {
  if (TFL_GetCode(s) == TFL_OK) return 0;
  fprintf(stderr, "%s: %s: %s\n", what, TFL_CodeName(TFL_GetCode(s)), TFL_Message(s));
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s PREFIX INPUT OUTPUT ROWS COLS VALUES...\n", argv[0]);
    return 2;
  }
  int64_t dims[2] = {atoll(argv[4]), atoll(argv[5])};
  if (argc != 6 + dims[0] * dims[1]) return 2;
  float* values = malloc(sizeof(float) * (size_t)(dims[0] * dims[1]));
  for (int i = 0; i < dims[0] * dims[1]; ++i) values[i] = (float)atof(argv[6 + i]);

  TFL_Status* s = TFL_NewStatus();
  TFL_Graph* g = TFL_NewGraph();
  char meta[4096];
  snprintf(meta, sizeof meta, "%s.meta", argv[1]);
  TFL_ImportMetaGraph(g, meta, NULL, s);
  if (check(s, "import")) return 1;
  TFL_Session* sess = TFL_NewSession(g, 1, 1, s);
  if (check(s, "session")) return 1;
  TFL_Saver* saver = TFL_NewSaver(g, NULL, 0, 5, s); /* the saver Python recorded in the meta graph */
  if (check(s, "saver")) return 1;
  TFL_SaverRestore(saver, sess, argv[1], s);
  if (check(s, "restore")) return 1;
  TFL_Output in = TFL_GraphTensorByName(g, argv[2], s);
  if (check(s, "input")) return 1;
  TFL_Output out = TFL_GraphTensorByName(g, argv[3], s);
  if (check(s, "output")) return 1;

  TFL_Tensor* x = TFL_NewTensorFromData(TFL_FLOAT, dims, 2, values, sizeof(float) * (size_t)(dims[0] * dims[1]), s);
  if (check(s, "tensor")) return 1;
  TFL_Tensor* y = NULL;
  TFL_SessionRun(sess, &in, &x, 1, &out, &y, 1, NULL, 0, s);
  if (check(s, "run")) return 1;
  if (TFL_TensorType(y) != TFL_FLOAT || TFL_NumDims(y) != 2) return fprintf(stderr, "unexpected output\n"), 1;
  const float* p = (const float*)TFL_TensorData(y);
  for (int64_t i = 0; i < TFL_Dim(y, 0); ++i)
    for (int64_t j = 0; j < TFL_Dim(y, 1); ++j)
      printf("%.9g%c", p[i * TFL_Dim(y, 1) + j], j + 1 < TFL_Dim(y, 1) ? ' ' : '\n');

  /* A NULL handle is an error status, never a crash. */
  TFL_SessionRun(NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, 0, s);
  if (TFL_GetCode(s) != TFL_INVALID_ARGUMENT) return fprintf(stderr, "NULL session accepted\n"), 1;

  TFL_DeleteTensor(x);
  TFL_DeleteTensor(y);
  TFL_DeleteSaver(saver);
  TFL_DeleteSession(sess);
  TFL_DeleteGraph(g);
  TFL_DeleteStatus(s);
  free(values);
  return 0;
}
