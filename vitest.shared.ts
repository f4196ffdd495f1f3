import { fileURLToPath } from 'node:url'
import type { UserConfig } from 'vitest/config'

const src = (pkg: string, file = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url))

/**
 * Tests run against the packages' sources (no build needed), the same way the `source`
 * export condition lets TypeScript resolve them.
 */
export const sharedTestConfig: UserConfig = {
  resolve: {
    alias: {
      '@cardfile/core': src('core'),
      // Before '@cardfile/react', which would otherwise match the subpath as a prefix.
      '@cardfile/react/devtools': src('react', 'devtools.tsx'),
      '@cardfile/react': src('react'),
      '@cardfile/server': src('server'),
    },
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
}
