import { fileURLToPath } from 'node:url'
import type { UserConfig } from 'vitest/config'

const src = (pkg: string, entry = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${entry}`, import.meta.url))

/**
 * Tests run against the packages' sources (no build needed), the same way the `source`
 * export condition lets TypeScript resolve them.
 */
export const sharedTestConfig: UserConfig = {
  resolve: {
    // Exact names: a prefix alias would turn a subpath entry into a path under index.ts.
    alias: [
      { find: /^@cardfile\/core$/, replacement: src('core') },
      { find: /^@cardfile\/react$/, replacement: src('react') },
      { find: /^@cardfile\/react\/devtools$/, replacement: src('react', 'devtools.tsx') },
      { find: /^@cardfile\/server$/, replacement: src('server') },
      { find: /^@cardfile\/server\/demo$/, replacement: src('server', 'demo/index.ts') },
      { find: /^@cardfile\/server\/sqlite$/, replacement: src('server', 'sqlite/index.ts') },
      { find: /^@cardfile\/server\/memory$/, replacement: src('server', 'memory/index.ts') },
      { find: /^@cardfile\/server\/postgres$/, replacement: src('server', 'postgres/index.ts') },
      { find: /^@cardfile\/server\/redis$/, replacement: src('server', 'redis/index.ts') },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Real servers, CRMs and browsers on a 2-core machine: a busy moment must not fail a poll
    // that would have passed a second later (polls still end as soon as they pass).
    expect: { poll: { timeout: 5_000 } },
  },
}
