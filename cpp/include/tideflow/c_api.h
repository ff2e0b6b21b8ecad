/* tideflow's C API: a stable ABI for programs written in C, in C++ built with another compiler or standard
 * library, or in any language with a C foreign-function interface. The C++ API (tideflow/tideflow.h) is a
 * header-only layer over it.
 *
 * Conventions
 * - Handles are opaque pointers; no C++ type crosses this boundary. Every TFL_New... / TFL_...Make...
 *   result is released by its TFL_Delete... function (NULL is accepted and ignored).
 * - Functions that can fail take a TFL_Status* last and set it: TFL_OK, or a TensorFlow error code with
 *   the message a Python user of tideflow would see. On failure a returned handle is NULL. No function
 *   throws, aborts or exits on a user error (a NULL handle, a bad dtype, a wrong shape...).
 * - Strings are UTF-8 and NUL-terminated unless a length is passed. A `const char*` returned by a
 *   function stays valid as documented there (usually: as long as the object it came from).
 * - Operations (graph nodes) are owned by their graph and live as long as it does.
 * - Graphs, sessions and callables may be used from several threads as TensorFlow's are: concurrent
 *   TFL_SessionRun / TFL_CallableRun calls are safe; building a graph is not safe concurrently with
 *   building the same graph from another thread.
 */
#ifndef TIDEFLOW_C_API_H_
#define TIDEFLOW_C_API_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define TFL_CAPI_EXPORT
#else
#define TFL_CAPI_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a declaration here changes incompatibly; additions keep it. */
#define TFL_ABI_VERSION 1
TFL_CAPI_EXPORT extern int TFL_AbiVersion(void);
/* tideflow's own version ("0.1.0"). */
TFL_CAPI_EXPORT extern const char* TFL_Version(void);

/* ---- status ------------------------------------------------------------------------------------- */

/* TensorFlow's error codes; 100-102 are graph-construction errors that Python raises as ValueError,
 * TypeError and LookupError (a shape mismatch at the line that built a node, a dtype mismatch, an op
 * without a gradient). */
typedef enum TFL_Code {
  TFL_OK = 0,
  TFL_CANCELLED = 1,
  TFL_UNKNOWN = 2,
  TFL_INVALID_ARGUMENT = 3,
  TFL_DEADLINE_EXCEEDED = 4,
  TFL_NOT_FOUND = 5,
  TFL_ALREADY_EXISTS = 6,
  TFL_PERMISSION_DENIED = 7,
  TFL_RESOURCE_EXHAUSTED = 8,
  TFL_FAILED_PRECONDITION = 9,
  TFL_ABORTED = 10,
  TFL_OUT_OF_RANGE = 11,
  TFL_UNIMPLEMENTED = 12,
  TFL_INTERNAL = 13,
  TFL_UNAVAILABLE = 14,
  TFL_DATA_LOSS = 15,
  TFL_UNAUTHENTICATED = 16,
  TFL_VALUE_ERROR = 100,
  TFL_TYPE_ERROR = 101,
  TFL_LOOKUP_ERROR = 102,
  /* Not a code: makes every int a valid TFL_Code, so a caller's wrong value is refused with an error
     instead of being undefined behaviour in C++ (UBSan found one). */
  TFL_CODE_FORCE_INT = 0x7FFFFFFF
} TFL_Code;

typedef struct TFL_Status TFL_Status;
TFL_CAPI_EXPORT extern TFL_Status* TFL_NewStatus(void);
TFL_CAPI_EXPORT extern void TFL_DeleteStatus(TFL_Status* s);
TFL_CAPI_EXPORT extern TFL_Code TFL_GetCode(const TFL_Status* s);
/* "" when TFL_OK; valid until the status is next set. */
TFL_CAPI_EXPORT extern const char* TFL_Message(const TFL_Status* s);
TFL_CAPI_EXPORT extern void TFL_SetStatus(TFL_Status* s, TFL_Code code, const char* msg);
/* TensorFlow's name of a code: "InvalidArgumentError", "ValueError"... ("UnknownError" for others). */
TFL_CAPI_EXPORT extern const char* TFL_CodeName(TFL_Code code);

/* ---- tensors ------------------------------------------------------------------------------------ */

/* TensorFlow's DataType numbers. */
typedef enum TFL_DataType {
  TFL_FLOAT = 1,
  TFL_DOUBLE = 2,
  TFL_INT32 = 3,
  TFL_UINT8 = 4,
  TFL_INT16 = 5,
  TFL_INT8 = 6,
  TFL_STRING = 7,
  TFL_INT64 = 9,
  TFL_BOOL = 10,
  TFL_BFLOAT16 = 14,
  TFL_UINT16 = 17,
  TFL_HALF = 19, /* float16 */
  /* Not a dtype: every int is a valid TFL_DataType value, refused by the functions (see TFL_Code). */
  TFL_DATATYPE_FORCE_INT = 0x7FFFFFFF
} TFL_DataType;

/* Bytes per element (bool: 1, TFL_HALF and TFL_BFLOAT16: 2, their bits as uint16_t), 0 for TFL_STRING and
 * unknown types. */
TFL_CAPI_EXPORT extern size_t TFL_DataTypeSize(TFL_DataType dtype);
/* "float32", "float64", "int32", "int64", "bool", "string", "uint8", "int8", "int16", "uint16",
 * "float16", "bfloat16"; "invalid" otherwise. */
TFL_CAPI_EXPORT extern const char* TFL_DataTypeName(TFL_DataType dtype);

/* A dense, row-major tensor. Handles to one value may share its buffer: writing goes through
 * TFL_TensorMutableData, which copies a buffer that anyone else (a session's variable or constant,
 * another handle) still holds, so writing never changes a value someone else sees. */
typedef struct TFL_Tensor TFL_Tensor;

/* A zero-filled tensor. */
TFL_CAPI_EXPORT extern TFL_Tensor* TFL_AllocateTensor(TFL_DataType dtype, const int64_t* dims, int num_dims,
                                                      TFL_Status* status);
/* A tensor holding a copy of `data` (`len` must be the tensor's byte size; bools are 0 or 1). */
TFL_CAPI_EXPORT extern TFL_Tensor* TFL_NewTensorFromData(TFL_DataType dtype, const int64_t* dims, int num_dims,
                                                         const void* data, size_t len, TFL_Status* status);
/* A tensor over caller-owned memory, without a copy: `deallocator(data, len, arg)` runs when the last
 * handle and the last run using it let go (also when this call fails). `data` must be aligned to the
 * element size and stay unchanged while the tensor lives. */
TFL_CAPI_EXPORT extern TFL_Tensor* TFL_NewTensorWithDeallocator(
    TFL_DataType dtype, const int64_t* dims, int num_dims, void* data, size_t len,
    void (*deallocator)(void* data, size_t len, void* arg), void* arg, TFL_Status* status);
/* A string tensor: element i is the `lengths[i]` bytes at `strings[i]` (any bytes). */
TFL_CAPI_EXPORT extern TFL_Tensor* TFL_NewStringTensor(const int64_t* dims, int num_dims,
                                                       const char* const* strings, const size_t* lengths,
                                                       TFL_Status* status);
/* Another handle to the same value (no copy). */
TFL_CAPI_EXPORT extern TFL_Tensor* TFL_TensorNewRef(const TFL_Tensor* t);
TFL_CAPI_EXPORT extern void TFL_DeleteTensor(TFL_Tensor* t);

TFL_CAPI_EXPORT extern TFL_DataType TFL_TensorType(const TFL_Tensor* t);
TFL_CAPI_EXPORT extern int TFL_NumDims(const TFL_Tensor* t);
TFL_CAPI_EXPORT extern int64_t TFL_Dim(const TFL_Tensor* t, int i); /* -1 when i is out of range */
TFL_CAPI_EXPORT extern int64_t TFL_TensorElementCount(const TFL_Tensor* t);
/* Bytes of the element data; 0 for string tensors. */
TFL_CAPI_EXPORT extern size_t TFL_TensorByteSize(const TFL_Tensor* t);
/* Read-only element data (NULL for string tensors and NULL handles). */
TFL_CAPI_EXPORT extern const void* TFL_TensorData(const TFL_Tensor* t);
/* Writable element data: the buffer is copied first when shared (see TFL_Tensor). NULL for string
 * tensors, NULL handles, or when the copy cannot be allocated. */
TFL_CAPI_EXPORT extern void* TFL_TensorMutableData(TFL_Tensor* t);
/* Element i of a string tensor and its length in bytes; NULL when t is not a string tensor or i is out of
 * range. Valid while t lives. */
TFL_CAPI_EXPORT extern const char* TFL_TensorStringAt(const TFL_Tensor* t, int64_t i, size_t* len);

/* ---- graphs and operations ---------------------------------------------------------------------- */

typedef struct TFL_Graph TFL_Graph;
typedef struct TFL_Operation TFL_Operation;
/* One output of an operation; oper == NULL means "no tensor" (a gradient that is None). */
typedef struct TFL_Output {
  TFL_Operation* oper;
  int index;
} TFL_Output;

TFL_CAPI_EXPORT extern TFL_Graph* TFL_NewGraph(void);
/* Releases the caller's handle; sessions that use the graph keep it alive. */
TFL_CAPI_EXPORT extern void TFL_DeleteGraph(TFL_Graph* g);
/* The graph an operation belongs to (the same pointer TFL_NewGraph returned). */
TFL_CAPI_EXPORT extern TFL_Graph* TFL_OperationGraph(const TFL_Operation* op);

TFL_CAPI_EXPORT extern int TFL_GraphNumOperations(const TFL_Graph* g);
/* Operations in creation order (a topological order); NULL when i is out of range. */
TFL_CAPI_EXPORT extern TFL_Operation* TFL_GraphOperationAt(const TFL_Graph* g, int i);
/* NULL when there is no operation of that name. */
TFL_CAPI_EXPORT extern TFL_Operation* TFL_GraphOperationByName(const TFL_Graph* g, const char* name);
/* "op:1" (or "op", meaning output 0). Not found: TFL_NOT_FOUND naming what is missing. */
TFL_CAPI_EXPORT extern TFL_Output TFL_GraphTensorByName(const TFL_Graph* g, const char* name, TFL_Status* status);
/* TensorFlow's uniquifier ("x", "x_1", ...) under the current name scope, marking the name as used.
 * Writes it NUL-terminated into buf when it fits and returns its length (snprintf's convention); call
 * with a larger buffer when the result is >= buflen (the name is then reserved already: pass it again
 * with a trailing "/" to TFL_NewOperation to use it as is). */
TFL_CAPI_EXPORT extern size_t TFL_GraphUniqueName(TFL_Graph* g, const char* name, char* buf, size_t buflen);
/* No more operations may be added (a ValueError, as TensorFlow's finalized graphs). */
TFL_CAPI_EXPORT extern void TFL_GraphFinalize(TFL_Graph* g);

/* Name scopes, control dependencies and devices apply to every operation created while they are open,
 * as tf.name_scope / tf.control_dependencies / tf.device do. Push returns the scope opened ("layer_1/"),
 * valid until it is popped: `name` is uniquified and nested under the open scope; a name ending in "/"
 * re-enters that absolute scope; "" or NULL opens the root scope. */
TFL_CAPI_EXPORT extern const char* TFL_GraphPushNameScope(TFL_Graph* g, const char* name, TFL_Status* status);
TFL_CAPI_EXPORT extern void TFL_GraphPopNameScope(TFL_Graph* g);
/* ops == NULL with n == 0 clears the control dependencies while pushed (tf.control_dependencies(None)). */
TFL_CAPI_EXPORT extern void TFL_GraphPushControlDependencies(TFL_Graph* g, TFL_Operation* const* ops, int n);
TFL_CAPI_EXPORT extern void TFL_GraphPopControlDependencies(TFL_Graph* g);
TFL_CAPI_EXPORT extern void TFL_GraphPushDevice(TFL_Graph* g, const char* device);
TFL_CAPI_EXPORT extern void TFL_GraphPopDevice(TFL_Graph* g);

/* The graph-level random seed (tf.set_random_seed) and TensorFlow 1.x's rule for an op's (seed, seed2):
 * op_seed < 0 means "none given". */
TFL_CAPI_EXPORT extern void TFL_GraphSetRandomSeed(TFL_Graph* g, int64_t seed);
TFL_CAPI_EXPORT extern void TFL_GraphOpSeeds(TFL_Graph* g, int64_t op_seed, int64_t* seed, int64_t* seed2);

TFL_CAPI_EXPORT extern const char* TFL_OperationName(const TFL_Operation* op);
TFL_CAPI_EXPORT extern const char* TFL_OperationOpType(const TFL_Operation* op);
TFL_CAPI_EXPORT extern const char* TFL_OperationDevice(const TFL_Operation* op);
TFL_CAPI_EXPORT extern int TFL_OperationNumInputs(const TFL_Operation* op);
TFL_CAPI_EXPORT extern TFL_Output TFL_OperationInput(const TFL_Operation* op, int i);
TFL_CAPI_EXPORT extern int TFL_OperationNumControlInputs(const TFL_Operation* op);
TFL_CAPI_EXPORT extern TFL_Operation* TFL_OperationControlInput(const TFL_Operation* op, int i);
TFL_CAPI_EXPORT extern int TFL_OperationNumOutputs(const TFL_Operation* op);
TFL_CAPI_EXPORT extern TFL_DataType TFL_OutputType(TFL_Output out);
/* The static shape: rank (-1 when unknown); TFL_OutputDims writes min(rank, num_dims) dims, -1 where a
 * dim is unknown. */
TFL_CAPI_EXPORT extern int TFL_OutputNumDims(TFL_Output out);
TFL_CAPI_EXPORT extern void TFL_OutputDims(TFL_Output out, int64_t* dims, int num_dims);

/* Building an operation of any registered type: TFL_NewOperation, inputs and attributes, then
 * TFL_FinishOperation, which runs the op's shape function (shape and dtype errors surface here, as
 * TFL_VALUE_ERROR / TFL_TYPE_ERROR naming the node) and always releases the description. `name` (NULL:
 * the op type) is uniquified under the open name scope; one ending in "/" is taken as is, without it.
 * Setters never fail: a bad argument is reported by TFL_FinishOperation. */
typedef struct TFL_OperationDescription TFL_OperationDescription;
TFL_CAPI_EXPORT extern TFL_OperationDescription* TFL_NewOperation(TFL_Graph* g, const char* op_type,
                                                                  const char* name);
TFL_CAPI_EXPORT extern void TFL_AddInput(TFL_OperationDescription* d, TFL_Output input);
TFL_CAPI_EXPORT extern void TFL_AddInputList(TFL_OperationDescription* d, const TFL_Output* inputs, int n);
TFL_CAPI_EXPORT extern void TFL_AddControlInput(TFL_OperationDescription* d, TFL_Operation* op);
TFL_CAPI_EXPORT extern void TFL_SetDevice(TFL_OperationDescription* d, const char* device);
/* Where the node was built ("main.cc:12"), quoted by error messages about it. */
TFL_CAPI_EXPORT extern void TFL_SetLocation(TFL_OperationDescription* d, const char* location);
TFL_CAPI_EXPORT extern void TFL_SetAttrBool(TFL_OperationDescription* d, const char* name, unsigned char value);
TFL_CAPI_EXPORT extern void TFL_SetAttrInt(TFL_OperationDescription* d, const char* name, int64_t value);
TFL_CAPI_EXPORT extern void TFL_SetAttrFloat(TFL_OperationDescription* d, const char* name, double value);
TFL_CAPI_EXPORT extern void TFL_SetAttrString(TFL_OperationDescription* d, const char* name, const void* value,
                                              size_t len);
TFL_CAPI_EXPORT extern void TFL_SetAttrType(TFL_OperationDescription* d, const char* name, TFL_DataType value);
/* num_dims < 0: unknown rank; a dim of -1: unknown. */
TFL_CAPI_EXPORT extern void TFL_SetAttrShape(TFL_OperationDescription* d, const char* name, const int64_t* dims,
                                             int num_dims);
TFL_CAPI_EXPORT extern void TFL_SetAttrIntList(TFL_OperationDescription* d, const char* name,
                                               const int64_t* values, int n);
TFL_CAPI_EXPORT extern void TFL_SetAttrFloatList(TFL_OperationDescription* d, const char* name,
                                                 const double* values, int n);
TFL_CAPI_EXPORT extern void TFL_SetAttrStringList(TFL_OperationDescription* d, const char* name,
                                                  const void* const* values, const size_t* lengths, int n);
TFL_CAPI_EXPORT extern void TFL_SetAttrTypeList(TFL_OperationDescription* d, const char* name,
                                                const TFL_DataType* values, int n);
/* The value is copied. */
TFL_CAPI_EXPORT extern void TFL_SetAttrTensor(TFL_OperationDescription* d, const char* name,
                                              const TFL_Tensor* value);
TFL_CAPI_EXPORT extern TFL_Operation* TFL_FinishOperation(TFL_OperationDescription* d, TFL_Status* status);
/* Releases a description without adding its operation. */
TFL_CAPI_EXPORT extern void TFL_DeleteOperationDescription(TFL_OperationDescription* d);

/* Symbolic derivatives of sum(ys) with respect to each x (tf.gradients), added to the graph under the
 * scope `name` (NULL: "gradients", uniquified). grad_ys is NULL or ny entries (oper NULL: ones). Writes
 * nx outputs to dx; dx[i].oper is NULL where ys do not depend on xs[i]. */
TFL_CAPI_EXPORT extern void TFL_AddGradients(TFL_Graph* g, const TFL_Output* ys, int ny, const TFL_Output* xs,
                                             int nx, const TFL_Output* grad_ys, const char* name, TFL_Output* dx,
                                             TFL_Status* status);

/* ---- variables and collections ------------------------------------------------------------------ */

/* tf.Variable: a VariableV2 node, its initializer `name/Assign` and its snapshot `name/read`. */
typedef struct TFL_Variable {
  TFL_Operation* variable;    /* output 0 reads the variable when its consumer runs (TF1's ref) */
  TFL_Operation* initializer; /* assigns initial_value */
  TFL_Output snapshot;        /* `name/read` */
  TFL_Output initial_value;
  int trainable;
} TFL_Variable;

/* Creates a variable initialized from `initial_value` (whose shape must be fully known) and records it
 * as a global variable (and a trainable one when `trainable`): savers, optimizers, initializers and
 * exported meta graphs see it. `name` (NULL: "Variable") is uniquified; a name ending in "/" is a scope
 * reserved before (build the initial value under it, as tf.Variable does, then pass it here). `location`
 * (NULL or "file:line") is quoted by error messages about the variable. */
TFL_CAPI_EXPORT extern TFL_Variable TFL_AddVariable(TFL_Graph* g, const char* name, TFL_Output initial_value,
                                                    int trainable, const char* location, TFL_Status* status);
/* The global variables in creation order (imported ones included); 0 when i is out of range. */
TFL_CAPI_EXPORT extern int TFL_GraphNumVariables(const TFL_Graph* g);
TFL_CAPI_EXPORT extern int TFL_GraphVariableAt(const TFL_Graph* g, int i, TFL_Variable* out);
/* The variable whose VariableV2 node is `var`; 0 when `var` is not a recorded variable. */
TFL_CAPI_EXPORT extern int TFL_GraphFindVariable(const TFL_Graph* g, const TFL_Operation* var, TFL_Variable* out);
/* A NoOp `name` (NULL: "init") running every global variable's initializer. */
TFL_CAPI_EXPORT extern TFL_Operation* TFL_GlobalVariablesInitializer(TFL_Graph* g, const char* name,
                                                                     TFL_Status* status);
/* The int64 "global_step" variable (tf.train.get_or_create_global_step). */
TFL_CAPI_EXPORT extern TFL_Operation* TFL_GetOrCreateGlobalStep(TFL_Graph* g, TFL_Status* status);

/* Collections as TensorFlow keeps them ("train_op", "losses", yours): names of tensors ("x:0") and
 * operations. "variables" and "trainable_variables" list the variables' node names. Items of other kinds
 * (numbers, strings) that Python stored are kept for export and read as NULL. */
TFL_CAPI_EXPORT extern int TFL_GraphCollectionSize(const TFL_Graph* g, const char* key);
/* Valid until the collection changes. */
TFL_CAPI_EXPORT extern const char* TFL_GraphCollectionItem(const TFL_Graph* g, const char* key, int i);
/* `name` is an operation ("train") or a tensor ("loss:0") of g. */
TFL_CAPI_EXPORT extern void TFL_GraphAddToCollection(TFL_Graph* g, const char* key, const char* name,
                                                     TFL_Status* status);

/* ---- meta graphs -------------------------------------------------------------------------------- */

/* Adds the nodes of a meta graph file (written by tideflow's tf.train.Saver / export_meta_graph, from
 * Python or C++) under `import_scope` (NULL or ""), with its variables, collections, graph seed and
 * saver: a TFL_NewSaver(g, NULL, 0, ...) afterwards saves and restores what Python's saver did. */
TFL_CAPI_EXPORT extern void TFL_ImportMetaGraph(TFL_Graph* g, const char* path, const char* import_scope,
                                                TFL_Status* status);
/* Writes the graph with its variables, collections and a saver for every global variable, readable by
 * tf.train.import_meta_graph in Python. */
TFL_CAPI_EXPORT extern void TFL_ExportMetaGraph(TFL_Graph* g, const char* path, TFL_Status* status);

/* ---- sessions ----------------------------------------------------------------------------------- */

typedef struct TFL_Session TFL_Session;
/* Threads: 0 means one per core; inter_op_threads 1 runs nodes one after another (deterministic). */
TFL_CAPI_EXPORT extern TFL_Session* TFL_NewSession(TFL_Graph* g, int inter_op_threads, int intra_op_threads,
                                                   TFL_Status* status);
TFL_CAPI_EXPORT extern TFL_Graph* TFL_SessionGraph(const TFL_Session* s);
/* Later runs fail with TFL_CANCELLED. */
TFL_CAPI_EXPORT extern void TFL_CloseSession(TFL_Session* s, TFL_Status* status);
TFL_CAPI_EXPORT extern void TFL_DeleteSession(TFL_Session* s);
/* Session.run: feeds the tensors, runs what the fetches and targets need, writes one new tensor handle per
 * fetch to fetch_values (NULL entries on failure). feed_values are not consumed. */
TFL_CAPI_EXPORT extern void TFL_SessionRun(TFL_Session* s, const TFL_Output* feeds, TFL_Tensor* const* feed_values,
                                           int nfeeds, const TFL_Output* fetches, TFL_Tensor** fetch_values,
                                           int nfetches, TFL_Operation* const* targets, int ntargets,
                                           TFL_Status* status);

/* Session.make_callable: the feeds, fetches and targets resolved and the plan prepared once. */
typedef struct TFL_Callable TFL_Callable;
TFL_CAPI_EXPORT extern TFL_Callable* TFL_SessionMakeCallable(TFL_Session* s, const TFL_Output* feeds, int nfeeds,
                                                             const TFL_Output* fetches, int nfetches,
                                                             TFL_Operation* const* targets, int ntargets,
                                                             TFL_Status* status);
/* One value per feed in, one new tensor handle per fetch out. */
TFL_CAPI_EXPORT extern void TFL_CallableRun(TFL_Callable* c, TFL_Tensor* const* feed_values,
                                            TFL_Tensor** fetch_values, TFL_Status* status);
TFL_CAPI_EXPORT extern int TFL_CallableNumFeeds(const TFL_Callable* c);
TFL_CAPI_EXPORT extern int TFL_CallableNumFetches(const TFL_Callable* c);
TFL_CAPI_EXPORT extern void TFL_DeleteCallable(TFL_Callable* c);

/* ---- training ----------------------------------------------------------------------------------- */

/* tf.train optimizers, with TensorFlow's update rules (one fused kernel per variable), slot names
 * ("w/Adam", "w/Adam_1", "beta1_power") and defaults. `kind`: "GradientDescent", "Momentum", "Adam",
 * "Adagrad", "RMSProp", "Adadelta", "Ftrl", "ProximalGradientDescent", "ProximalAdagrad", "AdagradDA".
 * Parameters by TensorFlow's argument names: "learning_rate", "momentum", "use_nesterov", "beta1",
 * "beta2", "epsilon", "initial_accumulator_value", "decay", "centered", "rho", "learning_rate_power",
 * "l1_regularization_strength", "l2_regularization_strength", "l2_shrinkage_regularization_strength",
 * "beta", "initial_gradient_squared_accumulator_value" (booleans as 0 / 1). A parameter the optimizer does
 * not take, or a missing required one (a learning rate without default), is a TFL_VALUE_ERROR. `name`
 * (NULL: kind) names its scope and slots. */
typedef struct TFL_Optimizer TFL_Optimizer;
TFL_CAPI_EXPORT extern TFL_Optimizer* TFL_NewOptimizer(const char* kind, const char* const* param_names,
                                                       const double* param_values, int nparams, const char* name,
                                                       TFL_Status* status);
/* A tensor instead of a number for a parameter (a decayed learning rate); AdagradDA's "global_step" (the
 * step variable's VariableV2 output) is given this way. */
TFL_CAPI_EXPORT extern void TFL_OptimizerSetParamTensor(TFL_Optimizer* opt, const char* param, TFL_Output value,
                                                        TFL_Status* status);
TFL_CAPI_EXPORT extern void TFL_DeleteOptimizer(TFL_Optimizer* opt);
/* compute_gradients + apply_gradients. var_list NULL: the graph's trainable variables. global_step: NULL
 * or a variable's VariableV2 node, incremented after the updates. `name`: NULL or
 * the train op's scope. Returns the train op. */
TFL_CAPI_EXPORT extern TFL_Operation* TFL_OptimizerMinimize(TFL_Optimizer* opt, TFL_Output loss,
                                                            TFL_Operation* const* var_list, int nvars,
                                                            TFL_Operation* global_step, const char* name,
                                                            TFL_Status* status);
/* The gradient of loss for each of the n variables (VariableV2 nodes), as tf.gradients with respect to
 * the variables: grads[i].oper is NULL where the loss does not depend on vars[i]. */
TFL_CAPI_EXPORT extern void TFL_OptimizerComputeGradients(TFL_Optimizer* opt, TFL_Output loss,
                                                          TFL_Operation* const* vars, int n, TFL_Output* grads,
                                                          TFL_Status* status);
TFL_CAPI_EXPORT extern TFL_Operation* TFL_OptimizerApplyGradients(TFL_Optimizer* opt, const TFL_Output* grads,
                                                                  TFL_Operation* const* vars, int n,
                                                                  TFL_Operation* global_step, const char* name,
                                                                  TFL_Status* status);
/* A slot variable's VariableV2 node ("m", "v", "momentum", "accumulator"...), NULL when there is none. */
TFL_CAPI_EXPORT extern TFL_Operation* TFL_OptimizerGetSlot(const TFL_Optimizer* opt, const TFL_Operation* var,
                                                           const char* slot_name);

/* ---- checkpoints -------------------------------------------------------------------------------- */

/* tf.train.Saver over safetensors checkpoints. var_list: VariableV2 nodes saved under their names, or
 * NULL for every global variable (for an imported meta graph: what its saver saved). max_to_keep: how
 * many recent checkpoints to keep (0: all). */
typedef struct TFL_Saver TFL_Saver;
TFL_CAPI_EXPORT extern TFL_Saver* TFL_NewSaver(TFL_Graph* g, TFL_Operation* const* var_list, int nvars,
                                               int max_to_keep, TFL_Status* status);
TFL_CAPI_EXPORT extern void TFL_DeleteSaver(TFL_Saver* saver);
/* Writes `save_path[-global_step].safetensors` (global_step < 0: no suffix), the `.meta` graph when
 * write_meta_graph, then the `checkpoint` state file of the directory. Returns the checkpoint prefix,
 * valid until the next call on this saver. */
TFL_CAPI_EXPORT extern const char* TFL_SaverSave(TFL_Saver* saver, TFL_Session* s, const char* save_path,
                                                 int64_t global_step, int write_meta_graph, TFL_Status* status);
/* Assigns every variable of the saver from the checkpoint `save_path` (a prefix), all or nothing. */
TFL_CAPI_EXPORT extern void TFL_SaverRestore(TFL_Saver* saver, TFL_Session* s, const char* save_path,
                                             TFL_Status* status);
/* tf.train.latest_checkpoint: the newest prefix recorded in `dir`/checkpoint whose data file exists,
 * written to buf as TFL_GraphUniqueName does; returns 0 when there is none. */
TFL_CAPI_EXPORT extern size_t TFL_LatestCheckpoint(const char* dir, char* buf, size_t buflen, TFL_Status* status);
/* One tensor of a checkpoint (tf.train.load_variable). */
TFL_CAPI_EXPORT extern TFL_Tensor* TFL_LoadCheckpointTensor(const char* save_path, const char* name,
                                                            TFL_Status* status);

/* ---- TensorBoard -------------------------------------------------------------------------------- */

/* An event file `events.out.tfevents.*` in logdir (created with its parents), written by a background
 * thread and flushed every flush_secs (<= 0: 120), on TFL_EventWriterFlush and on close. */
typedef struct TFL_EventWriter TFL_EventWriter;
TFL_CAPI_EXPORT extern TFL_EventWriter* TFL_NewEventWriter(const char* logdir, double flush_secs,
                                                           TFL_Status* status);
TFL_CAPI_EXPORT extern void TFL_EventWriterAddScalar(TFL_EventWriter* w, const char* tag, double value,
                                                     int64_t step, TFL_Status* status);
/* A serialized Summary protocol buffer (what a summary op of the graph returns). */
TFL_CAPI_EXPORT extern void TFL_EventWriterAddSummary(TFL_EventWriter* w, const void* summary, size_t len,
                                                      int64_t step, TFL_Status* status);
TFL_CAPI_EXPORT extern void TFL_EventWriterAddGraph(TFL_EventWriter* w, const TFL_Graph* g, TFL_Status* status);
TFL_CAPI_EXPORT extern void TFL_EventWriterFlush(TFL_EventWriter* w, TFL_Status* status);
TFL_CAPI_EXPORT extern void TFL_EventWriterClose(TFL_EventWriter* w, TFL_Status* status);
/* The event file's path; valid while w lives. */
TFL_CAPI_EXPORT extern const char* TFL_EventWriterFilename(const TFL_EventWriter* w);
/* Flushes and closes (errors are dropped: close first to see them). */
TFL_CAPI_EXPORT extern void TFL_DeleteEventWriter(TFL_EventWriter* w);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TIDEFLOW_C_API_H_ */
