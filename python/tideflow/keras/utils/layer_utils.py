"""Model.summary(): the table tf_keras (Keras 2) prints, column widths, wrapping and byte counts alike."""
import numpy as np


__all__ = ["print_summary", "count_params", "readable_memory_size"]


def count_params(weights):
    unique = {id(w): w for w in weights}.values()
    return int(sum(np.prod(w.shape.as_list()) for w in unique))


def weight_memory_size(weights):
    total = 0
    for w in {id(w): w for w in weights}.values():
        shape = w.shape.as_list()
        if None in shape:
            continue
        total += int(np.prod(shape)) * np.dtype(w.dtype.as_numpy_dtype).itemsize
    return total


def readable_memory_size(size):
    for unit in ["Byte", "KB", "MB", "GB", "TB", "PB"]:
        if size / 1024 < 1:
            return "{:.2f} {}".format(size, unit)
        size /= 1024
    return "{:.2f} {}".format(size, "PB")


def _sequential_like(model):
    if type(model).__name__ == "Sequential" or not getattr(model, "_is_graph_network", False):
        return True
    nodes = [n for n in model._network_nodes]
    for n in nodes:
        if len(n.input_tensors) > 1:
            return False
    # A chain: every node feeds at most one other node, one node per depth.
    consumers = {}
    for n in nodes:
        for inbound in n.inbound:
            consumers.setdefault((id(inbound[0]), inbound[1]), []).append(n)
    if any(len(v) > 1 for v in consumers.values()):
        return False
    for layer in model.layers:
        if sum(1 for n in layer._inbound_nodes if any(n is m for m in nodes)) > 1:
            return False
    return True


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False):
    print_fn = print_fn or print
    sequential_like = _sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        to_display = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.3, 0.6, 0.70, 1.0]
        to_display = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        relevant_nodes = list(model._network_nodes)
    positions = list(positions)
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions.append(line_length)
        to_display.append("Trainable")

    def print_row(fields):
        left = [str(x) for x in fields]
        while any(left):
            line = ""
            for col in range(len(left)):
                start = positions[col - 1] if col > 0 else 0
                end = positions[col]
                space = 2 if col != len(positions) - 1 else 0
                cutoff = end - start - space
                if col != len(positions) - 1:
                    cutoff -= 1
                fit = left[col][:cutoff]
                candidates = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
                if candidates:
                    cutoff = min(candidates)
                    fit = fit[:cutoff]
                if col == 0:
                    line += " "
                line += fit
                line += " " * space if space else ""
                left[col] = left[col][cutoff:]
                line += " " * (positions[col] - len(line))
            print_fn(line)

    print_fn('Model: "%s"' % model.name)
    print_fn("_" * line_length)
    print_row(to_display)
    print_fn("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        try:
            output_shape = layer.output_shape
        except AttributeError:
            output_shape = "multiple"
        if type(layer).__name__ == "InputLayer":
            output_shape = [tuple(layer._batch_input_shape)]
        name, cls_name = layer.name, type(layer).__name__
        if not layer.built and not getattr(layer, "_is_graph_network", False):
            params = "0 (unused)"
        else:
            params = layer.count_params()
        fields = [name + " (" + cls_name + ")", output_shape, params]
        if not sequential_like:
            connections = []
            for node in layer._inbound_nodes:
                if not any(node is n for n in relevant_nodes):
                    continue
                for inbound_layer, node_index, tensor_index, _ in node.iterate_inbound():
                    connections.append("%s[%d][%d]" % (inbound_layer.name, node_index, tensor_index))
            fields.append(connections)
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        print_row(fields)
        print_fn(" " * line_length)
    print_fn("=" * line_length)
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    tc, nc = count_params(trainable), count_params(non_trainable)
    tm, nm = weight_memory_size(trainable), weight_memory_size(non_trainable)
    print_fn("Total params: %d (%s)" % (tc + nc, readable_memory_size(tm + nm)))
    print_fn("Trainable params: %d (%s)" % (tc, readable_memory_size(tm)))
    print_fn("Non-trainable params: %d (%s)" % (nc, readable_memory_size(nm)))
    print_fn("_" * line_length)
