import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Tests what we publish: plain Node (no vitest aliases, no `source` condition) loads each
 * package's built ESM and CJS entry through its `exports` map, and the public names are there.
 * turbo builds the packages before this package's tests (they are its dev dependencies).
 */
const root = fileURLToPath(new URL('../..', import.meta.url))

const expected: Record<string, readonly string[]> = {
  '@cardfile/core': [
    'SchemaDoc',
    'ContactDoc',
    'authorizeChanges',
    'createCardfileClient',
    'ErrorCodes',
  ],
  '@cardfile/react': ['CardfileProvider', 'useContact', 'useAttributes', 'useVip', 'useExport'],
  '@cardfile/server': ['createCardfileServer', 'cardfileExtensions', 'httpApi', 'signToken'],
  '@cardfile/server/sqlite': ['createSqliteBackend'],
  '@cardfile/server/memory': ['createMemoryBackend'],
  '@cardfile/server/postgres': ['createPostgresBackend'],
  '@cardfile/server/redis': ['createRedisCoordination'],
  '@cardfile/server/demo': ['seedDemoWorkspace', 'DEMO_USERS'],
}

const run = (code: string, type: 'module' | 'commonjs'): string =>
  execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], {
    cwd: root,
    encoding: 'utf8',
  })

describe('the built packages', () => {
  it('loads the server root entry without the native SQLite module', () => {
    const out = run(
      `await import('@cardfile/server')
       const { createRequire } = await import('node:module')
       const cache = createRequire(process.cwd() + '/').cache
       console.log(JSON.stringify(Object.keys(cache).some((p) => p.includes('better-sqlite3'))))`,
      'module',
    )
    expect(JSON.parse(out)).toBe(false)
    const withSqlite = run(
      `await import('@cardfile/server/sqlite')
       const { createRequire } = await import('node:module')
       const cache = createRequire(process.cwd() + '/').cache
       console.log(JSON.stringify(Object.keys(cache).some((p) => p.includes('better-sqlite3'))))`,
      'module',
    )
    expect(JSON.parse(withSqlite)).toBe(true)
  })

  it('commits on the SQLite commit thread from the built ESM and CommonJS entries', () => {
    // Appends until one is committed off the main thread (the thread opens in the background).
    const body = (load: string) => `
      const { createSqliteBackend } = ${load}
      const { mkdtempSync, rmSync } = require('node:fs')
      const dir = mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'cf-pub-'))
      const Y = require('yjs')
      ;(async () => {
        const backend = createSqliteBackend({ path: dir + '/x.db' })
        for (let i = 0; i < 5000 && backend.stats().offThreadCommits === 0; i++) {
          const doc = new Y.Doc()
          doc.getMap('m').set('k', i)
          await backend.documents.append('w1/contact/c1', Y.encodeStateAsUpdate(doc))
        }
        console.log(JSON.stringify(backend.stats().offThreadCommits))
        await backend.close()
        rmSync(dir, { recursive: true, force: true })
      })()`
    const esm = run(
      `import { createRequire } from 'node:module'
       const require = createRequire(process.cwd() + '/')
       ${body("await import('@cardfile/server/sqlite')")}`,
      'module',
    )
    expect(JSON.parse(esm)).toBeGreaterThan(0)
    const cjs = run(body("require('@cardfile/server/sqlite')"), 'commonjs')
    expect(JSON.parse(cjs)).toBeGreaterThan(0)
    // A V8 flag on the process (as the benchmark's --expose-gc) is no reason to fail the thread.
    const withGc = execFileSync(
      process.execPath,
      ['--expose-gc', '-e', body("require('@cardfile/server/sqlite')")],
      { cwd: root, encoding: 'utf8' },
    )
    expect(JSON.parse(withGc)).toBeGreaterThan(0)
  })

  it('closes a SQLite backend opened a moment ago, before its commit thread is up', () => {
    // Nothing else keeps the process alive: a close that only waited for the thread would hang.
    const out = run(
      `const { mkdtempSync, rmSync } = await import('node:fs')
       const { join } = await import('node:path')
       const { tmpdir } = await import('node:os')
       const { createSqliteBackend } = await import('@cardfile/server/sqlite')
       const dir = mkdtempSync(join(tmpdir(), 'cf-pub-'))
       await createSqliteBackend({ path: join(dir, 'x.db') }).close()
       rmSync(dir, { recursive: true, force: true })
       console.log(JSON.stringify('closed'))`,
      'module',
    )
    expect(JSON.parse(out)).toBe('closed')
  })

  it('keeps demo seeding out of the server root entry', () => {
    const out = run(
      `const m = await import('@cardfile/server'); console.log(JSON.stringify(Object.keys(m)))`,
      'module',
    )
    expect(JSON.parse(out)).not.toContain('seedDemoWorkspace')
    expect(JSON.parse(out)).not.toContain('DEMO_USERS')
  })

  for (const [name, names] of Object.entries(expected)) {
    it(`${name} loads as ESM with its public names`, () => {
      const out = run(
        `const m = await import('${name}'); console.log(JSON.stringify(Object.keys(m)))`,
        'module',
      )
      expect(JSON.parse(out)).toEqual(expect.arrayContaining([...names]))
    })

    it(`${name} loads as CommonJS with its public names`, () => {
      const out = run(`console.log(JSON.stringify(Object.keys(require('${name}'))))`, 'commonjs')
      expect(JSON.parse(out)).toEqual(expect.arrayContaining([...names]))
    })
  }

  it('ships the cardfile CLI, which mints a development token', () => {
    const cli = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url))
    const args = ['token', '--workspace', 'demo', '--role', 'agent', '--user', 'ben']
    const token = execFileSync(process.execPath, [cli, ...args, '--secret', 's'.repeat(32)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim()
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
    expect(payload).toMatchObject({ sub: 'ben', workspace: 'demo', role: 'agent' })
  })
})
