import type { Extension } from '../extensions/extension'
import { contactRoutes } from './contact-routes'

/**
 * The contact REST API as an extension: `GET /api/<ws>/contacts/<id>` and
 * `PATCH /api/<ws>/contacts/<id>/values` (see `contactRoutes`). Started before the
 * deletion extension, which answers `DELETE` on the same path.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [contactsExtension(), deletionExtension()] })
 */
export function contactsExtension(): Extension {
  return {
    name: 'contacts',
    start: () => ({ routes: contactRoutes() }),
  }
}
