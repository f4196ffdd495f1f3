import type { Extension } from '../extensions/extension'
import { crmRoutes } from './crm-routes'
import { createCrmService } from './crm-service'
import type { CrmOptions, CrmService } from './crm-service'

/** The CRM extension, with the integration it runs once started. */
export interface CrmExtension extends Extension {
  readonly name: 'crm'
  /** The running integration (`server.crm`): null before start. */
  readonly service: CrmService | null
}

/** Is `extension` the CRM extension? */
export const isCrmExtension = (extension: Extension): extension is CrmExtension =>
  extension.name === 'crm' && 'service' in extension

/**
 * The CRM integration as an extension: the `crm` event consumer (lookups, pending write-backs,
 * deliveries queued as jobs), the `crm-delivery` job handler, the routes under `/api/<ws>/crm`
 * and the contact routes for lookups and CRM status, and the erasure hook that drops a
 * contact's deliveries and CRM rows. Needs a storage with `crm` (SQLite and memory have it).
 *
 * @example
 * await createCardfileServer({ storage, auth, extensions: [crmExtension({ timeoutMs: 3000 })] })
 */
export function crmExtension(options: CrmOptions = {}): CrmExtension {
  let service: CrmService | null = null
  return {
    name: 'crm',
    get service() {
      return service
    },
    start(context) {
      const crm = context.backend.crm
      const parts = createCrmService({
        host: context.host,
        storage: crm,
        jobs: context.backend.jobs,
        enqueue: (job) => context.enqueue(job),
        logger: context.logger,
        metrics: context.metrics,
        coordination: context.coordination,
        options,
      })
      service = parts.service
      return {
        consumers: [parts.consumer],
        jobs: [parts.deliveries],
        routes: crmRoutes(parts.service),
        onContactErased: (event) => parts.service.onContactErased(event),
        stop: () => parts.stop(),
      }
    },
  }
}
