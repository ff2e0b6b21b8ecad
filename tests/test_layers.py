"""The Python package's layers, read from the source (ast), so the rules hold for every module, imported by
the tests or not, and for imports inside functions too:

- framework/ is the bottom layer: it never imports ops/ or train/ (Note [operators installed by the op
  modules] in framework/ops.py says how Tensor gets its operators anyway);
- no import cycle among tideflow modules (a function-local import does not hide one: it is an edge too);
- a function-local import of a tideflow module is a deliberate lazy load, and says so on its line
  ("lazy") or the line above;
- ops are built through framework/ops.py's apply_op only: no other module calls Graph.create_op or the C++
  graph's add_node (eager execution will run kernels at that one place);
- ARCHITECTURE.md's Notes index lists every `Note [title]` of the code, with the file that defines it.
"""
import ast
import os
import re

import pytest

PKG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python", "tideflow")
PKG = "tideflow"
EXTENSIONS = {"tideflow._core"}  # compiled modules: leaves


def _module_name(path):
    rel = os.path.relpath(path, os.path.dirname(PKG_DIR))[:-len(".py")].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def _modules():
    out = {}
    for folder, _, files in os.walk(PKG_DIR):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                out[_module_name(path)] = path
    return out


MODULES = _modules()
KNOWN = set(MODULES) | EXTENSIONS


def _known(name):
    """The tideflow module `name` refers to (a name inside a module counts as that module), or None."""
    while name and name not in KNOWN:
        name = name.rpartition(".")[0]
    return name or None


class _Import:
    def __init__(self, target, line, local):
        self.target, self.line, self.local = target, line, local


def _imports(mod):
    """Every tideflow module `mod` imports, with the line and whether the import sits inside a function."""
    path = MODULES[mod]
    source = open(path, encoding="utf-8").read()
    tree = ast.parse(source, path)
    is_pkg = path.endswith("__init__.py")
    found = []

    def visit(node, local):
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for a in child.names:
                    if a.name == PKG or a.name.startswith(PKG + "."):
                        found.append(_Import(_known(a.name), child.lineno, inner))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = mod.split(".")
                    if not is_pkg:
                        base = base[:-1]
                    base = base[:len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                    if not (target == PKG or target.startswith(PKG + ".")):
                        continue
                for a in child.names:  # `from . import x` imports the module x when there is one
                    found.append(_Import(_known(target + "." + a.name), child.lineno, inner))
            visit(child, inner)

    visit(tree, False)
    # importlib.import_module("." + name, __name__) (train/__init__'s module list): every string constant
    # naming a submodule of this package counts as an import of it.
    if is_pkg and "import_module" in source:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and mod + "." + node.value in MODULES:
                found.append(_Import(mod + "." + node.value, node.lineno, False))
    return [i for i in found if i.target and i.target != mod], source.splitlines()


IMPORTS = {m: _imports(m) for m in MODULES}
GRAPH = {m: sorted({i.target for i in imps}) for m, (imps, _) in IMPORTS.items()}


def test_the_scan_sees_the_package():
    assert {"tideflow.framework.ops", "tideflow.ops.math_ops", "tideflow.train.saver", "tideflow.summary"} <= set(MODULES)
    assert "tideflow.framework.ops" in GRAPH["tideflow.ops.math_ops"]
    assert "tideflow.train.monitored_session" in GRAPH["tideflow.train"]  # found through import_module


def test_framework_imports_neither_ops_nor_train():
    bad = ["%s:%d imports %s" % (MODULES[m], i.line, i.target)
           for m, (imps, _) in IMPORTS.items() if m.startswith(PKG + ".framework")
           for i in imps if re.match(r"tideflow\.(ops|train)(\.|$)", i.target) or i.target == PKG]
    assert not bad, "framework/ is the bottom layer:\n" + "\n".join(bad)


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_cycle_finder_finds_cycles():
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert _cycles({"a": ["b"], "b": []}) == []


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles among tideflow modules:\n" + "\n".join(
        " <-> ".join(c) + "\n    " + "\n    ".join("%s -> %s" % (m, [t for t in GRAPH[m] if t in c]) for m in c)
        for c in cycles)


def test_function_local_imports_say_they_are_lazy():
    bad = []
    for m, (imps, lines) in IMPORTS.items():
        for i in imps:
            if i.local and not any("lazy" in lines[k].lower() for k in (i.line - 2, i.line - 1) if k >= 0):
                bad.append("%s:%d: %s" % (MODULES[m], i.line, lines[i.line - 1].strip()))
    assert not bad, ("a function-local import of a tideflow module is only for a lazy load, with a comment "
                     "saying so:\n" + "\n".join(bad))


@pytest.mark.parametrize("attr", ["create_op", "add_node"])
def test_ops_are_built_only_through_apply_op(attr):
    users = []
    for m, path in MODULES.items():
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == attr:
                users.append("%s:%d" % (os.path.relpath(path, PKG_DIR), node.lineno))
    # framework/ops.py: apply_op calls Graph.create_op, which alone calls the C++ graph's add_node.
    assert users == ["framework/ops.py:%d" % _line_of("framework/ops.py", "." + attr + "(")], users


def _line_of(rel, text):
    lines = open(os.path.join(PKG_DIR, rel), encoding="utf-8").read().splitlines()
    hits = [k + 1 for k, line in enumerate(lines) if text in line]
    assert len(hits) == 1, (rel, text, hits)
    return hits[0]


# ---- ARCHITECTURE.md's Notes index ----

REPO = os.path.dirname(os.path.dirname(PKG_DIR))


def _notes_in_code():
    """title -> files holding it alone on a line (its definition), at a line's start, anywhere."""
    alone, leading, anywhere = {}, {}, {}
    for top in ("cpp", os.path.join("python", "tideflow"), "cmake"):
        for folder, _, files in os.walk(os.path.join(REPO, top)):
            for f in files:
                if not f.endswith((".cc", ".h", ".py", ".cu", ".cuh", ".cmake")):
                    continue
                path = os.path.join(folder, f)
                rel = os.path.relpath(path, REPO).replace(os.sep, "/")
                for line in open(path, encoding="utf-8"):
                    for m in re.finditer(r"Note \[([^\]]+)\]", line):
                        anywhere.setdefault(m.group(1), set()).add(rel)
                    m = re.match(r"\s*(?://|#)?\s*Note \[([^\]]+)\](.*)$", line)
                    if m:
                        (leading if m.group(2).strip() else alone).setdefault(m.group(1), set()).add(rel)
    return alone, leading, anywhere


def test_architecture_notes_index_is_current():
    text = open(os.path.join(REPO, "ARCHITECTURE.md"), encoding="utf-8").read()
    index = dict(re.findall(r"^\| \[([^\]]+)\] \| (\S+) \|$", text, re.M))
    alone, leading, anywhere = _notes_in_code()
    assert not set(anywhere) - set(index), "Notes missing from ARCHITECTURE.md: %s" % sorted(set(anywhere) - set(index))
    assert not set(index) - set(anywhere), "ARCHITECTURE.md indexes Notes the code no longer has: %s" % sorted(
        set(index) - set(anywhere))
    twice = {t: sorted(f) for t, f in alone.items() if len(f) > 1}
    assert not twice, "Notes defined in more than one file: %s" % twice
    wrong = {t: (f, sorted(alone.get(t) or leading.get(t, ()))) for t, f in index.items()
             if f not in (alone.get(t) or leading.get(t, ()))}
    assert not wrong, "ARCHITECTURE.md names the wrong file (indexed, defined in): %s" % wrong
