/**
 * The app-shell service worker: keeps the built page and its assets on the device so a reload
 * without a network still opens the workspace, whose documents then load from IndexedDB. It
 * never touches the API or the websocket: lists and sync must show the truth or fail honestly.
 *
 * Built by `vite-service-worker.ts` into `/sw.js`, with `PRECACHE` and `VERSION` filled in.
 */

/** The built files to keep: `/`, index.html and every emitted asset. */
declare const PRECACHE: readonly string[]
/** Changes with every build, so a new build gets a new cache and drops the old one. */
declare const VERSION: string

// The DOM library's types describe a window; these are the parts of a worker scope used here.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request
  respondWith(response: Promise<Response>): void
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void
  skipWaiting(): Promise<void>
  readonly clients: { claim(): Promise<void> }
  readonly location: Location
}

const scope = self as unknown as WorkerScope
const CACHE = `cardfile-app-${VERSION}`
const INDEX = '/index.html'

scope.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll([...PRECACHE]))
      .then(() => scope.skipWaiting()),
  )
})

scope.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith('cardfile-app-') && k !== CACHE)
            .map((k) => caches.delete(k)),
        ),
      )
      // Control the page that registered the worker at once, so its next reload, even an
      // offline one, goes through the cache.
      .then(() => scope.clients.claim()),
  )
})

/** A page load: the network's fresh page, else the cached shell (any route renders from it). */
async function navigation(request: Request): Promise<Response> {
  try {
    const response = await fetch(request)
    // Only the app's own page is a shell; other pages (metrics, errors) are not kept.
    if (response.ok && (response.headers.get('content-type') ?? '').startsWith('text/html')) {
      const cache = await caches.open(CACHE)
      await cache.put(INDEX, response.clone())
    }
    return response
  } catch (error) {
    const cached = await caches.match(INDEX, { cacheName: CACHE })
    if (cached !== undefined) return cached
    throw error
  }
}

/** A built asset: hashed names never change content, so the cached copy is the right one. */
async function asset(request: Request): Promise<Response> {
  const cached = await caches.match(request, { cacheName: CACHE })
  return cached ?? fetch(request)
}

scope.addEventListener('fetch', (event) => {
  const { request } = event
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  // The API, the websocket and other origins go straight to the network, never to a cache.
  if (url.origin !== scope.location.origin || url.pathname.startsWith('/api/')) return
  if (request.mode === 'navigate') {
    event.respondWith(navigation(request))
    return
  }
  if (PRECACHE.includes(url.pathname)) event.respondWith(asset(request))
})
