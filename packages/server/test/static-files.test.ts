import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { httpApi } from '../src/http/create-http-api'
import { contentSecurityPolicy } from '../src/http/security-headers'
import { contentTypeOf, withStaticFiles } from '../src/http/static-files'
import { createCardfileServer } from '../src/server'
import { createMemoryBackend } from '../src/storage/memory-backend'

const SECRET = 'static-files-test-secret'
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const INDEX = '<!doctype html><title>Agent workspace</title><div id="root"></div>'
const SECRET_TEXT = 'outside the served folder'

/** A built app in a temp folder (with a secret file beside it) served by a real server. */
async function startServer(): Promise<{ port: number; root: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cardfile-static-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const root = join(dir, 'dist')
  mkdirSync(join(root, 'assets'), { recursive: true })
  writeFileSync(join(root, 'index.html'), INDEX)
  writeFileSync(join(root, 'assets', 'app-1a2b3c.js'), 'console.log("app")')
  writeFileSync(join(root, 'assets', 'app-1a2b3c.css'), 'body{margin:0}')
  writeFileSync(join(root, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  writeFileSync(join(dir, 'secret.txt'), SECRET_TEXT)
  symlinkSync(join(dir, 'secret.txt'), join(root, 'leak.txt'))
  const backend = createMemoryBackend()
  cleanups.push(() => backend.close())
  const server = await createCardfileServer({
    autoCreateWorkspaces: 'advanced',
    backend,
    auth: { secret: SECRET },
    port: 0,
    host: '127.0.0.1',
    httpHandler: withStaticFiles(httpApi({ onError: () => {} }), { root }),
  })
  cleanups.push(() => server.close())
  return { port: server.port, root }
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** A raw request: the path is sent exactly as given (fetch would normalise `..` away). */
function get(
  port: number,
  path: string,
  options: { method?: string; accept?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.accept === undefined ? {} : { accept: options.accept },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

describe('security headers', () => {
  it('confines the page: CSP with same-origin websockets, no framing, nosniff, a referrer policy', async () => {
    const { port } = await startServer()
    for (const path of ['/', '/assets/app-1a2b3c.js', '/inbox/conversation-42']) {
      const answer = await get(port, path)
      expect(answer.status).toBe(200)
      const csp = String(answer.headers['content-security-policy'])
      const directives = new Map(
        csp.split(';').map((d) => {
          const [name = '', ...values] = d.trim().split(/\s+/)
          return [name, values] as const
        }),
      )
      expect(directives.get('default-src')).toEqual(["'self'"])
      expect(directives.get('script-src')).toEqual(["'self'"])
      expect(directives.get('frame-ancestors')).toEqual(["'none'"])
      expect(directives.get('connect-src')).toEqual([
        "'self'",
        `ws://127.0.0.1:${port}`,
        `wss://127.0.0.1:${port}`,
      ])
      expect(answer.headers['x-frame-options']).toBe('DENY')
      expect(answer.headers['x-content-type-options']).toBe('nosniff')
      expect(answer.headers['referrer-policy']).toBe('strict-origin-when-cross-origin')
    }
  })

  it('quotes no Host header in the policy that could widen it', () => {
    for (const host of ['evil.example; script-src *', 'a b', '*', undefined]) {
      expect(contentSecurityPolicy(host)).toContain("connect-src 'self';")
    }
    expect(contentSecurityPolicy('[::1]:8080')).toContain('ws://[::1]:8080 wss://[::1]:8080')
  })

  it('sends nosniff on API JSON, metrics and the JSON 404', async () => {
    const { port } = await startServer()
    for (const path of ['/healthz', '/metrics', '/api/nothing-here', '/api/demo/contacts']) {
      const answer = await get(port, path)
      expect(answer.headers['x-content-type-options'], path).toBe('nosniff')
    }
  })
})

describe('static files beside the API', () => {
  it('serves index.html at the root with an HTML content type', async () => {
    const { port } = await startServer()
    const answer = await get(port, '/')
    expect(answer.status).toBe(200)
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(answer.headers['cache-control']).toBe('no-cache')
    expect(answer.body).toBe(INDEX)
  })

  it('serves hashed assets with their content types and a long cache', async () => {
    const { port } = await startServer()
    const js = await get(port, '/assets/app-1a2b3c.js')
    expect(js.status).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toContain('immutable')
    expect(js.headers['x-content-type-options']).toBe('nosniff')
    expect(js.body).toBe('console.log("app")')
    const css = await get(port, '/assets/app-1a2b3c.css')
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8')
    const svg = await get(port, '/logo.svg')
    expect(svg.headers['content-type']).toBe('image/svg+xml')
  })

  it('answers a client-side route with index.html so a reload keeps the page', async () => {
    const { port } = await startServer()
    const route = await get(port, '/inbox/conversation-42')
    expect(route.status).toBe(200)
    expect(route.body).toBe(INDEX)
    const withAccept = await get(port, '/settings.old', { accept: 'text/html,*/*' })
    expect(withAccept.body).toBe(INDEX)
  })

  it('answers a missing asset with a 404, not with the page', async () => {
    const { port } = await startServer()
    const missing = await get(port, '/assets/gone-123.js', { accept: '*/*' })
    expect(missing.status).toBe(404)
    expect(missing.body).not.toContain('Agent workspace')
  })

  it('leaves the API to the API: health, JSON errors for unknown API routes', async () => {
    const { port } = await startServer()
    const health = await get(port, '/healthz')
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' })
    const unknown = await get(port, '/api/nothing-here', { accept: 'text/html' })
    expect(unknown.status).toBe(404)
    expect(unknown.headers['content-type']).toContain('application/json')
  })

  it('never serves a file outside the folder, whatever the path looks like', async () => {
    const { port } = await startServer()
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/leak.txt',
      '/%00index.html',
    ]) {
      const answer = await get(port, path, { accept: '*/*' })
      expect(answer.body, path).not.toContain(SECRET_TEXT)
      expect(answer.status, path).toBe(404)
    }
  })

  it('answers HEAD without a body and leaves other methods to the server', async () => {
    const { port } = await startServer()
    const head = await get(port, '/assets/app-1a2b3c.js', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(String('console.log("app")'.length))
    expect(head.body).toBe('')
    const post = await get(port, '/index.html', { method: 'POST' })
    expect(post.status).toBe(404)
  })

  it('knows the content types of what a Vite build emits', () => {
    expect(contentTypeOf('a.mjs')).toBe('text/javascript; charset=utf-8')
    expect(contentTypeOf('font.woff2')).toBe('font/woff2')
    expect(contentTypeOf('x.JSON')).toBe('application/json; charset=utf-8')
    expect(contentTypeOf('blob.bin')).toBe('application/octet-stream')
  })
})
