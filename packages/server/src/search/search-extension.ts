import type { Extension } from '../extensions/extension'
import { searchRoutes } from './search-routes'

/**
 * Contact search as an extension: its route, `GET /api/<ws>/contacts/search`, over the
 * index's search (kept by the backend in each commit's transaction, so nothing runs here).
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [searchExtension()] })
 */
export function searchExtension(): Extension {
  return { name: 'search', start: () => ({ routes: searchRoutes() }) }
}
