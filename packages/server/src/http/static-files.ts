import { createReadStream } from 'node:fs'
import type { Stats } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'
import type { HttpRequestHandler } from './http-context'
import { appSecurityHeaders } from './security-headers'

/**
 * Serves a built single-page app (for example `examples/agent-workspace/dist`) beside the API,
 * so one port answers the page, the API and the websocket. Only GET and HEAD of paths that
 * resolve inside the root are answered; everything else is left to the server (a JSON 404).
 */

/** Options of {@link createStaticFiles}. */
export interface StaticFilesOptions {
  /** The folder to serve (made absolute; symlinks resolved once at start). */
  readonly root: string
  /**
   * Answer page navigations to unknown paths (no file extension, or a request that accepts
   * HTML) with the root `index.html`, so client-side routes survive a reload. Default true.
   */
  readonly spaFallback?: boolean
}

/** A static handler: resolves true when it answered the request. */
export type StaticFilesHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
}

/** The content type of a file name; unknown extensions are plain bytes. */
export function contentTypeOf(fileName: string): string {
  return CONTENT_TYPES[extname(fileName).toLowerCase()] ?? 'application/octet-stream'
}

/** `/a/../b` style segments, NUL bytes and back-slashes have no business in an app's paths. */
const decodePath = (rawPath: string): string | null => {
  let path: string
  try {
    path = decodeURIComponent(rawPath)
  } catch {
    return null
  }
  if (path.includes('\0') || path.includes('\\')) return null
  if (path.split('/').some((segment) => segment === '..')) return null
  return path
}

const isInside = (root: string, file: string): boolean =>
  file === root || file.startsWith(root.endsWith(sep) ? root : root + sep)

const statOrNull = async (file: string): Promise<Stats | null> => {
  try {
    return await stat(file)
  } catch {
    return null
  }
}

/**
 * Makes a handler that serves the files under `root`, with content types, security headers (a
 * Content-Security-Policy, `nosniff`, no framing; see `security-headers.ts`), long-lived
 * caching for Vite's hashed `assets/` and revalidation for everything else, and (by default) a
 * fallback to `index.html` for client-side routes. Never serves a file outside `root`, also not
 * through `..`, encoded separators or symlinks.
 *
 * @example
 * const files = createStaticFiles({ root: 'examples/agent-workspace/dist' })
 * http.createServer(async (req, res) => {
 *   if (!(await files(req, res))) res.writeHead(404).end()
 * })
 */
export function createStaticFiles(options: StaticFilesOptions): StaticFilesHandler {
  const spaFallback = options.spaFallback ?? true
  let rootReal: Promise<string> | null = null
  const root = (): Promise<string> => (rootReal ??= realpath(resolve(options.root)))

  /** The real path of an existing regular file inside the root, or null. */
  async function fileAt(
    base: string,
    relative: string,
  ): Promise<{ path: string; stats: Stats } | null> {
    const candidate = join(base, relative)
    if (!isInside(base, candidate)) return null
    let stats = await statOrNull(candidate)
    let path = candidate
    if (stats?.isDirectory()) {
      path = join(candidate, 'index.html')
      stats = await statOrNull(path)
    }
    if (stats === null || !stats.isFile()) return null
    // A symlink inside the folder may point anywhere: judge where it really leads.
    const real = await realpath(path)
    if (!isInside(base, real)) return null
    return { path: real, stats }
  }

  return async (req, res) => {
    const method = req.method ?? 'GET'
    if (method !== 'GET' && method !== 'HEAD') return false
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      return false
    }
    const path = decodePath(url.pathname)
    if (path === null) return false
    let base: string
    try {
      base = await root()
    } catch {
      // The folder is missing (the app was not built): answer nothing rather than fail.
      return false
    }

    let found = await fileAt(base, path)
    let fallback = false
    if (found === null && spaFallback && !path.startsWith('/api/')) {
      const accept = req.headers.accept ?? ''
      if (extname(path) === '' || accept.includes('text/html')) {
        found = await fileAt(base, 'index.html')
        fallback = true
      }
    }
    if (found === null) return false

    const hashedAsset = !fallback && path.startsWith('/assets/')
    res.writeHead(200, {
      'content-type': contentTypeOf(found.path),
      'content-length': found.stats.size,
      'last-modified': found.stats.mtime.toUTCString(),
      ...appSecurityHeaders(req.headers.host),
      'cache-control': hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
    })
    if (method === 'HEAD') {
      res.end()
      return true
    }
    await new Promise<void>((done) => {
      const stream = createReadStream(found.path)
      stream.on('error', () => {
        res.destroy()
        done()
      })
      stream.on('end', () => done())
      stream.pipe(res)
    })
    return true
  }
}

/**
 * Puts static files behind another handler (the HTTP API): the API answers first, the files
 * answer what it left.
 *
 * @example
 * createCardfileServer({
 *   backend,
 *   auth: { secret },
 *   httpHandler: withStaticFiles(httpApi(), { root: 'examples/agent-workspace/dist' }),
 * })
 */
export function withStaticFiles(
  handler: HttpRequestHandler | undefined,
  options: StaticFilesOptions,
): HttpRequestHandler {
  const files = createStaticFiles(options)
  return async (req, res, ctx) => {
    if (handler !== undefined && (await handler(req, res, ctx))) return true
    return files(req, res)
  }
}
