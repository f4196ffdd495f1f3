import { defineConfig } from 'tsup'
import type { Plugin } from 'esbuild'

/**
 * What the `cardfile` command leaves to `node_modules`: native or optional peers (the SQLite
 * driver, PostgreSQL, Redis) and ws's optional native helpers. Everything else it runs is
 * bundled into it.
 */
const CLI_EXTERNAL = ['better-sqlite3', 'pg', 'ioredis', 'bufferutil', 'utf-8-validate']

/**
 * The SQLite driver loaded with require() rather than import: it is CommonJS, and Node's ESM
 * loader would first scan its source for export names (a few milliseconds of the start).
 */
const requireSqliteDriver: Plugin = {
  name: 'require-sqlite-driver',
  setup(build) {
    build.onResolve({ filter: /^better-sqlite3$/ }, (args) =>
      args.namespace === 'sqlite-driver'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'sqlite-driver' },
    )
    build.onLoad({ filter: /.*/, namespace: 'sqlite-driver' }, () => ({
      contents: "export default require('better-sqlite3')",
      loader: 'js',
    }))
  },
}

export default defineConfig([
  {
    // The library: its dependencies stay imports, so an application shares one Yjs with it.
    entry: {
      index: 'src/index.ts',
      'demo/index': 'src/demo/index.ts',
      'sqlite/index': 'src/sqlite/index.ts',
      'memory/index': 'src/memory/index.ts',
      'postgres/index': 'src/postgres/index.ts',
      'redis/index': 'src/redis/index.ts',
      // SQLite's commit thread, found beside the module that starts it: sqlite/index, or a
      // chunk at the root of dist.
      'sqlite/sqlite-commit-worker': 'src/storage/sqlite-commit-worker.ts',
      'sqlite-commit-worker': 'src/storage/sqlite-commit-worker.ts',
    },
    // import.meta.url in the CommonJS build (the commit thread's script is found from it).
    shims: true,
    format: ['esm', 'cjs'],
    dts: true,
    // The build script empties dist first: the two builds here run at the same time.
    clean: false,
    sourcemap: true,
    target: 'es2022',
  },
  {
    // The `cardfile` command: a process of its own, so its dependencies (Yjs, lib0, ws, zod,
    // @cardfile/core...) are bundled in: loading a hundred-odd modules through Node's ESM
    // loader, each resolved, read and linked on its own, cost about a third of its start.
    // Optional peers and what each backend loads stay behind dynamic imports, in chunks of
    // their own under dist/cli/.
    entry: {
      cli: 'src/cli.ts',
      // Beside the chunk holding the commit thread's code (the SQLite backend's).
      'cli/sqlite-commit-worker': 'src/storage/sqlite-commit-worker.ts',
    },
    format: ['esm'],
    // better-sqlite3 too, to reach requireSqliteDriver, which leaves it external.
    noExternal: [
      new RegExp(
        `^(?!(${CLI_EXTERNAL.filter((name) => name !== 'better-sqlite3').join('|')})(/|$))`,
      ),
    ],
    external: CLI_EXTERNAL,
    // ws and other CommonJS dependencies call require() for Node's modules.
    banner: {
      js: "import { createRequire as __cardfileCreateRequire } from 'node:module'; const require = __cardfileCreateRequire(import.meta.url);",
    },
    esbuildPlugins: [requireSqliteDriver],
    esbuildOptions(options) {
      options.chunkNames = 'cli/[name]-[hash]'
    },
    dts: false,
    clean: false,
    sourcemap: true,
    target: 'es2022',
  },
])
