import { crmExtension } from '../crm/crm-extension'
import type { CrmOptions } from '../crm/crm-service'
import type { Extension } from './extension'

/** The server options the built-in extensions are made from. */
export interface CardfileExtensionOptions {
  /** Turns the CRM integration on. */
  readonly crm?: CrmOptions
}

/**
 * The built-in extensions, in the order the server starts them (ingestion, linking, routing,
 * CRM, deletion, exports), each only when its options turn it on.
 *
 * @example
 * await createCardfileServer({ storage, auth, extensions: [...cardfileExtensions({ crm: {} }), audit] })
 */
export function cardfileExtensions(options: CardfileExtensionOptions): Extension[] {
  return [...(options.crm === undefined ? [] : [crmExtension(options.crm)])]
}
