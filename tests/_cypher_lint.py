"""Lint Cypher query strings with Neo4j's own parser, for use in tests.

The linting is done by the npm package ``@neo4j-cypher/language-support``
(``lintCypherQuery``: Neo4j's ANTLR grammar plus its Scala.js semantic
analysis), driven by ``tests/cypher_lint/lint.mjs`` under Node. All queries of
one :func:`lint` call are linted by a single Node process, because loading the
package costs about 1 s while linting one query costs about 10-60 ms; so batch
queries into as few calls as possible. Batches of 50+ queries are spread over
worker threads of that process (set ``CYPHER_LINT_MAX_THREADS=1`` to prevent it).

Queries are linted as Cypher 5 unless they start with a ``CYPHER 25`` prefix.
The schema given to the linter is empty, so labels, relationship types,
properties, functions and procedures are never checked against a database; but
every ``$param`` is reported as ``Parameter $param is not defined.``, which
:func:`is_acceptable` lets through. With ``check_builtins=True`` the linter also
knows the functions and procedures of a Neo4j 5/25 instance (with APOC and GDS,
from the package's own test fixture) and reports any other function or procedure
as ``Function <name> is not present in the database. ...`` /
``Procedure <name> is not present in the database. ...``.

Typical use::

    from _cypher_lint import is_acceptable, lint

    for query, diagnostics in zip(queries, lint(queries), strict=True):
        bad = [d for d in diagnostics if not is_acceptable(d)]
        assert not bad, (query, bad)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TypedDict, cast

__all__ = [
    "LINT_DIR",
    "CypherLintError",
    "Diagnostic",
    "ensure_installed",
    "is_acceptable",
    "lint",
]

LINT_DIR = Path(__file__).resolve().parent / "cypher_lint"
"""Directory holding ``package.json``, ``package-lock.json`` and ``lint.mjs``."""

_PACKAGE = "@neo4j-cypher/language-support"
_SCRIPT = LINT_DIR / "lint.mjs"
_INSTALL_TIMEOUT_S = 600.0
# Node startup plus package load, with a wide margin for slow CI machines.
_BASE_TIMEOUT_S = 60.0
# Measured cost is 10-60 ms per query; allow far more.
_PER_QUERY_TIMEOUT_S = 1.0

# "Parameter $id is not defined." / "Parameter $`my id` is not defined."
_PARAM_NOT_DEFINED = re.compile(r"Parameter \$(?:\w+|`(?:[^`]|``)+`) is not defined\.")


class Diagnostic(TypedDict):
    """One diagnostic reported by ``lintCypherQuery`` for one query.

    ``severity`` is ``"error"``, ``"warning"``, ``"information"`` or ``"hint"``
    (an LSP severity number if the package ever reports an unknown one).
    ``line`` and ``column`` are 1-based and locate the start of the problem
    inside the linted query string.
    """

    message: str
    severity: int | str
    line: int
    column: int


class CypherLintError(RuntimeError):
    """Raised when the linter cannot be installed or run, or misbehaves."""


def _pinned_version() -> str:
    """Return the exact package version pinned in ``cypher_lint/package.json``."""
    manifest = json.loads((LINT_DIR / "package.json").read_text(encoding="utf-8"))
    return str(manifest["dependencies"][_PACKAGE])


def _installed_version() -> str | None:
    """Return the installed package version, or None if it is not installed."""
    manifest_path = LINT_DIR / "node_modules" / _PACKAGE / "package.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def _is_installed() -> bool:
    """Tell whether node_modules holds exactly the pinned package version."""
    return _installed_version() == _pinned_version()


def ensure_installed() -> None:
    """Install the linter's npm dependencies unless they already are.

    Runs ``npm ci --no-audit --no-fund`` in ``tests/cypher_lint`` (from the
    committed ``package-lock.json``) when ``node_modules`` is missing or holds
    another version than the one pinned in ``package.json``. Concurrent callers
    (e.g. pytest-xdist workers) are serialised with a file lock.

    Raises:
        CypherLintError: if ``npm`` is not on PATH or ``npm ci`` fails.
    """
    if _is_installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise CypherLintError(
            f"npm is not on PATH: cannot install {_PACKAGE} into {LINT_DIR}/node_modules"
        )
    lock_name = hashlib.sha256(str(LINT_DIR).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"apollonia-cypher-lint-{lock_name}.lock"
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            if _is_installed():  # another process installed it while we waited
                return
            # The pinned version declares engines.node >= 24 but works on Node 20;
            # engine-strict=false keeps a user's npmrc from turning that into an error.
            command = [npm, "ci", "--no-audit", "--no-fund", "--engine-strict=false"]
            try:
                result = subprocess.run(
                    command,
                    cwd=LINT_DIR,
                    capture_output=True,
                    text=True,
                    timeout=_INSTALL_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise CypherLintError(
                    f"{' '.join(command)} timed out after {_INSTALL_TIMEOUT_S:.0f}s"
                ) from exc
            if result.returncode != 0 or not _is_installed():
                raise CypherLintError(
                    f"{' '.join(command)} failed in {LINT_DIR} "
                    f"(exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
                )
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def lint(
    queries: list[str],
    *,
    check_builtins: bool = False,
    timeout: float | None = None,
) -> list[list[Diagnostic]]:
    """Lint Cypher queries with Neo4j's parser in a single Node process.

    Args:
        queries: Cypher query strings; each may hold several ``;``-separated
            statements.
        check_builtins: Also report functions and procedures unknown to Neo4j 5/25
            (with APOC and GDS), e.g. FalkorDB's ``vecf32`` or ``db.idx.*``.
        timeout: Seconds to wait for Node; by default 60 s plus 1 s per query.

    Returns:
        One list of diagnostics per query, in the order of ``queries``.

    Raises:
        CypherLintError: if the linter cannot be installed or run, or its output
            is malformed.
    """
    if not queries:
        return []
    ensure_installed()
    node = shutil.which("node")
    if node is None:
        raise CypherLintError("node is not on PATH: cannot lint Cypher queries")
    command = [node, str(_SCRIPT)]
    if check_builtins:
        command.append("--builtins")
    if timeout is None:
        timeout = _BASE_TIMEOUT_S + _PER_QUERY_TIMEOUT_S * len(queries)
    try:
        result = subprocess.run(
            command,
            cwd=LINT_DIR,
            input=json.dumps(queries),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CypherLintError(
            f"linting {len(queries)} queries timed out after {timeout:.0f}s"
        ) from exc
    if result.returncode != 0:
        raise CypherLintError(f"{_SCRIPT.name} exited with {result.returncode}:\n{result.stderr}")
    try:
        parsed: object = json.loads(result.stdout)
    except ValueError as exc:
        raise CypherLintError(f"{_SCRIPT.name} printed invalid JSON: {result.stdout!r}") from exc
    if not isinstance(parsed, list) or len(parsed) != len(queries):
        raise CypherLintError(
            f"{_SCRIPT.name} returned {parsed!r}, expected a list of {len(queries)} lists"
        )
    for diagnostics in parsed:
        if not isinstance(diagnostics, list) or not all(
            isinstance(d, dict) and isinstance(d.get("message"), str) for d in diagnostics
        ):
            raise CypherLintError(f"{_SCRIPT.name} returned a malformed entry: {diagnostics!r}")
    return cast(list[list[Diagnostic]], parsed)


def is_acceptable(diag: Diagnostic) -> bool:
    """Tell whether a diagnostic may be ignored.

    Only ``Parameter $name is not defined.`` is acceptable: the linter has no
    parameter values, so it reports every ``$param`` the query uses. Everything
    else (syntax errors, semantic errors such as undefined variables,
    deprecation warnings, unknown functions/procedures) is not.
    """
    return _PARAM_NOT_DEFINED.fullmatch(diag["message"]) is not None
