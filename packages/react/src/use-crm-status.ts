import { capabilities } from '@cardfile/core'
import { contactAccess } from './access'
import { useCardfileClient } from './context'
import { loadStateOf } from './load-state'
import type { LoadState } from './load-state'
import { useDocumentSelector } from './use-document-selector'

/** A contact's CRM status, as the server's CRM integration records it in the contact. */
export interface CrmStatus extends LoadState {
  /** The workspace's plan has the CRM integration; when false, hide the CRM panel. */
  readonly enabled: boolean
  /** The last lookup found a CRM record (true), found none (false), or none ran yet (null). */
  readonly validated: boolean | null
  /** When the last lookup ran, in ms since epoch, or null. */
  readonly lastLookupAt: number | null
  /**
   * CRM-managed attributes (ids) an agent changed that wait for the next write-back, which
   * goes out when the conversation's status next changes.
   */
  readonly pendingWriteBacks: readonly string[]
}

const isIdList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string')

/**
 * Whether a contact is validated by the CRM, when it was last looked up, and which of its
 * CRM-managed values wait to be written back. Live: it follows the contact document.
 *
 * @example
 * function CrmBadge({ contactId }: { contactId: string }) {
 *   const { enabled, validated, lastLookupAt, pendingWriteBacks } = useCrmStatus(contactId)
 *   if (!enabled) return null
 *   return (
 *     <span title={lastLookupAt ? new Date(lastLookupAt).toLocaleString() : 'never looked up'}>
 *       {validated ? 'Validated' : 'Not validated'}
 *       {pendingWriteBacks.length > 0 && ` · ${pendingWriteBacks.length} to send`}
 *     </span>
 *   )
 * }
 */
export function useCrmStatus(contactId: string): CrmStatus {
  const client = useCardfileClient()
  return useDocumentSelector(contactAccess(client.workspace, contactId), (handle) => {
    if (handle === null) {
      return {
        enabled: false,
        validated: null,
        lastLookupAt: null,
        pendingWriteBacks: [],
        ...loadStateOf(null),
      }
    }
    const flags = handle.doc.getMap('flags')
    const validated = flags.get('crmValidated')
    const lookupAt = flags.get('crmLookupAt')
    const pending = flags.get('crmPending')
    return {
      enabled: capabilities(handle.schemaHandle.schema.settings().plan).crm,
      validated: typeof validated === 'boolean' ? validated : null,
      lastLookupAt: typeof lookupAt === 'number' ? lookupAt : null,
      pendingWriteBacks: isIdList(pending) ? pending : [],
      ...loadStateOf(handle),
    }
  })
}
