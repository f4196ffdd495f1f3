import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createMemoryBackend } from '@cardfile/server/memory'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpApi } from '../src/http/create-http-api'
import { SECRET, makeToken, startServer } from './sync-helpers'
import type { TestServer } from './sync-helpers'

const ROOT = join(__dirname, '..', '..', '..')
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/** The documented operations: path template to its methods (upper case). */
function documented(): Map<string, Set<string>> {
  const text = readFileSync(join(ROOT, 'docs', 'openapi.yaml'), 'utf8')
  const paths = text.slice(text.indexOf('\npaths:\n'))
  const operations = new Map<string, Set<string>>()
  let current: Set<string> | null = null
  for (const line of paths.split('\n')) {
    const path = /^ {2}(\/\S*):$/.exec(line)
    if (path !== null) {
      current = new Set()
      operations.set(path[1]!, current)
      continue
    }
    const method = /^ {4}(get|post|put|patch|delete|head):/.exec(line)
    if (method !== null && current !== null) current.add(method[1]!.toUpperCase())
  }
  return operations
}

/** Every `METHOD /api/...` a route module's documentation names, as OpenAPI templates. */
function namedInSource(): { method: string; path: string; file: string }[] {
  const found: { method: string; path: string; file: string }[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name)
      if (statSync(file).isDirectory()) walk(file)
      else if (name.endsWith('.ts')) {
        const text = readFileSync(file, 'utf8')
        for (const m of text.matchAll(
          /\b((?:GET|POST|PUT|PATCH|DELETE)(?:\|(?:GET|POST|PUT|PATCH|DELETE))*) +(\/api\/[^\s`'",)?]+)/g,
        )) {
          // A path built in a template literal (an error message naming the route) is not a
          // route of its own.
          if (m[2]!.includes('${')) continue
          const path = m[2]!
            .replace(/<(workspace|ws)>/g, '{ws}')
            .replace(/<(\w+)>/g, (_, name: string) => `{${name}}`)
          for (const method of m[1]!.split('|')) found.push({ method, path, file })
        }
      }
    }
  }
  walk(join(ROOT, 'packages', 'server', 'src'))
  return found
}

describe('docs/openapi.yaml', () => {
  let running: TestServer
  let admin: string

  beforeAll(async () => {
    running = await startServer({
      backend: createMemoryBackend(),
      port: 0,
      host: '127.0.0.1',
      crm: {},
      httpHandler: httpApi({ devTokens: { secret: SECRET }, onError: () => undefined }),
    })
    admin = await makeToken({ user: 'admin-1', role: 'admin', workspace: 'demo' })
  })
  afterAll(async () => {
    await running.close()
    await running.backend.close()
  })

  const concrete = (template: string): string =>
    template
      .replace('{ws}', 'demo')
      .replace('{other}', 'c2')
      .replace('{id}', '00000000-0000-4000-8000-000000000000')

  it('documents every route the server modules name', () => {
    const docs = documented()
    const named = namedInSource()
    expect(named.length).toBeGreaterThan(30)
    const missing = named.filter(({ method, path }) => {
      const methods = docs.get(path)
      return methods === undefined || !methods.has(method)
    })
    expect(missing).toEqual([])
  })

  it('documents only routes the server answers, each with every method it allows', async () => {
    const problems: string[] = []
    expect(documented().size).toBeGreaterThan(30)
    for (const [template, methods] of documented()) {
      const url = `${running.server.url}${concrete(template)}`
      for (const method of methods) {
        if (method === 'HEAD') continue
        // Without a token: anything but "no such route" (401 for the API, 200 for health).
        const answer = await fetch(url, { method })
        const body = await answer.text()
        if (answer.status === 405 || (answer.status === 404 && body.includes('No route'))) {
          problems.push(`${method} ${template}: ${answer.status} ${body}`)
        }
      }
      // A method it does not document: 405, whose Allow names documented methods only.
      const other = METHODS.find((m) => !methods.has(m))
      if (other === undefined) continue
      const answer = await fetch(url, {
        method: other,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        ...(other === 'GET' ? {} : { body: '{}' }),
      })
      await answer.text()
      if (answer.status !== 405) {
        problems.push(`${other} ${template}: expected 405, got ${answer.status}`)
        continue
      }
      for (const allowed of (answer.headers.get('allow') ?? '').split(/,\s*/).filter(Boolean)) {
        if (!methods.has(allowed)) problems.push(`${allowed} ${template}: allowed, not documented`)
      }
    }
    expect(problems).toEqual([])
  })
})
