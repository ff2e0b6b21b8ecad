"""tf.keras.optimizers: SGD, Adam, RMSprop, Adagrad with Keras's defaults and update rules, learning rates
that may be schedules (evaluated from `iterations` at each step).

Note [keras optimizer kernels]
Each update runs the fused C++ Apply* kernel where its math is Keras's exactly, else a few ops (inside a
compiled training step those ops are part of the one cached plan anyway):
- Adam: Keras computes alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) and var -= alpha * m / (sqrt(v) + eps),
  which is ApplyAdam's "epsilon hat" form (TF1's AdamOptimizer), with Keras's epsilon default 1e-7 instead of
  1e-8; the powers beta^t come from `iterations` (no beta-power variables).
- RMSprop: Keras divides by sqrt(v + eps) (epsilon inside the root), as ApplyRMSProp does; its momentum
  accumulator is ApplyRMSProp's `mom` (zero momentum: mom = the step itself). centered uses
  ApplyCenteredRMSProp.
- SGD: plain SGD is ApplyGradientDescent. Keras's momentum keeps m = momentum * m - lr * g (the learning rate
  inside the accumulator, which differs from ApplyMomentum's when the rate changes), so it is composed.
- Adagrad: Keras divides by sqrt(acc + eps); ApplyAdagrad has no epsilon, so it is composed.
"""
from ... import _core
from ...eager import backprop as _backprop
from ...eager import function as _function
from ...framework import dtypes as _dtypes
from ...framework import ops as _ops
from ...ops import array_ops, gen_ops, math_ops, state_ops
from . import schedules
from .schedules import LearningRateSchedule

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "Adagrad", "schedules", "get", "serialize", "deserialize"]


def _new_variable(value, name, dtype=None):
    """A variable that belongs to the optimizer: made eagerly even while a training step is traced."""
    with _function.init_scope():
        return state_ops.Variable(value, name=name, trainable=False, dtype=dtype)


class Optimizer:
    """Keras's optimizer base: `apply_gradients(zip(grads, vars))`, `minimize(loss, var_list, tape=None)`,
    slots per variable made on first use, `iterations` counting applied steps."""
    _HYPER = ()

    def __init__(self, name, learning_rate=0.001, clipnorm=None, clipvalue=None, global_clipnorm=None, **kwargs):
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        for k in kwargs:
            if k not in ("decay", "use_ema", "ema_momentum", "jit_compile", "weight_decay", "amsgrad"):
                raise TypeError("Unexpected keyword argument passed to optimizer: " + str(k))
        self._name = name
        self._learning_rate = learning_rate
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self._slots = {}  # (variable id, slot name) -> variable
        self._slot_names = []
        self._iterations = None
        self._weights = []

    name = property(lambda self: self._name)

    @property
    def iterations(self):
        if self._iterations is None:
            self._iterations = _new_variable(_ops.convert_to_tensor(0, _dtypes.int64), "iter", _dtypes.int64)
        return self._iterations

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = value
        self._lr_var = None

    lr = learning_rate

    def _decayed_lr(self, dtype):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = lr(self.iterations)
        elif callable(lr):
            lr = lr()
        return math_ops.cast(_ops.convert_to_tensor(lr), dtype)

    # ---- slots ----
    def add_slot(self, var, slot_name, initializer="zeros"):
        key = (_var_key(var), slot_name)
        slot = self._slots.get(key)
        if slot is None:
            if initializer == "zeros":
                init = array_ops.zeros(var.shape, var.dtype)
            else:
                init = array_ops.fill(var.shape.as_list(), _ops.convert_to_tensor(initializer, var.dtype))
            base = var.name.split(":")[0]
            with _function.init_scope():
                slot = state_ops.Variable(init, name="%s/%s/%s" % (self._name, base, slot_name), trainable=False)
            self._slots[key] = slot
            self._weights.append(slot)
        return slot

    def get_slot(self, var, slot_name):
        return self._slots[(_var_key(var), slot_name)]

    def get_slot_names(self):
        return list(self._slot_names)

    def _create_slots(self, var_list):
        pass

    def variables(self):
        return [self.iterations] + list(self._weights)

    def get_weights(self):
        return [v.numpy() for v in self.variables()]

    # ---- updates ----
    def _clip(self, grads):
        from ...ops import clip_ops  # noqa: PLC0415 (lazy: only when clipping is asked for)
        if self.clipvalue is not None:
            grads = [None if g is None else clip_ops.clip_by_value(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            grads = [None if g is None else clip_ops.clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm is not None:
            present = [g for g in grads if g is not None]
            clipped, _ = clip_ops.clip_by_global_norm(present, self.global_clipnorm)
            it = iter(clipped)
            grads = [None if g is None else next(it) for g in grads]
        return grads

    def apply_gradients(self, grads_and_vars, name=None, experimental_aggregate_gradients=True):
        """Applies the gradients (None gradients are skipped) and increments `iterations`."""
        pairs = [(g, v) for g, v in grads_and_vars]
        if not pairs:
            raise ValueError("No variables provided.")
        given = pairs
        pairs = [(g, v) for g, v in pairs if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable: %s." % ([v.name for _, v in given],))
        grads = self._clip([_ops.convert_to_tensor(g) for g, _ in pairs])
        variables = [v for _, v in pairs]
        it = self.iterations
        self._create_slots(variables)
        step = math_ops.cast(it, _dtypes.float32) + 1.0
        updates = []
        lrs = {}
        for g, v in zip(grads, variables):
            dtype = v.dtype.base_dtype
            if dtype not in lrs:
                lrs[dtype] = self._decayed_lr(dtype)
            updates.append(self._apply_dense(g, v, lrs[dtype], math_ops.cast(step, dtype)))
        with _ops.control_dependencies(updates if not _core.executing_eagerly() else None):
            return it.assign_add(_ops.convert_to_tensor(1, _dtypes.int64))

    def minimize(self, loss, var_list, grad_loss=None, name=None, tape=None):
        """loss: a tensor computed under `tape`, or a zero-argument callable (run under a new tape)."""
        if callable(var_list):
            var_list = var_list()
        if callable(loss):
            with _backprop.GradientTape() as tape:
                tape.watch(var_list)
                loss = loss()
        if tape is None:
            raise ValueError("`tape` is required when a `Tensor` loss is passed.")
        grads = tape.gradient(loss, var_list, grad_loss)
        return self.apply_gradients(zip(grads, var_list))

    def _hyper(self, x, dtype):
        return _ops.convert_to_tensor(x, dtype)

    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = schedules.serialize(lr)
        config = {"name": self._name, "learning_rate": lr}
        for k in self._HYPER:
            config[k] = getattr(self, k)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)


def _var_key(var):
    return getattr(var, "_unique_id", None) or id(var)


def _ref(var):
    return var._ref()


class SGD(Optimizer):
    """var -= lr * g; with momentum m = momentum * m - lr * g, var += m (nesterov: var += momentum * m - lr * g)."""
    _HYPER = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        if isinstance(momentum, (int, float)) and not 0 <= momentum <= 1:
            raise ValueError("`momentum` must be between [0, 1].")
        self.momentum, self.nesterov = momentum, nesterov

    def _create_slots(self, var_list):
        if self.momentum:
            self._slot_names = ["momentum"]
            for v in var_list:
                self.add_slot(v, "momentum")

    def _apply_dense(self, g, v, lr, step):
        if not self.momentum:
            return _ops.apply_op("ApplyGradientDescent", [_ref(v), lr, g], {"use_locking": False},
                                 name="ApplyGradientDescent")
        m = self.get_slot(v, "momentum")
        mom = self._hyper(self.momentum, v.dtype.base_dtype)
        m_new = m.assign(mom * m - lr * g)
        if self.nesterov:
            return v.assign_add(mom * m_new - lr * g)
        return v.assign_add(m_new)


class Adam(Optimizer):
    """Adam (Kingma & Ba) as Keras runs it: see Note [keras optimizer kernels]."""
    _HYPER = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, name="Adam",
                 **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        if amsgrad:
            raise NotImplementedError("Adam(amsgrad=True) is not supported")
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def _create_slots(self, var_list):
        self._slot_names = ["m", "v"]
        for v in var_list:
            self.add_slot(v, "m")
        for v in var_list:
            self.add_slot(v, "v")

    def _apply_dense(self, g, v, lr, step):
        dt = v.dtype.base_dtype
        b1, b2 = self._hyper(self.beta_1, dt), self._hyper(self.beta_2, dt)
        b1_power, b2_power = math_ops.pow(b1, step), math_ops.pow(b2, step)
        return _ops.apply_op("ApplyAdam", [_ref(v), _ref(self.get_slot(v, "m")), _ref(self.get_slot(v, "v")),
                                           b1_power, b2_power, lr, b1, b2, self._hyper(self.epsilon, dt), g],
                             {"use_locking": False, "use_nesterov": False}, name="ApplyAdam")


class RMSprop(Optimizer):
    """v = rho * v + (1 - rho) g^2; var -= lr * g / sqrt(v + eps) (through a momentum accumulator when
    momentum > 0; centered subtracts the mean gradient's square)."""
    _HYPER = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, name="RMSprop",
                 **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _create_slots(self, var_list):
        self._slot_names = ["rms", "momentum"] + (["mg"] if self.centered else [])
        for v in var_list:
            self.add_slot(v, "rms")
        for v in var_list:
            self.add_slot(v, "momentum")
        if self.centered:
            for v in var_list:
                self.add_slot(v, "mg")

    def _apply_dense(self, g, v, lr, step):
        dt = v.dtype.base_dtype
        hyper = [lr, self._hyper(self.rho, dt), self._hyper(self.momentum, dt), self._hyper(self.epsilon, dt), g]
        if self.centered:
            return _ops.apply_op("ApplyCenteredRMSProp", [_ref(v), _ref(self.get_slot(v, "mg")),
                                                          _ref(self.get_slot(v, "rms")),
                                                          _ref(self.get_slot(v, "momentum"))] + hyper,
                                 {"use_locking": False}, name="ApplyCenteredRMSProp")
        return _ops.apply_op("ApplyRMSProp", [_ref(v), _ref(self.get_slot(v, "rms")),
                                              _ref(self.get_slot(v, "momentum"))] + hyper,
                             {"use_locking": False}, name="ApplyRMSProp")


class Adagrad(Optimizer):
    """acc += g^2; var -= lr * g / sqrt(acc + eps) (accumulators start at initial_accumulator_value)."""
    _HYPER = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="Adagrad", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        if initial_accumulator_value < 0.0:
            raise ValueError("initial_accumulator_value must be non-negative: %s" % initial_accumulator_value)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _create_slots(self, var_list):
        self._slot_names = ["accumulator"]
        for v in var_list:
            self.add_slot(v, "accumulator", self.initial_accumulator_value)

    def _apply_dense(self, g, v, lr, step):
        acc = self.get_slot(v, "accumulator")
        acc_new = acc.assign_add(gen_ops.square(g))
        return v.assign_sub(lr * g / gen_ops.sqrt(acc_new + self._hyper(self.epsilon, v.dtype.base_dtype)))


_CLASSES = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    cls = _CLASSES.get(config["class_name"].lower())
    if cls is None:
        raise ValueError("Unknown optimizer: %s" % config["class_name"])
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """'adam', 'sgd', 'rmsprop', 'adagrad', a config dict or an optimizer (also a TF1 tf.train optimizer)."""
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower())
        if cls is None:
            raise ValueError("Unknown optimizer: %s" % identifier)
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if hasattr(identifier, "apply_gradients"):
        return identifier
    raise ValueError("Could not interpret optimizer identifier: %s" % (identifier,))
