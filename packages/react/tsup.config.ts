import { readFile, readdir, writeFile } from 'node:fs/promises'
import { defineConfig } from 'tsup'

const USE_CLIENT = "'use client';"
const USE_STRICT = '"use strict";'

/**
 * CommonJS chunks begin with "use strict" and helpers ahead of the banner, where 'use client'
 * is no longer a directive: put it right after "use strict", inside the directive prologue.
 */
async function useClientFirst(): Promise<void> {
  for (const file of await readdir('dist')) {
    if (!file.endsWith('.cjs')) continue
    const path = `dist/${file}`
    const code = await readFile(path, 'utf8')
    if (!code.startsWith(USE_STRICT) || code.startsWith(USE_STRICT + USE_CLIENT)) continue
    await writeFile(path, USE_STRICT + USE_CLIENT + code.slice(USE_STRICT.length))
  }
}

export default defineConfig({
  // The devtools are a separate entry so an app loads them only when it imports them.
  entry: ['src/index.ts', 'src/devtools.tsx'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Shared chunks in both formats: the devtools must use the provider's own React context,
  // not a copy of it.
  splitting: true,
  // Every hook and the provider run in the browser: React Server Components apps must treat
  // this package as client code.
  banner: { js: USE_CLIENT },
  onSuccess: useClientFirst,
})
