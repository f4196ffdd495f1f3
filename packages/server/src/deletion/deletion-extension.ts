import type { Extension } from '../extensions/extension'
import type { ContactErasureHook } from './contact-erasure'
import { deletionRoutes } from './deletion-routes'

export interface DeletionOptions {
  /**
   * Told after each erasure, beside every extension's own `onContactErased` (an app's outbox
   * that quotes contacts); idempotent, and never logging the contact's values.
   */
  readonly onContactErased?: ContactErasureHook | readonly ContactErasureHook[]
}

/**
 * Contact deletion as an extension: `DELETE /api/<ws>/contacts/<id>` (the erasure, through the
 * server's barriers and every extension's erasure hook) and the append-only
 * `GET /api/<ws>/deleted-contacts` audit log. Needs a storage with a `deletionLog`.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [deletionExtension({ onContactErased })] })
 */
export function deletionExtension(options: DeletionOptions = {}): Extension {
  return {
    name: 'deletion',
    start: () => ({ routes: deletionRoutes([options.onContactErased ?? []].flat()) }),
  }
}
