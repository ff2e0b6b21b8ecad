"""tf.feature_column (TF 1.x), the dense part: numeric_column and input_layer, which the premade
Estimators (estimator/canned.py) read their features through. Categorical and embedding columns are not
here yet."""
import collections

from .framework import dtypes as _dtypes
from .framework import ops as _ops
from .ops import array_ops, math_ops
from .ops import variable_scope as _vs

__all__ = ["numeric_column", "input_layer"]


class NumericColumn(collections.namedtuple("NumericColumn",
                                           ["key", "shape", "default_value", "dtype", "normalizer_fn"])):
    """A dense feature `features[key]` of shape `shape` per example, read as float32."""

    @property
    def name(self):
        return self.key

    @property
    def _var_scope_name(self):
        return self.key

    @property
    def _num_elements(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def _dense_tensor(self, features):
        if self.key not in features:
            raise ValueError("The feature %r is not in features dictionary." % self.key)
        t = _ops.convert_to_tensor(features[self.key])
        if not t.dtype.is_floating and not t.dtype.is_integer:
            raise ValueError("Column dtype and SparseTensors dtype must be compatible. key: %s, column dtype: %s, "
                             "tensor dtype: %s" % (self.key, self.dtype, t.dtype))
        t = math_ops.cast(t, _dtypes.float32)
        if self.normalizer_fn is not None:
            t = self.normalizer_fn(t)
        if t.shape.ndims == 1 and self.shape == (1,):
            t = array_ops.expand_dims(t, -1)
        return array_ops.reshape(t, [-1, self._num_elements])


def numeric_column(key, shape=(1,), default_value=None, dtype=_dtypes.float32, normalizer_fn=None):
    """A column of real values (TF's checks: string key, positive integer shape, float or integer dtype)."""
    if not isinstance(key, str):
        raise ValueError("key must be a string. Given: {}".format(key))
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(shape)
    for d in shape:
        if not isinstance(d, int) or d < 1:
            raise ValueError("shape dimensions must be greater than 0. shape: {}, key: {}".format(shape, key))
    dtype = _dtypes.as_dtype(dtype)
    if not (dtype.is_integer or dtype.is_floating):
        raise ValueError("dtype must be convertible to float. dtype: {}, key: {}".format(dtype, key))
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError("normalizer_fn must be a callable. Given: {}".format(normalizer_fn))
    return NumericColumn(key, shape, default_value, dtype, normalizer_fn)


def _check_columns(feature_columns):
    if isinstance(feature_columns, NumericColumn):
        feature_columns = [feature_columns]
    feature_columns = list(feature_columns)
    if not feature_columns:
        raise ValueError("feature_columns must not be empty.")
    for c in feature_columns:
        if not isinstance(c, NumericColumn):
            raise ValueError("Items of feature_columns must be a _DenseColumn. You can wrap a categorical column "
                             "with an embedding_column or indicator_column. Given: {}".format(c))
    names = [c.name for c in feature_columns]
    if len(set(names)) != len(names):
        raise ValueError("Duplicate feature column name found: %s" % names)
    return sorted(feature_columns, key=lambda c: c.name)  # TF orders columns by name


def input_layer(features, feature_columns, weight_collections=None, trainable=True, cols_to_vars=None):
    """The columns' dense tensors, [batch, n_i] each, concatenated along axis 1 in column-name order."""
    columns = _check_columns(feature_columns)
    with _vs.variable_scope(None, default_name="input_layer", values=list(features.values())):
        outputs = []
        for c in columns:
            with _vs.variable_scope(None, default_name=c._var_scope_name):
                outputs.append(c._dense_tensor(features))
        return array_ops.concat(outputs, 1)
