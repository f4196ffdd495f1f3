import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'demo/index': 'src/demo/index.ts',
    'sqlite/index': 'src/sqlite/index.ts',
    'memory/index': 'src/memory/index.ts',
    'postgres/index': 'src/postgres/index.ts',
    'redis/index': 'src/redis/index.ts',
    // SQLite's commit thread, found beside the bundle that starts it: sqlite/index and cli.
    'sqlite/sqlite-commit-worker': 'src/storage/sqlite-commit-worker.ts',
    'sqlite-commit-worker': 'src/storage/sqlite-commit-worker.ts',
  },
  // import.meta.url in the CommonJS build (the commit thread's script is found from it).
  shims: true,
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
})
