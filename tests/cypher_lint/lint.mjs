// Lint Cypher query strings with Neo4j's own parser and semantic analysis.
//
// Protocol (used by tests/_cypher_lint.py):
//   stdin:  a JSON array of query strings.
//   stdout: a JSON array of the same length and order; element i is an array of
//           diagnostics for query i, each
//             {"message": str, "severity": "error"|"warning"|"information"|"hint",
//              "line": int, "column": int}
//           where line and column are 1-based positions of the diagnostic start
//           inside that query string.
//   exit 0 on success; on bad input a message goes to stderr and exit is 2.
//
// Usage: node lint.mjs [--builtins] < queries.json
//
// lintCypherQuery(query, dbSchema, options) is given an empty dbSchema on
// purpose: with no `labels`/`relationshipTypes`, `functions` or `procedures`
// entries, the library skips its "not present in the database" checks for
// labels, functions and procedures. With no `parameters` entry, every `$param`
// is reported as "Parameter $name is not defined." (severity error), which the
// Python side filters out. The Cypher version defaults to CYPHER 5 unless the
// query starts with a `CYPHER 25` / `CYPHER 5` prefix.
//
// With --builtins, the schema instead carries the function and procedure
// registries of the package's own `testData.mockSchema` (a snapshot of a Neo4j
// 5/25 instance with APOC and GDS installed; no labels, properties or
// parameters). Then unknown functions/procedures (e.g. FalkorDB's `vecf32`,
// `db.idx.fulltext.queryNodes`) are reported as errors
// "Function <name> is not present in the database. ..." /
// "Procedure <name> is not present in the database. ...".
//
// Everything runs in one Node process: loading the package (a large Scala.js
// build of Neo4j's front end) takes ~1 s, and linting costs ~10-60 ms per
// query (Neo4j's semantic analysis dominates). Large batches are split over
// worker threads (one per core, at most MAX_THREADS, at least
// MIN_QUERIES_PER_THREAD queries each); each worker loads the package again
// and takes ~250 MB. CYPHER_LINT_MAX_THREADS=1 in the environment disables
// them.

import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const SEVERITY = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

const MAX_THREADS = 4;
const MIN_QUERIES_PER_THREAD = 25;

function parseArgs(argv) {
  const unknown = argv.filter((arg) => arg !== '--builtins');
  if (unknown.length > 0) {
    process.stderr.write(`lint.mjs: unknown arguments: ${unknown.join(' ')}\n`);
    process.exit(2);
  }
  return { builtins: argv.includes('--builtins') };
}

function buildSchema(builtins) {
  if (!builtins) return {};
  const mock = testData?.mockSchema;
  if (!mock?.functions || !mock?.procedures) {
    throw new Error('--builtins needs testData.mockSchema, missing in this package version');
  }
  return { functions: mock.functions, procedures: mock.procedures };
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function toPlainDiagnostic(diagnostic) {
  return {
    message: diagnostic.message,
    severity: SEVERITY[diagnostic.severity] ?? String(diagnostic.severity),
    line: diagnostic.range.start.line + 1,
    column: diagnostic.range.start.character + 1,
  };
}

function lintOne(query, schema) {
  try {
    const { diagnostics } = lintCypherQuery(query, schema, {
      consoleCommandsEnabled: false,
    });
    return diagnostics.map(toPlainDiagnostic);
  } catch (err) {
    // Never let a linter crash pass silently: report it as an error diagnostic.
    return [
      {
        message: `lint.mjs: lintCypherQuery threw: ${err?.stack ?? err}`,
        severity: 'error',
        line: 1,
        column: 1,
      },
    ];
  }
}

function lintInWorker(queries, builtins) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { queries, builtins },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`lint worker exited with code ${code}`));
    });
  });
}

async function lintAll(queries, builtins) {
  const schema = buildSchema(builtins);
  const threads = Math.max(
    1,
    Math.min(
      Number(process.env.CYPHER_LINT_MAX_THREADS) || availableParallelism(),
      MAX_THREADS,
      Math.floor(queries.length / MIN_QUERIES_PER_THREAD),
    ),
  );
  if (threads === 1) return queries.map((q) => lintOne(q, schema));
  const size = Math.ceil(queries.length / threads);
  const chunks = [];
  for (let i = 0; i < queries.length; i += size) chunks.push(queries.slice(i, i + size));
  // Workers take every chunk but the first, which this thread lints meanwhile.
  const pending = chunks.slice(1).map((chunk) => lintInWorker(chunk, builtins));
  const first = chunks[0].map((q) => lintOne(q, schema));
  const rest = await Promise.all(pending);
  return [first, ...rest].flat();
}

async function main() {
  const { builtins } = parseArgs(process.argv.slice(2));
  const raw = await readStdin();
  let queries;
  try {
    queries = JSON.parse(raw);
  } catch (err) {
    process.stderr.write(`lint.mjs: stdin is not valid JSON: ${err.message}\n`);
    process.exit(2);
  }
  if (!Array.isArray(queries) || !queries.every((q) => typeof q === 'string')) {
    process.stderr.write('lint.mjs: stdin must be a JSON array of strings\n');
    process.exit(2);
  }
  const results = await lintAll(queries, builtins);
  process.stdout.write(JSON.stringify(results));
  process.stdout.write('\n');
}

if (isMainThread) {
  await main();
} else {
  const schema = buildSchema(workerData.builtins);
  parentPort.postMessage(workerData.queries.map((q) => lintOne(q, schema)));
}
