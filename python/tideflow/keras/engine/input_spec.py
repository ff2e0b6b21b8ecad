"""InputSpec: what a layer accepts (rank, dtype, known axes), checked by Layer.__call__ with Keras's errors."""
from ...framework import dtypes as _dtypes
from ...util import nest

__all__ = ["InputSpec", "assert_input_compatibility"]


class InputSpec:
    """Constraints on a layer input: dtype, exact shape, ndim / max_ndim / min_ndim, and `axes`
    ({axis: size}) for dims whose size must match."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = None if dtype is None else _dtypes.as_dtype(dtype).name
        if shape is not None:
            self.ndim = len(shape)
            self.shape = tuple(shape)
        else:
            self.ndim = ndim
            self.shape = None
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        max_dim = (self.ndim - 1) if self.ndim is not None else (self.max_ndim or 0) - 1
        if self.axes and (self.ndim is not None or self.max_ndim is not None) and max(self.axes) > max_dim:
            raise ValueError("Axis {} is greater than the maximum allowed value: {}".format(max(self.axes), max_dim))

    def __repr__(self):
        spec = [("dtype=" + str(self.dtype)) if self.dtype else "",
                ("shape=" + str(self.shape)) if self.shape else "",
                ("ndim=" + str(self.ndim)) if self.ndim else "",
                ("max_ndim=" + str(self.max_ndim)) if self.max_ndim else "",
                ("min_ndim=" + str(self.min_ndim)) if self.min_ndim else "",
                ("axes=" + str(self.axes)) if self.axes else ""]
        return "InputSpec(%s)" % ", ".join(x for x in spec if x)

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes}


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raises Keras's ValueError when `inputs` break `input_spec` (a spec or a list of specs)."""
    if not input_spec:
        return
    specs = nest.flatten(input_spec)
    inputs = nest.flatten(inputs)
    for x in inputs:
        if not hasattr(x, "shape"):
            raise TypeError("Inputs to a layer should be tensors. Got: %s" % (x,))
    if len(inputs) != len(specs):
        raise ValueError("Layer " + layer_name + " expects " + str(len(specs)) + " inputs, but it received "
                         + str(len(inputs)) + " input tensors. Inputs received: " + str(inputs))
    for index, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None:
            continue
        where = "Input " + str(index) + " of layer " + layer_name + " is incompatible with the layer: "
        ndim = x.shape.ndims
        if (spec.ndim is not None or spec.min_ndim is not None or spec.max_ndim is not None) and ndim is None:
            raise ValueError(where + "its rank is undefined, but the layer requires a defined rank.")
        if spec.ndim is not None and ndim != spec.ndim:
            raise ValueError(where + "expected ndim=" + str(spec.ndim) + ", found ndim=" + str(ndim)
                             + ". Full shape received: " + str(x.shape.as_list()))
        if spec.max_ndim is not None and ndim is not None and ndim > spec.max_ndim:
            raise ValueError(where + "expected max_ndim=" + str(spec.max_ndim) + ", found ndim=" + str(ndim))
        if spec.min_ndim is not None and ndim is not None and ndim < spec.min_ndim:
            raise ValueError(where + ": expected min_ndim=" + str(spec.min_ndim) + ", found ndim=" + str(ndim)
                             + ". Full shape received: " + str(x.shape.as_list()))
        if spec.dtype is not None and x.dtype.base_dtype.name != spec.dtype:
            raise ValueError(where + "expected dtype=" + str(spec.dtype) + ", found dtype=" + str(x.dtype))
        if spec.axes and ndim is not None:
            dims = x.shape.as_list()
            for axis, value in spec.axes.items():
                value = getattr(value, "value", value)
                if value is not None and dims[int(axis)] not in (value, None):
                    raise ValueError("Input " + str(index) + " of layer " + layer_name + " is incompatible with the "
                                     "layer: expected axis " + str(axis) + " of input shape to have value "
                                     + str(value) + " but received input with shape " + str(x.shape))
        if spec.shape is not None and ndim is not None:
            for spec_dim, dim in zip(spec.shape, x.shape.as_list()):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    raise ValueError("Input " + str(index) + " is incompatible with layer " + layer_name
                                     + ": expected shape=" + str(spec.shape) + ", found shape=" + str(x.shape))
