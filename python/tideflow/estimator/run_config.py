"""RunConfig: where an Estimator keeps its checkpoints and how often it saves, summarizes and logs."""
import copy


class TaskType:
    MASTER = "master"
    PS = "ps"
    WORKER = "worker"
    CHIEF = "chief"
    EVALUATOR = "evaluator"


_DEFAULT_SAVE_CHECKPOINTS_SECS = 600
_USE_DEFAULT = object()


class RunConfig:
    """TF 1.x defaults: checkpoints every 600 s unless save_checkpoints_steps is given (both is a
    ValueError), summaries every 100 steps, 5 checkpoints kept, loss logged every 100 steps."""

    def __init__(self, model_dir=None, tf_random_seed=None, save_summary_steps=100,
                 save_checkpoints_steps=_USE_DEFAULT, save_checkpoints_secs=_USE_DEFAULT, session_config=None,
                 keep_checkpoint_max=5, keep_checkpoint_every_n_hours=10000, log_step_count_steps=100,
                 train_distribute=None, device_fn=None, protocol=None, eval_distribute=None,
                 experimental_distribute=None, experimental_max_worker_delay_secs=None,
                 session_creation_timeout_secs=7200):
        if save_checkpoints_steps is _USE_DEFAULT and save_checkpoints_secs is _USE_DEFAULT:
            save_checkpoints_steps, save_checkpoints_secs = None, _DEFAULT_SAVE_CHECKPOINTS_SECS
        elif save_checkpoints_steps is _USE_DEFAULT:
            save_checkpoints_steps = None
        elif save_checkpoints_secs is _USE_DEFAULT:
            save_checkpoints_secs = None
        if save_checkpoints_steps is not None and save_checkpoints_secs is not None:
            raise ValueError("Can not provide both save_checkpoints_steps and save_checkpoints_secs.")
        for name, v in (("save_summary_steps", save_summary_steps), ("save_checkpoints_steps", save_checkpoints_steps),
                        ("save_checkpoints_secs", save_checkpoints_secs), ("keep_checkpoint_max", keep_checkpoint_max),
                        ("log_step_count_steps", log_step_count_steps)):
            if v is not None and v < 0:
                raise ValueError("%s should be >= 0, given: %s" % (name, v))
        if tf_random_seed is not None and not isinstance(tf_random_seed, int):
            raise TypeError("tf_random_seed must be an int, given: %r" % (tf_random_seed,))
        self._model_dir = model_dir
        self._tf_random_seed = tf_random_seed
        self._save_summary_steps = save_summary_steps
        self._save_checkpoints_steps = save_checkpoints_steps
        self._save_checkpoints_secs = save_checkpoints_secs
        self._session_config = session_config
        self._keep_checkpoint_max = keep_checkpoint_max
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._log_step_count_steps = log_step_count_steps
        self._train_distribute = train_distribute
        self._device_fn = device_fn
        self._session_creation_timeout_secs = session_creation_timeout_secs

    model_dir = property(lambda self: self._model_dir)
    tf_random_seed = property(lambda self: self._tf_random_seed)
    save_summary_steps = property(lambda self: self._save_summary_steps)
    save_checkpoints_steps = property(lambda self: self._save_checkpoints_steps)
    save_checkpoints_secs = property(lambda self: self._save_checkpoints_secs)
    session_config = property(lambda self: self._session_config)
    keep_checkpoint_max = property(lambda self: self._keep_checkpoint_max)
    keep_checkpoint_every_n_hours = property(lambda self: self._keep_checkpoint_every_n_hours)
    log_step_count_steps = property(lambda self: self._log_step_count_steps)
    train_distribute = property(lambda self: self._train_distribute)
    device_fn = property(lambda self: self._device_fn)
    session_creation_timeout_secs = property(lambda self: self._session_creation_timeout_secs)
    # A single in-process worker: the cluster properties TF programs read.
    cluster_spec = property(lambda self: None)
    evaluation_master = property(lambda self: "")
    master = property(lambda self: "")
    is_chief = property(lambda self: True)
    num_ps_replicas = property(lambda self: 0)
    num_worker_replicas = property(lambda self: 1)
    task_id = property(lambda self: 0)
    task_type = property(lambda self: TaskType.WORKER)
    global_id_in_cluster = property(lambda self: 0)
    service = property(lambda self: None)

    _REPLACEABLE = ("model_dir", "tf_random_seed", "save_summary_steps", "save_checkpoints_steps",
                    "save_checkpoints_secs", "session_config", "keep_checkpoint_max", "keep_checkpoint_every_n_hours",
                    "log_step_count_steps", "train_distribute", "device_fn", "session_creation_timeout_secs")

    def replace(self, **kwargs):
        """A copy with the given properties changed (only the constructor's own arguments)."""
        for k in kwargs:
            if k not in self._REPLACEABLE:
                raise ValueError("%s is not a valid property to replace" % k)
        new = copy.copy(self)
        if "save_checkpoints_steps" in kwargs and kwargs["save_checkpoints_steps"] is not None and \
                "save_checkpoints_secs" not in kwargs:
            kwargs["save_checkpoints_secs"] = None
        if "save_checkpoints_secs" in kwargs and kwargs["save_checkpoints_secs"] is not None and \
                "save_checkpoints_steps" not in kwargs:
            kwargs["save_checkpoints_steps"] = None
        for k, v in kwargs.items():
            setattr(new, "_" + k, v)
        if new._save_checkpoints_steps is not None and new._save_checkpoints_secs is not None:
            raise ValueError("Can not provide both save_checkpoints_steps and save_checkpoints_secs.")
        return new

    def __repr__(self):
        return "{%s}" % ", ".join("'_%s': %r" % (k, getattr(self, "_" + k)) for k in self._REPLACEABLE)
