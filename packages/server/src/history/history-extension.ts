import type { Extension } from '../extensions/extension'
import { historyRoutes } from './history-routes'

/**
 * The history of contacts' values as an extension: its route,
 * `GET /api/<ws>/contacts/<id>/history/values`. The changes themselves are recorded by every
 * document commit (see `Backend.valueHistory`) and erased with the contact.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [valueHistoryExtension(), ...others] })
 */
export function valueHistoryExtension(): Extension {
  return { name: 'value-history', start: () => ({ routes: historyRoutes() }) }
}
