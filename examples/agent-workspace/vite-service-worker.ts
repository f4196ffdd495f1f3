import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { transformWithEsbuild } from 'vite'
import type { Plugin } from 'vite'

const SOURCE = fileURLToPath(new URL('./src/service-worker.ts', import.meta.url))

/**
 * Emits `src/service-worker.ts` as `/sw.js` at the root of the build, with the list of built
 * files to precache. A worker's scope is its folder, so it must sit at the root (not under
 * `assets/`), and it must not carry a content hash: the page registers it by a fixed name and
 * the browser checks that name for updates (`cardfile serve --static` answers it with
 * `no-cache`, so updates are seen at once).
 */
export function serviceWorker(): Plugin {
  return {
    name: 'cardfile-service-worker',
    apply: 'build',
    // After Vite's HTML plugin, so index.html is in the bundle to be listed.
    enforce: 'post',
    async generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((name) => !name.endsWith('.map'))
        .map((name) => `/${name}`)
        .sort()
      const precache = ['/', ...files]
      const version = createHash('sha256').update(precache.join('\n')).digest('hex').slice(0, 12)
      const source = readFileSync(SOURCE, 'utf8')
      const { code } = await transformWithEsbuild(source, SOURCE, {
        loader: 'ts',
        format: 'iife',
        target: 'es2020',
        minify: true,
        define: { PRECACHE: JSON.stringify(precache), VERSION: JSON.stringify(version) },
      })
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: code })
    },
  }
}
