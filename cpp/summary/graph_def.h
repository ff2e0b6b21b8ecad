#pragma once
// A Graph as TensorFlow's GraphDef protobuf (tensorflow/core/framework/graph.proto), for TensorBoard's
// graph tab, plus the TensorProto/TensorShapeProto encoders that summaries share.
#include <string>

#include "tensor.h"

namespace tideflow {

class Graph;
namespace pb {
class Writer;
}

// TensorFlow's DataType enum value for a dtype (DT_FLOAT=1, DT_DOUBLE=2, DT_INT32=3, DT_STRING=7,
// DT_INT64=9, DT_BOOL=10).
TF_API int tf_datatype(DType d);

// TensorShapeProto: dims (-1 for unknown) or unknown_rank.
TF_API std::string tensor_shape_proto(const PartialShape& s);
// TensorProto with dtype and shape; the values too when `with_values` (numbers as tensor_content, little
// endian; strings as string_val).
TF_API std::string tensor_proto(const Tensor& t, bool with_values = true);

// Note [GraphDef export]
// Every node becomes a NodeDef: its scoped name (TensorBoard folds "a/b/c" into nested boxes), op type,
// inputs as TensorFlow spells them ("x" for output 0, "x:1", "^ctrl" for control inputs, listed last),
// device, and its attributes. Attributes map onto AttrValue by type; tensor-valued attributes (Const
// values) carry their values only when small (kGraphDefMaxInlineElements), since the graph tab only needs
// dtype and shape and a graph holding every weight would be as large as a checkpoint. Like
// `as_graph_def(add_shapes=True)`, which TensorFlow's FileWriter uses, each node also gets an
// `_output_shapes` list, so the graph tab labels edges with tensor shapes. versions.producer is 27.
constexpr int64_t kGraphDefMaxInlineElements = 16;
TF_API std::string graph_to_graph_def(const Graph& g);

}  // namespace tideflow
