"""Mutation testing for pkgindex's core: plant one realistic bug at a time, run the fast tests.

    python tools/mutate.py                       # every core module, 2 workers
    python tools/mutate.py src/pkgindex/index/render.py --jobs 1 --timeout 60
    python tools/mutate.py --list                # the mutants, without running anything

Mutants are generated from the AST of each module, one change each:

- comparisons: ``==``/``!=``, ``<``/``<=``, ``>``/``>=``, ``in``/``not in``, ``is``/``is not``;
- operators: ``+``/``-``, ``*``/``/``, ``//``/``/``, ``|``/``&``; ``and``/``or``;
  ``not x`` -> ``x``; ``if x`` -> ``if not x``;
- constants: ``True``/``False``, integers ``n`` -> ``n + 1`` (``1`` -> ``0``), short strings ->
  another string;
- dropped statements: a call made for its effect, an assignment into a mapping or attribute,
  ``+=`` and friends, ``raise``, ``continue``, ``break`` (each replaced by ``pass``).

Docstrings, annotations, decorators and logging calls are left alone, as are the texts of error
messages and hints (checked by the tests that assert messages, but not worth a mutant per word).

The tests run once under coverage first (they must pass), which maps every line to the tests
that run it; each mutant then runs only the tests that reach its lines (``-x``: the first
failure kills it). Each worker has its own copy of the repository and a server that has
imported pytest once and forks a fresh child per mutant. A mutant is *killed* when its tests
fail or exceed the per-mutant timeout, *survives* when they pass, and counts as surviving when
no test runs its lines at all. The score is killed / all, per module and overall.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tokenize
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORE = (
    "src/pkgindex/index/distfile.py",
    "src/pkgindex/index/render.py",
    "src/pkgindex/index/catalog.py",
    "src/pkgindex/index/refresh.py",
    "src/pkgindex/index/add.py",
    "src/pkgindex/index/yank.py",
    "src/pkgindex/index/model.py",
    "src/pkgindex/index/pages.py",
    "src/pkgindex/index/scan.py",
    "src/pkgindex/index/scancache.py",
    "src/pkgindex/stores/base.py",
    "src/pkgindex/stores/local.py",
)  # s3.py too can be named on the command line; its tests need the S3 stand-in server
# The fast tests that exercise the core in this process (the command-line tests start a Python
# per run, too slow to run once per mutant; the full suite covers the command line). Fastest
# first: with -x a killed mutant stops at its first failing test.
REFRESH_TESTS = (
    "tests/unit/test_model.py",
    "tests/unit/test_pages.py",
    "tests/unit/test_local_store.py",
    "tests/unit/test_scan.py",
    "tests/unit/test_refresh_parts.py",
    "tests/integration/test_refresh_behaviour.py",
    "tests/integration/test_refresh_properties.py",
    "tests/integration/test_scan_cache.py",
    "tests/unit/test_stores.py",
    "tests/integration/test_stores_local.py",
)
MODULE_TESTS = {
    "src/pkgindex/index/distfile.py": ("tests/unit/test_distfile.py", "tests/unit/test_hostile.py"),
    "src/pkgindex/index/render.py": (
        "tests/unit/test_version_order.py",
        "tests/unit/test_render.py",
        "tests/unit/test_hostile.py",
    ),
    "src/pkgindex/index/model.py": (
        "tests/unit/test_version_order.py",
        "tests/unit/test_render.py",
    ),
    "src/pkgindex/index/catalog.py": (
        "tests/unit/test_catalog.py",
        "tests/unit/test_render.py",
        "tests/unit/test_hostile.py",
        "tests/unit/test_fuzz.py",
    ),
}
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", ".hypothesis", "__pycache__", "*.pyc")

COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
    ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr,
    ast.LShift: ast.RShift, ast.RShift: ast.LShift, ast.Mod: ast.FloorDiv,
}  # fmt: skip
SHORT_STRING = 24  # longer string constants are messages, not data
LOG_NAMES = {"log", "logger", "logging"}


@dataclass(frozen=True, slots=True, order=True)
class Mutant:
    module: str  # path relative to the repository
    number: int  # position among the module's mutation points
    line: int
    end_line: int
    description: str
    text: str = ""  # the source of its lines, stripped: which mutant it is when lines move


@dataclass(frozen=True, slots=True)
class Outcome:
    mutant: Mutant
    status: str  # "killed", "timeout", "survived", "uncovered" (no test runs its lines)
    seconds: float


# --- generating mutants -----------------------------------------------------------------------


def _untouchable(tree: ast.Module) -> set[int]:
    """ids of nodes no mutation may touch: docstrings, annotations, logging, error messages."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(child) for child in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                mark(body[0])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                mark(decorator)  # dataclass options, hook wrappers: declarations, not logic
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            mark(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                mark(arg.annotation)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        elif isinstance(node, ast.Expr) and _is_log_call(node.value):
            mark(node)
        elif isinstance(node, ast.Call) and _is_error_call(node):
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(argument, ast.Constant | ast.JoinedStr | ast.BinOp):
                    mark(argument)  # message texts
        elif isinstance(node, ast.keyword) and node.arg == "hint":
            mark(node.value)
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            mark(node)
        elif isinstance(node, ast.Subscript) and _is_name(node.value, "Literal"):
            mark(node)  # a type, not a value
    return skip


def _is_log_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in LOG_NAMES
    )


def _is_error_call(node: ast.Call) -> bool:
    name = node.func.id if isinstance(node.func, ast.Name) else ""
    return name.endswith(("Error", "Exception"))


def _is_type_checking(node: ast.expr) -> bool:
    return _is_name(node, "TYPE_CHECKING")


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


class _Mutator(ast.NodeTransformer):
    """Walks a module, counting mutation points; changes the one numbered ``target``."""

    def __init__(self, skip: set[int], target: int = -1) -> None:
        self.skip = skip
        self.target = target
        self.count = 0
        self.found: list[tuple[int, int, str]] = []  # (line, end line, description) per point
        self.applied: str | None = None

    def _point(self, node: ast.AST, description: str) -> bool:
        number = self.count
        self.count += 1
        line = getattr(node, "lineno", 0)
        self.found.append((line, getattr(node, "end_lineno", None) or line, description))
        if number == self.target:
            self.applied = description
            return True
        return False

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) in self.skip:
            return node
        result: ast.AST = super().visit(node)
        return result

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for index, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap and self._point(node, f"{_op(op)} -> {_op(swap())}"):
                node.ops[index] = swap()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = BINOP_SWAPS.get(type(node.op))
        if swap and self._point(node, f"{_op(node.op)} -> {_op(swap())}"):
            node.op = swap()
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | None:
        self.generic_visit(node)
        if self._point(node, f"drop `{_short(node)}`"):
            return ast.Pass()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        if self._point(node, f"{_op(node.op)} -> {_op(other)}"):
            node.op = other
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._point(node, f"drop `not` in `{_short(node)}`"):
            return node.operand
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.test, ast.Compare | ast.BoolOp | ast.UnaryOp) and self._point(
            node, f"`if {_short(node.test)}` -> `if not ...`"
        ):
            node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            if self._point(node, f"{value} -> {not value}"):
                return ast.Constant(not value)
        elif isinstance(value, int):
            number = 0 if value == 1 else value + 1
            if self._point(node, f"{value} -> {number}"):
                return ast.Constant(number)
        elif isinstance(value, str) and len(value) <= SHORT_STRING:
            text = "XX" if value == "" else value + "X"
            if self._point(node, f"{value!r} -> {text!r}"):
                return ast.Constant(text)
        return node

    def _drop(self, node: ast.stmt, description: str) -> ast.AST:
        self.generic_visit(node)
        if self._point(node, description):
            return ast.Pass()
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Call):
            return self._drop(node, f"drop `{_short(node)}`")
        self.generic_visit(node)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if any(isinstance(t, ast.Subscript | ast.Attribute) for t in node.targets):
            return self._drop(node, f"drop `{_short(node)}`")
        self.generic_visit(node)
        return node

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        return self._drop(node, f"drop `{_short(node)}`")

    def visit_Continue(self, node: ast.Continue) -> ast.AST:
        return self._drop(node, "drop `continue`")

    def visit_Break(self, node: ast.Break) -> ast.AST:
        return self._drop(node, "drop `break`")


def _op(op: ast.AST) -> str:
    symbols = {
        ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+",
        ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.BitOr: "|",
        ast.BitAnd: "&", ast.LShift: "<<", ast.RShift: ">>", ast.Mod: "%", ast.And: "and",
        ast.Or: "or",
    }  # fmt: skip
    return symbols[type(op)]


def _short(node: ast.AST) -> str:
    text = ast.unparse(node).splitlines()[0]
    return text if len(text) <= 60 else text[:57] + "..."


def mutants_of(module: str) -> list[Mutant]:
    tree = ast.parse((REPO / module).read_text(), module)
    mutator = _Mutator(_untouchable(tree))
    mutator.visit(tree)
    source = (REPO / module).read_text().splitlines()
    return [
        Mutant(
            module=module,
            number=number,
            line=line,
            end_line=end,
            description=description,
            text=" ".join(text.strip() for text in source[line - 1 : end]),
        )
        for number, (line, end, description) in enumerate(mutator.found)
    ]


PRAGMA = re.compile(r"#\s*mutate:\s*skip\s*\((?P<reason>[^)]*\S[^)]*)\)")


def equivalent_lines(module: str) -> dict[int, str]:
    """The lines marked ``# mutate: skip (reason)``: every mutant starting on such a line is
    equivalent (no test can tell it from the original) and is left out of the run and the
    score. A pragma without a reason is an error."""
    found: dict[int, str] = {}
    with (REPO / module).open() as source:
        for token in tokenize.generate_tokens(source.readline):
            if token.type == tokenize.COMMENT and re.match(r"#\s*mutate:", token.string):
                match = PRAGMA.fullmatch(token.string.strip())
                if match is None:
                    raise SystemExit(
                        f"{module}:{token.start[0]}: a mutate pragma reads "
                        "`# mutate: skip (why no test can tell the mutant apart)`"
                    )
                found[token.start[0]] = match["reason"].strip()
    return found


def split_equivalent(mutants: Sequence[Mutant]) -> tuple[list[Mutant], list[tuple[Mutant, str]]]:
    """The mutants to run, and the excluded ones with the reason their line gives."""
    pragmas = {module: equivalent_lines(module) for module in {m.module for m in mutants}}
    kept = [m for m in mutants if m.line not in pragmas[m.module]]
    excluded = [(m, pragmas[m.module][m.line]) for m in mutants if m.line in pragmas[m.module]]
    return kept, excluded


def mutant_keys(mutants: Sequence[Mutant]) -> dict[tuple[str, str, str, int], Mutant]:
    """Each mutant by what it changes: module, description, the text of its lines (and which
    of several identical ones): the same mutant after code above it moved."""
    keys: dict[tuple[str, str, str, int], Mutant] = {}
    for mutant in mutants:
        occurrence = 0
        while (mutant.module, mutant.description, mutant.text, occurrence) in keys:
            occurrence += 1
        keys[(mutant.module, mutant.description, mutant.text, occurrence)] = mutant
    return keys


def mutated_source(mutant: Mutant, source: str) -> str:
    """``source`` (the module as the mutants were listed from it) with the mutant planted."""
    tree = ast.parse(source, mutant.module)
    mutator = _Mutator(_untouchable(tree), target=mutant.number)
    mutated = ast.fix_missing_locations(mutator.visit(tree))
    assert mutator.applied == mutant.description, (mutator.applied, mutant)
    return ast.unparse(mutated) + "\n"


def core_modules(paths: Sequence[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        full = REPO / path
        files = sorted(full.rglob("*.py")) if full.is_dir() else [full]
        found += [str(f.relative_to(REPO)) for f in files if f.read_text().strip()]
    return found


# --- running the tests ------------------------------------------------------------------------


PRELOAD = ("pytest", "_pytest.pytester", "hypothesis", "packaging.version", "packaging.utils",
           "packaging.tags", "packaging.metadata", "packaging.specifiers", "uv", "zipfile",
           "tarfile", "email.parser", "html.parser", "concurrent.futures", "json")  # fmt: skip


def serve() -> None:
    """A worker: import the test machinery once, then fork a fresh child per request.

    Requests are JSON lines on stdin (``{"tests": [...], "timeout": s}``); each answer is a
    JSON line ``{"status": N}`` (``null`` on timeout). pkgindex itself is never imported here,
    so that every child imports the module as it is on disk at that moment: the mutant.
    """
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: run the tests, silently
            if not os.environ.get("MUTATE_VERBOSE"):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            import pytest

            code = pytest.main(request["tests"])
            os._exit(int(code))
        deadline = time.monotonic() + request["timeout"]
        status: int | None = None
        while True:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(wait_status)
                break
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.02)
        print(json.dumps({"status": status}), flush=True)


@dataclass(slots=True)
class Workspace:
    """A private copy of the repository where one mutant at a time is planted, and its
    forking test server."""

    path: Path
    timeout: float
    server: subprocess.Popen[str]

    @classmethod
    def start(cls, path: Path, timeout: float) -> Workspace:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("CI", "PYTHONPATH") and not key.startswith(("PYTEST", "HYPOTHESIS"))
        }
        env.update(PYTHONPATH=str(path / "src"), PYTHONDONTWRITEBYTECODE="1")
        server = subprocess.Popen(
            [sys.executable, str(path / "tools" / "mutate.py"), "--serve"],
            cwd=path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # the server, its children and theirs: one group to kill
        )
        return cls(path=path, timeout=timeout, server=server)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait()
        for stream in (self.server.stdin, self.server.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def run_tests(self, tests: Sequence[str]) -> tuple[int | None, float]:
        """The tests' exit status (None on timeout) and how long they took."""
        assert self.server.stdin is not None and self.server.stdout is not None
        arguments = ["-x", "-q", "-p", "no:cacheprovider", "--hypothesis-profile=mutation"]
        # plugins the server imported ahead cannot be rewritten: harmless, not an error
        arguments += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        started = time.monotonic()
        request = {"tests": [*arguments, *tests], "timeout": self.timeout}
        self.server.stdin.write(json.dumps(request) + "\n")
        self.server.stdin.flush()
        answer = json.loads(self.server.stdout.readline())
        return answer["status"], time.monotonic() - started

    def try_mutant(self, mutant: Mutant, tests: Sequence[str]) -> Outcome:
        if not tests:
            return Outcome(mutant=mutant, status="uncovered", seconds=0.0)
        target = self.path / mutant.module
        original = target.read_text()
        target.write_text(mutated_source(mutant, original))
        try:  # the few fastest tests first; if the mutant survives them, every test
            status, seconds = self.run_tests(tests[:FIRST_TESTS])
            if status == 0 and len(tests) > FIRST_TESTS:
                status, more = self.run_tests(tests)
                seconds += more
        finally:
            target.write_text(original)
        verdict = "timeout" if status is None else ("survived" if status == 0 else "killed")
        return Outcome(mutant=mutant, status=verdict, seconds=round(seconds, 2))


def tests_for(module: str) -> list[str]:
    """The test files for one module: the in-process refresh tests, and the module's own."""
    own = [tests for prefix, tests in MODULE_TESTS.items() if module.startswith(prefix)]
    chosen = [*REFRESH_TESTS, *(t for tests in own for t in tests)]
    return [t for t in dict.fromkeys(chosen) if (REPO / t).exists()]


@contextlib.contextmanager
def workspaces(count: int, timeout: float) -> Iterator[list[Workspace]]:
    with tempfile.TemporaryDirectory(prefix="pkgindex-mutants-") as folder:
        copies: list[Workspace] = []
        try:
            for number in range(count):
                path = Path(folder) / f"w{number}"
                shutil.copytree(REPO, path, ignore=COPY_IGNORE, symlinks=True)
                copies.append(Workspace.start(path, timeout))
            yield copies
        finally:
            for workspace in copies:
                workspace.stop()


COVERAGE_RC = """[run]
dynamic_context = test_function
source = src/pkgindex
"""


Covered = dict[str, dict[int, set[str]]]


def coverage_map(workspace: Path, tests: Sequence[str]) -> tuple[Covered, dict[str, float]]:
    """Run the tests once under coverage: for each core file and line, the tests that ran it
    (as pytest node ids; lines run while importing map to ""), and each test's duration."""
    import xml.etree.ElementTree as ElementTree

    from coverage import CoverageData

    rc = workspace / ".mutate-coveragerc"
    rc.write_text(COVERAGE_RC)
    data_file = workspace / ".mutate-coverage"
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "PYTHONPATH")}
    env.update(PYTHONPATH=str(workspace / "src"), PYTHONDONTWRITEBYTECODE="1")
    command = [
        sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", f"--data-file={data_file}",
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-profile=mutation",
        f"--junitxml={workspace / '.mutate-junit.xml'}", *tests,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"the tests fail without any mutant:\n{result.stdout[-3000:]}")
    data = CoverageData(basename=str(data_file))
    data.read()
    found: dict[str, dict[int, set[str]]] = {}
    for measured in data.measured_files():
        module = str(Path(measured).resolve().relative_to(workspace.resolve()))
        lines = data.contexts_by_lineno(measured)
        found[module] = {line: {_node_id(c) for c in contexts} for line, contexts in lines.items()}
    durations: dict[str, float] = {}
    for case in ElementTree.parse(workspace / ".mutate-junit.xml").iter("testcase"):
        node = _node_id(f"{case.get('classname')}.{case.get('name', '').split('[')[0]}")
        durations[node] = durations.get(node, 0.0) + float(case.get("time") or 0)
    return found, durations


def _node_id(context: str) -> str:
    """``tests.unit.test_x.test_y`` (coverage's test_function context) -> a pytest node id."""
    if not context:
        return ""
    parts = context.split(".")
    for split in range(len(parts) - 1, 0, -1):
        path = Path(*parts[:split]).with_suffix(".py")
        if (REPO / path).is_file():
            return f"{path}::{'::'.join(parts[split:])}"
    return ""


def tests_covering(
    mutant: Mutant, covered: Covered, durations: Mapping[str, float], root: Path = REPO
) -> list[str]:
    """The tests that run the mutant's lines. A line run at import time (a module constant)
    maps to the tests that run the lines using the names it assigns, when those are used in
    its module only; else to the module's whole selection."""
    lines = covered.get(mutant.module, {})
    ids: set[str] = set()
    for line in range(mutant.line, mutant.end_line + 1):
        ids |= lines.get(line, set())
    if "" in ids:
        users = _lines_using_constant(mutant, root)
        if not users:  # read elsewhere (another module, the tests): every test of the module
            return tests_for(mutant.module)
        ids = {test for line in users for test in lines.get(line, set())} - {""}
    return sorted(ids, key=lambda node: (durations.get(node, 60.0), node))  # fastest first


def _lines_using_constant(mutant: Mutant, root: Path) -> list[int] | None:
    """Lines of the module reading the names a module-level assignment at the mutant's line
    sets; None when that is not the case or another module imports one of the names."""
    tree = ast.parse((root / mutant.module).read_text())
    statement = next(
        (s for s in tree.body if s.lineno <= mutant.line <= (s.end_lineno or s.lineno)), None
    )
    if not isinstance(statement, ast.Assign | ast.AnnAssign):
        return None
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    names = {t.id for t in targets if isinstance(t, ast.Name)}
    if not names or len(names) != len(targets):
        return None
    for other in (root / "src").rglob("*.py"):
        if other != root / mutant.module and any(name in other.read_text() for name in names):
            return None  # imported elsewhere: who knows who depends on it
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load)
    ]


def run(
    mutants: Sequence[Mutant],
    jobs: int,
    timeout: float,
    cache: Path | None = None,
    keep: Path | None = None,
) -> list[Outcome]:
    with workspaces(jobs, timeout) as copies:
        every = list(dict.fromkeys(t for m in mutants for t in tests_for(m.module)))
        started = time.monotonic()
        if cache and cache.exists():
            stored = json.loads(cache.read_text())
            covered: Covered = {
                module: {int(line): set(ids) for line, ids in lines.items()}
                for module, lines in stored["covered"].items()
            }
            durations: dict[str, float] = stored["durations"]
        else:
            covered, durations = coverage_map(copies[0].path, every)
            if cache:
                lines = {m: {n: sorted(ids) for n, ids in c.items()} for m, c in covered.items()}
                cache.write_text(json.dumps({"covered": lines, "durations": durations}))
        seconds = time.monotonic() - started
        print(f"baseline: the tests pass ({seconds:.1f} s under coverage)", file=sys.stderr)
        free = list(copies)
        lock = threading.Lock()
        done: list[Outcome] = []

        def one(mutant: Mutant) -> Outcome:
            with lock:
                workspace = free.pop()
            try:
                tests = tests_covering(mutant, covered, durations, workspace.path)
                outcome = workspace.try_mutant(mutant, tests)
            finally:
                with lock:
                    free.append(workspace)
            with lock:
                done.append(outcome)
                if keep:  # as it goes: an interrupted run keeps what it found
                    keep.write_text(json.dumps([asdict(o) for o in done], indent=1) + "\n")
                mark = outcome.status.upper() if outcome.status in SURVIVING else outcome.status
                print(
                    f"[{len(done)}/{len(mutants)}] {mark:9} {mutant.module}:{mutant.line} "
                    f"{mutant.description} ({outcome.seconds:.1f} s)",
                    file=sys.stderr,
                )
            return outcome

        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            return list(pool.map(one, mutants))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


SURVIVING = ("survived", "uncovered")
FIRST_TESTS = 4  # tests tried first on a mutant (the fastest that reach it)


def report(outcomes: Sequence[Outcome], excluded: Sequence[tuple[Mutant, str]] = ()) -> str:
    lines = ["module                                   mutants  killed  survived  score"]
    modules = sorted({o.mutant.module for o in outcomes})
    for module in [*modules, "total"]:
        chosen = [o for o in outcomes if module in ("total", o.mutant.module)]
        killed = sum(o.status not in SURVIVING for o in chosen)
        score = 100 * killed / len(chosen) if chosen else 100.0
        lines.append(
            f"{module:40} {len(chosen):7} {killed:7} {len(chosen) - killed:9} {score:5.1f}%"
        )
    survivors = [o for o in outcomes if o.status in SURVIVING]
    if survivors:
        lines.append("\nsurvivors:")
        lines += [
            f"  {o.mutant.module}:{o.mutant.line}: {o.mutant.description}"
            + (" (no test runs this line)" if o.status == "uncovered" else "")
            for o in survivors
        ]
    if excluded:
        lines.append(f"\nequivalent, not counted ({len(excluded)}, `# mutate: skip`):")
        lines += [f"  {m.module}:{m.line}: {m.description}: {why}" for m, why in excluded]
    return "\n".join(lines)


def sample(mutants: Sequence[Mutant], size: int, seed: int) -> list[Mutant]:
    """``size`` mutants, each module contributing in proportion to its count (seeded)."""
    import random

    chosen: list[Mutant] = []
    modules = sorted({m.module for m in mutants})
    for module in modules:
        own = [m for m in mutants if m.module == module]
        count = max(1, round(size * len(own) / len(mutants)))
        chosen += random.Random(f"{seed}:{module}").sample(own, min(count, len(own)))
    return chosen


def _outcome(item: dict[str, Any]) -> Outcome:
    return Outcome(mutant=Mutant(**item["mutant"]), status=item["status"], seconds=item["seconds"])


def _carried_over(path: Path, mutants: Sequence[Mutant]) -> tuple[list[Outcome], list[Mutant]]:
    """The outcomes of an earlier run that still hold (a mutant it killed, on a line whose
    text is the same), and the mutants to run again: its survivors, and every mutant on a new
    or changed line. A killed mutant is trusted although code elsewhere changed: after large
    changes, a full run is the real measure."""
    earlier = [_outcome(item) for item in json.loads(path.read_text())]
    killed = {
        key: outcome
        for key, outcome in zip(mutant_keys([o.mutant for o in earlier]), earlier, strict=True)
        if outcome.status not in SURVIVING
    }
    carried: list[Outcome] = []
    to_run: list[Mutant] = []
    for key, mutant in mutant_keys(mutants).items():
        before = killed.get(key)
        if before is None:
            to_run.append(mutant)
        else:
            carried.append(Outcome(mutant=mutant, status=before.status, seconds=before.seconds))
    return carried, to_run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", default=CORE, help="files or folders to mutate")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default: 2)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per mutant")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--line", type=int, action="append", help="only mutants on this line")
    parser.add_argument("--json", type=Path, help="also write every outcome to this file")
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="run N mutants drawn evenly from every module (seeded) instead of all",
    )
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (default: 0)")
    parser.add_argument(
        "--coverage-cache",
        type=Path,
        metavar="JSON",
        help="reuse (or keep) the line-to-tests map of the coverage run in this file",
    )
    parser.add_argument(
        "--rerun",
        type=Path,
        metavar="JSON",
        help="run again only the survivors of an earlier --json run (the core must not have "
        "changed since: the mutants are compared); report the combined score",
    )
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up workers and copies
    every = [m for module in core_modules(args.modules) for m in mutants_of(module)]
    mutants, excluded = split_equivalent(every)
    if args.line:
        mutants = [m for m in mutants if m.line in args.line]
        excluded = [(m, why) for m, why in excluded if m.line in args.line]
    if args.list:
        for m in mutants:
            print(f"{m.module}:{m.line}: {m.description}")
        for m, why in excluded:
            print(f"{m.module}:{m.line}: {m.description} [equivalent: {why}]")
        print(f"{len(mutants)} mutants, {len(excluded)} equivalent ones left out", file=sys.stderr)
        return 0
    earlier: list[Outcome] = []
    if args.rerun:
        earlier, mutants = _carried_over(args.rerun, mutants)
    started = time.monotonic()
    if args.sample and args.sample < len(mutants):
        mutants = sample(mutants, args.sample, args.seed)
    outcomes = earlier + run(
        mutants, max(1, args.jobs), args.timeout, args.coverage_cache, args.json
    )
    print(report(outcomes, excluded))
    print(f"\n{len(mutants)} mutants in {time.monotonic() - started:.0f} s, {args.jobs} workers")
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1) + "\n")
    return 0 if all(o.status not in SURVIVING for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
