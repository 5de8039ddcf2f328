"""One reader of layer outputs on a probe set, shared by every callback and check that needs them.

(Over the ~400-line guide on purpose: the probe forms, the layer selection and the reader are one
contract, what a caller may pass and what every error says; much of the length is messages.)

A *probe* is a fixed set of model inputs: an array, a list of arrays (one per model input), a
dict of arrays keyed by input name, or a ``tf.data.Dataset`` (of inputs or ``(inputs, labels)``
batches). :func:`as_probe` turns any of them into NumPy arrays (subsampled, seeded) and
:class:`ProbeReader` checks them against a model's inputs and returns chosen layers' outputs as
NumPy arrays, in batches, for Sequential, Functional (multi-input too) and subclassed models and
for layers inside nested models.

Example:

>>> import keras, numpy as np
>>> a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
>>> h = keras.layers.Dense(4, name="h")(keras.layers.Concatenate()([a, b]))
>>> model = keras.Model([a, b], keras.layers.Dense(1, name="out")(h))
>>> probe, _ = as_probe([np.ones((5, 3)), np.zeros((5, 2))])
>>> reader = ProbeReader(model, probe, layer_names=["h", "o*"])
>>> {name: out.shape for name, out in reader.read().items()}
{'h': (5, 4), 'out': (5, 1)}
"""

import fnmatch
import numbers
import sys

import keras
import numpy as np

from keras_rg.arguments import check_int, invalid_type

__all__ = ["DEFAULT_BATCH_SIZE", "ProbeReader", "as_probe", "probe_length", "probe_to_config"]

DEFAULT_BATCH_SIZE = 1024
_LIST_KEY = "__inputs__"
_DATASET_POOL = 10  # a Dataset probe is drawn from its first probe_size * _DATASET_POOL samples


def _is_dataset(value):
    # A tf.data.Dataset exists only once TensorFlow is loaded: never import it just to ask.
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(value, tf.data.Dataset)


def _numeric(name, value):
    try:
        arr = np.asarray(value)
    except Exception as err:  # noqa: BLE001 - ragged lists and the like
        raise invalid_type(name, "a numeric array", type(value).__name__) from err
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(
            f"Received an invalid type for `{name}`: expected numeric arrays. Received: {name} "
            f"with dtype {arr.dtype} and shape {arr.shape}"
        )
    if arr.ndim < 1:
        raise ValueError(
            f"Received an invalid value for `{name}`: expected an array with a sample axis. "
            f"Received: {name} with shape {arr.shape}"
        )
    return arr


def _structure(name, value):
    """array -> array; tuple, or list of arrays/tensors, -> list (one per model input), as Keras
    reads ``fit`` inputs; dict -> dict. A nested Python list of numbers is one array."""
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"Received an invalid value for `{name}`: an empty dict.")
        if set(value) == {_LIST_KEY}:  # a list probe as stored by ``probe_to_config``
            return [_numeric(f"{name}[{i}]", v) for i, v in enumerate(value[_LIST_KEY])]
        return {str(k): _numeric(f"{name}[{k!r}]", v) for k, v in value.items()}
    several = isinstance(value, tuple) or (
        isinstance(value, list) and value and all(hasattr(v, "shape") for v in value)
    )
    if several:
        if not value:
            raise ValueError(f"Received an invalid value for `{name}`: an empty tuple.")
        return [_numeric(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return _numeric(name, value)


def _leaves(probe):
    if isinstance(probe, dict):
        return list(probe.values())
    if isinstance(probe, list):
        return list(probe)
    return [probe]


def _map(probe, fn):
    if isinstance(probe, dict):
        return {k: fn(v) for k, v in probe.items()}
    if isinstance(probe, list):
        return [fn(v) for v in probe]
    return fn(probe)


def probe_length(probe):
    """The number of samples of a probe structure (checked equal across its arrays)."""
    lengths = {leaf.shape[0] for leaf in _leaves(probe)}
    if len(lengths) != 1:
        raise ValueError(
            "Received an invalid value for `probe`: expected the same number of samples in every "
            f"input. Received: sample counts {sorted(lengths)}"
        )
    return lengths.pop()


def _concat(parts):
    first = parts[0]
    if isinstance(first, dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in first}
    if isinstance(first, list):
        return [np.concatenate([p[i] for p in parts]) for i in range(len(first))]
    return np.concatenate(parts)


def _from_dataset(dataset, limit):
    inputs, labels, count = [], [], 0
    for element in dataset:
        if isinstance(element, tuple) and len(element) in (2, 3):
            x, y = element[0], element[1]
        else:
            x, y = element, None
        x = _structure("probe", tuple(x) if isinstance(x, list) else x)
        inputs.append(x)
        labels.append(None if y is None else np.asarray(y))
        count += probe_length(x)
        if count >= limit:
            break
    if not inputs:
        raise ValueError(
            "Received an invalid value for `probe`: expected a Dataset that yields batches. "
            "Received: an empty Dataset"
        )
    probe = _concat(inputs)
    y = None if any(b is None for b in labels) else np.concatenate(labels)
    return probe, y


def as_probe(probe, labels=None, *, probe_size=None, seed=0):
    """Probe inputs (and labels) as NumPy arrays, subsampled to ``probe_size`` (seeded).

    Args:
        probe: An array, a list of arrays (one per model input), a dict of arrays keyed by input
            name, or a ``tf.data.Dataset`` of inputs or ``(inputs, labels)`` batches (its first
            ``10 * probe_size`` samples are pooled).
        labels: Labels or targets, one per sample; ``None`` for none. Must be ``None`` for a
            Dataset (its batches carry them).
        probe_size: Keep at most this many samples (drawn without replacement, in order).
            Defaults to None (all).
        seed: Seed of the subsample. Defaults to 0.

    Returns:
        ``(probe, labels)`` with the same structure, NumPy arrays throughout.
    """
    seed = check_int("seed", seed, minimum=0)
    if probe_size is not None:
        probe_size = check_int("probe_size", probe_size, minimum=2)
    if probe is None or isinstance(probe, str | bytes | numbers.Number):
        raise invalid_type(
            "probe", "an array, a list or dict of arrays, or a tf.data.Dataset", probe
        )
    if _is_dataset(probe):
        if labels is not None:
            raise ValueError(
                "Received an invalid value for `labels`: expected None when `probe` is a Dataset "
                f"(its batches carry the labels). Received: labels of type {type(labels).__name__}"
            )
        probe, labels = _from_dataset(probe, (probe_size or 4096) * _DATASET_POOL)
    else:
        probe = _structure("probe", probe)
    n = probe_length(probe)
    if n < 2:
        raise ValueError(
            f"Received an invalid value for `probe`: expected at least 2 samples. Received: {n}"
        )
    if labels is not None:
        labels = _numeric("labels", labels)
        if labels.shape[0] != n:
            raise ValueError(
                f"Received an invalid value for `labels`: expected {n} labels, one per probe "
                f"sample. Received: labels with shape {labels.shape}"
            )
    if probe_size is not None and n > probe_size:
        index = np.sort(np.random.default_rng(seed).choice(n, size=probe_size, replace=False))
        probe = _map(probe, lambda a: a[index])
        labels = None if labels is None else labels[index]
    return probe, labels


def probe_to_config(probe):
    """A JSON-friendly copy of a probe structure (nested lists), for ``get_config``; a list of
    inputs is kept apart from one array as ``{"__inputs__": [...]}``, which ``as_probe`` reads."""
    if isinstance(probe, list):
        return {_LIST_KEY: [a.tolist() for a in probe]}
    return _map(probe, lambda a: a.tolist())


# ---------------------------------------------------------------------------------------------
# layers


def _walk(model, prefix=""):
    """Yields ``(qualified name, layer)`` depth-first; layers of nested models get
    ``"<outer>/<inner>"`` names (and the nested model itself its own name)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        name = prefix + layer.name
        yield name, layer
        if isinstance(layer, keras.Model):
            yield from _walk(layer, name + "/")


def available_layers(model):
    """Qualified names of every layer a probe can read, in model order."""
    return [name for name, _ in _walk(model)]


def resolve_layers(model, layer_names):
    """``[(name, layer)]`` for ``layer_names`` (exact names or fnmatch globs; a nested layer may be
    given by its bare name when that is unique). ``None`` selects every top-level layer.

    Raises:
        ValueError: a name that matches no layer, or a selection that selects nothing; the
            message lists the available names.
    """
    found = list(_walk(model))
    if layer_names is None:
        chosen = [(n, lay) for n, lay in found if "/" not in n]
        if not chosen:
            raise ValueError(f"Model {model.name!r} has no layers to read.")
        return chosen
    names = [n for n, _ in found]
    chosen, seen = [], set()
    for pattern in layer_names:
        hits = [(n, lay) for n, lay in found if n == pattern]
        if not hits:
            hits = [(n, lay) for n, lay in found if n.rsplit("/", 1)[-1] == pattern]
            if len(hits) > 1:
                raise ValueError(
                    f"Received an invalid value for `layer_names`: {pattern!r} names several "
                    f"nested layers {[n for n, _ in hits]}; give the qualified name."
                )
        if not hits and any(c in pattern for c in "*?["):
            hits = [(n, lay) for n, lay in found if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            raise ValueError(
                f"Received an invalid value for `layer_names`: {pattern!r} matches no layer of "
                f"model {model.name!r}. Available: {names}"
            )
        for n, lay in hits:
            if n not in seen:
                seen.add(n)
                chosen.append((n, lay))
    if not chosen:
        raise ValueError(
            f"Received an invalid value for `layer_names`: the selection {list(layer_names)!r} "
            f"selects no layer. Available: {names}"
        )
    return sorted(chosen, key=lambda item: names.index(item[0]))  # model (depth) order


def check_layer_names(layer_names):
    """``None`` or a list of strings (a single string becomes a one-element list)."""
    if layer_names is None:
        return None
    items = [layer_names] if isinstance(layer_names, str) else layer_names
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise invalid_type("layer_names", "None or a list of layer names or fnmatch globs",
                           layer_names)  # fmt: skip
    if not items:
        raise ValueError(
            "Received an invalid value for `layer_names`: an empty list selects nothing; pass "
            "None for every layer."
        )
    return list(items)


# ---------------------------------------------------------------------------------------------
# the reader


def _input_spec(model):
    """``[(name, shape)]`` of a model's symbolic inputs, or None when it has none (subclassed)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    return [(getattr(t, "name", f"input_{i}"), tuple(t.shape)) for i, t in enumerate(inputs)]


def _describe(probe):
    if isinstance(probe, dict):
        return "dict " + str({k: v.shape for k, v in probe.items()})
    if isinstance(probe, list):
        return f"list of {len(probe)} arrays " + str([v.shape for v in probe])
    return f"one array of shape {probe.shape}"


def _shape_fits(expected, shape):
    return len(expected) == len(shape) and all(
        e is None or e == s for e, s in zip(expected[1:], shape[1:], strict=True)
    )


def check_probe(model, probe):
    """Checks a probe structure against the model's symbolic inputs (when it has any) and
    returns it ordered as the model expects (a dict becomes a list in input order)."""
    spec = _input_spec(model)
    if spec is None:
        return probe
    expected = ", ".join(f"{name} {shape}" for name, shape in spec)
    problem = None
    if isinstance(probe, dict):
        names = [name for name, _ in spec]
        if set(probe) != set(names):
            problem = f"keys {sorted(probe)} are not the input names {names}"
        else:
            probe = [probe[name] for name in names]
    leaves = _leaves(probe)
    if problem is None and len(leaves) != len(spec):
        problem = f"{len(leaves)} input array(s) for {len(spec)} model input(s)"
    if problem is None:
        for (name, shape), leaf in zip(spec, leaves, strict=True):
            if not _shape_fits(shape, leaf.shape):
                problem = f"input {name!r} expects shape {shape}, got {leaf.shape}"
                break
    if problem is not None:
        raise ValueError(
            f"Received an invalid value for `probe`: it does not fit model {model.name!r} "
            f"({problem}). Expected inputs: {expected}. Received: {_describe(probe)}"
        )
    return probe if len(spec) > 1 else leaves[0]


class ProbeReader:
    """Reads chosen layers' outputs on a fixed probe set, in batches, as NumPy arrays.

    Layers are returned in depth order: model order for Sequential and Functional models, the
    order of the calls in a forward pass otherwise. Top-level layers of Sequential and
    Functional models are read by one multi-output model
    built on the model's inputs. Otherwise (layers inside nested models, subclassed models)
    each chosen layer's ``call`` is wrapped for the duration of one forward pass of the model
    and records its output; a layer called several times keeps its last call. Layers with
    several outputs (lists, dicts) are skipped unless named explicitly, which raises.

    Args:
        model: A built ``keras.Model``.
        probe: A probe structure from :func:`as_probe` (array, list or dict of arrays).
        layer_names: Exact names or fnmatch globs (nested layers as ``"outer/inner"`` or by a
            unique bare name). Defaults to None: every top-level layer but inputs.
        batch_size: Probe samples per forward call. Defaults to 1024.

    Raises:
        ValueError: the probe does not fit the model's inputs (the message gives the expected
            inputs and what was received), or a layer name matches nothing (it lists the
            available names).
    """

    def __init__(self, model, probe, layer_names=None, *, batch_size=DEFAULT_BATCH_SIZE):
        if not isinstance(model, keras.Model):
            raise invalid_type("model", "a keras.Model", model)
        self.model = model
        self.batch_size = check_int("batch_size", batch_size)
        self.probe = check_probe(model, probe)
        self.n = probe_length(self.probe)
        explicit = layer_names is not None
        chosen = resolve_layers(model, check_layer_names(layer_names))
        self._reader = None
        top_level = all("/" not in name for name, _ in chosen)
        if top_level and _input_spec(model) is not None:
            self._reader, chosen = self._symbolic(chosen, explicit)
        self.layers = chosen
        self.names = [name for name, _ in chosen]
        if self._reader is None:
            self._check_runs()

    def _symbolic(self, chosen, explicit):
        kept, outputs = [], []
        for name, layer in chosen:
            try:
                out = layer.output
            except (AttributeError, ValueError):
                return None, chosen
            if isinstance(out, list | tuple | dict):
                if explicit:
                    raise ValueError(
                        "Received an invalid value for `layer_names`: expected layers with one "
                        f"output. Received: {name!r} with several"
                    )
                continue
            kept.append((name, layer))
            outputs.append(out)
        if not kept:
            raise ValueError(f"Model {self.model.name!r} has no single-output layers to read.")
        inputs = self.model.inputs
        return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs), kept

    def _batches(self):
        for start in range(0, self.n, self.batch_size):
            yield _map(self.probe, lambda a, s=start: a[s : s + self.batch_size])

    def _check_runs(self):
        try:
            self._hooked(_map(self.probe, lambda a: a[:2]), learn_order=True)
        except Exception as err:  # noqa: BLE001 - report what the model said
            raise ValueError(
                f"Received an invalid value for `probe`: model {self.model.name!r} cannot run on "
                f"it ({type(err).__name__}: {str(err)[:300]}). Received: {_describe(self.probe)}"
            ) from err

    def _hooked(self, batch, learn_order=False):
        records = {}
        for name, layer in self.layers:
            original = layer.call

            def recording(*args, _call=original, _name=name, **kwargs):
                out = _call(*args, **kwargs)
                if not isinstance(out, list | tuple | dict):
                    records[_name] = keras.ops.convert_to_numpy(out)
                return out

            object.__setattr__(layer, "call", recording)
        try:
            self.model(batch, training=False)
        finally:
            for _, layer in self.layers:
                object.__delattr__(layer, "call")
        if learn_order:  # the order of the calls is the depth order
            rank = {name: i for i, name in enumerate(records)}
            self.layers = sorted(self.layers, key=lambda item: rank.get(item[0], len(rank)))
            self.names = [name for name, _ in self.layers]
        missing = [name for name in self.names if name not in records]
        if missing:
            raise ValueError(
                f"Layers {missing} were not called (or gave several outputs) in a forward pass of "
                f"model {self.model.name!r}; they cannot be read."
            )
        return [records[name] for name in self.names]

    def read(self, dtype=None):
        """``{layer name: outputs}``, each a NumPy array ``(n, ...)`` over the whole probe."""
        chunks = []
        for batch in self._batches():
            if self._reader is not None:
                out = self._reader(batch, training=False)
                out = out if isinstance(out, list | tuple) else [out]
                chunks.append([keras.ops.convert_to_numpy(o) for o in out])
            else:
                chunks.append(self._hooked(batch))
        result = {}
        for j, name in enumerate(self.names):
            arr = np.concatenate([c[j] for c in chunks])
            result[name] = arr if dtype is None else arr.astype(dtype)
        return result
