import { contactsExtension } from '../contacts/contacts-extension'
import { crmExtension } from '../crm/crm-extension'
import type { CrmOptions } from '../crm/crm-service'
import { deletionExtension } from '../deletion/deletion-extension'
import type { DeletionOptions } from '../deletion/deletion-extension'
import { exportsExtension } from '../exports/exports-extension'
import type { ExportsOptions } from '../exports/exports-extension'
import { importsExtension } from '../imports/imports-extension'
import type { ImportsOptions } from '../imports/imports-extension'
import { ingestionExtension } from '../ingestion/ingestion-extension'
import { linkingExtension } from '../linking/linking-extension'
import type { LinkingOptions } from '../linking/linking-extension'
import { routingExtension } from '../routing/routing-extension'
import { searchExtension } from '../search/search-extension'
import type { RoutingOptions } from '../routing/routing-extension'
import { valueHistoryExtension } from '../history/history-extension'
import { workspacesExtension } from '../workspaces/workspaces-extension'
import { webhooksExtension } from '../webhooks/webhooks-extension'
import type { WebhooksOptions } from '../webhooks/webhooks-extension'
import type { Extension } from './extension'

/** The server options the built-in extensions are made from. */
export interface CardfileExtensionOptions extends RoutingOptions {
  /** Re-link jobs' chunk size. */
  readonly linking?: LinkingOptions
  /** An app's own erasure hooks, run with every extension's. */
  readonly deletion?: DeletionOptions
  /** Turns the CRM integration on. */
  readonly crm?: CrmOptions
  /** Contact exports (always on; the plan decides who may use them). */
  readonly exports?: ExportsOptions
  /** Webhook deliveries' retries and timeout (webhooks are always on; admins register them). */
  readonly webhooks?: WebhooksOptions
  /**
   * Lets webhooks and CRM URLs point at loopback and private addresses (see `WebhooksOptions`,
   * `CrmOptions`).
   */
  readonly allowPrivateOutboundTargets?: boolean
  /** The former name of `allowPrivateOutboundTargets`; either turns it on. */
  readonly allowPrivateWebhookTargets?: boolean
  /** Contact imports' limits (imports are always on; admins upload them). */
  readonly imports?: ImportsOptions
}

/**
 * The built-in extensions, in the order the server starts them (workspaces, ingestion,
 * linking, routing, search, CRM, contacts, deletion, value history, exports, webhooks,
 * imports), each only when its options turn it on.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [...cardfileExtensions({ crm: {} }), audit] })
 */
export function cardfileExtensions(options: CardfileExtensionOptions = {}): Extension[] {
  const allowPrivate =
    options.allowPrivateOutboundTargets === true || options.allowPrivateWebhookTargets === true
  return [
    workspacesExtension(),
    ingestionExtension(),
    linkingExtension(options.linking),
    routingExtension({
      ...(options.route === undefined ? {} : { route: options.route }),
      ...(options.scoring === undefined ? {} : { scoring: options.scoring }),
      ...(options.botHandoff === undefined ? {} : { botHandoff: options.botHandoff }),
    }),
    // Before deletion's `/contacts/<id>` routes: `/contacts/search` is the search.
    searchExtension(),
    ...(options.crm === undefined
      ? []
      : [
          crmExtension({
            ...options.crm,
            ...(allowPrivate ? { allowPrivateTargets: true } : {}),
          }),
        ]),
    contactsExtension(),
    deletionExtension(options.deletion),
    valueHistoryExtension(),
    exportsExtension(options.exports),
    webhooksExtension({
      ...options.webhooks,
      ...(allowPrivate ? { allowPrivateTargets: true } : {}),
    }),
    importsExtension(options.imports),
  ]
}
