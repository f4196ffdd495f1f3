import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createCardfileServer, httpApi, signToken } from '@cardfile/server'
import { createMemoryBackend } from '@cardfile/server/memory'
import { seedDemoWorkspace } from '@cardfile/server/demo'
import { build } from 'esbuild'
import WebSocket from 'ws'
import { createCardfileClient } from '@cardfile/core'
import { afterAll, describe, expect, it } from 'vitest'
import { E2E_TIMEOUT, newContext, poll } from './harness'

const SECRET = 'cross-origin-test-secret'
const closers: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** The README's quick start bundled for the browser, as an app developer's build would. */
async function bundleQuickStart(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./cross-origin/quick-start.tsx', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    jsx: 'automatic',
    conditions: ['source'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/** A site of its own: the page, its bundle, and a backend route that hands out tokens. */
async function startSite(script: string): Promise<{ origin: string }> {
  const token = await signToken({ secret: SECRET, workspace: 'demo', userId: 'ana', role: 'admin' })
  const server: Server = createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    } else if (req.url === '/my-backend/cardfile-token') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(token)
    } else {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><div id="root"></div><script type="module" src="/app.js"></script>')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise((resolve) => server.close(() => resolve())))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

describe('an app on another origin', () => {
  it(
    'runs the README quick start against a server that allows its origin, and not from any other',
    async () => {
      const script = await bundleQuickStart()
      const allowed = await startSite(script)
      const other = await startSite(script)
      const backend = createMemoryBackend()
      const cardfile = await createCardfileServer({
        autoCreateWorkspaces: 'advanced',
        backend,
        auth: { secret: SECRET },
        host: '127.0.0.1',
        httpHandler: httpApi(),
        origins: { origins: [allowed.origin] },
      })
      closers.push(async () => {
        await cardfile.close()
        await backend.close()
      })
      const seed = await seedDemoWorkspace(cardfile.host, { workspace: 'demo' })
      const contactId = seed.contactIds[0]!
      const query = `?server=${encodeURIComponent(cardfile.wsUrl)}&contact=${contactId}`

      const page = await (await newContext()).newPage()
      await page.goto(`${allowed.origin}/${query}`)
      // Documents over the websocket, lists over the HTTP API (a preflighted, authorized fetch).
      await poll(() => page.locator('[data-field]').count()).toBeGreaterThan(0)
      await poll(() => page.getByTestId('vip-count').textContent()).not.toBe('0')
      await poll(() => page.getByTestId('status').textContent()).toBe('Saved')

      // Another agent's edit shows in the open panel: its inputs are controlled, not defaults.
      const agent = createCardfileClient({
        url: cardfile.wsUrl,
        workspace: 'demo',
        token: await signToken({ secret: SECRET, workspace: 'demo', userId: 'ben', role: 'agent' }),
        WebSocket,
        indexedDB: false,
      })
      closers.push(() => agent.destroy())
      const contact = agent.contact(contactId)
      await Promise.all([contact.whenSynced(), contact.schemaHandle.whenSynced()])
      contact.setValue('notes', 'Edited by Ben')
      await poll(() => page.locator('[data-field="notes"] input').inputValue()).toBe(
        'Edited by Ben',
      )

      const refused = await (await newContext()).newPage()
      await refused.goto(`${other.origin}/${query}`)
      // The list's fetch fails its preflight; the websocket upgrade is refused.
      await poll(() => refused.getByTestId('vip-error').count()).toBe(1)
      expect(await refused.locator('[data-field]').count()).toBe(0)
      expect(await refused.textContent('body')).toContain('Loading')
    },
    E2E_TIMEOUT,
  )
})
