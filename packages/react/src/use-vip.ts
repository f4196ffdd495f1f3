import { useCallback, useMemo } from 'react'
import { canEdit, vipActive } from '@cardfile/core'
import { contactAccess } from './access'
import { useCardfileClient } from './context'
import { loadStateOf } from './load-state'
import type { LoadState } from './load-state'
import { useDocumentSelector } from './use-document-selector'
import { withContact } from './with-handle'

/** Extra facts {@link useVip} returns beside the flag and its setter. */
export interface VipInfo extends LoadState {
  /** VIP is on for the workspace and its plan has it; when false, hide the control. */
  readonly enabled: boolean
  /** The signed-in user may switch it. */
  readonly canEdit: boolean
}

/**
 * `[isVip, setVip, info]`; `setVip` throws a CardfileError when refused (also shown in
 * `info.error`) and has a stable identity.
 */
export type VipResult = readonly [isVip: boolean, setVip: (vip: boolean) => void, info: VipInfo]

/**
 * A contact's VIP flag. `enabled` is false when an admin switched VIP off (or the plan lacks
 * it), so the button can disappear; `isVip` is then false too, as the server's lists, routing
 * and exports treat every contact, and true again for a marked contact once VIP is back on.
 *
 * @example
 * function VipToggle({ contactId }: { contactId: string }) {
 *   const [isVip, setVip, { enabled, canEdit }] = useVip(contactId)
 *   if (!enabled) return null
 *   return <button disabled={!canEdit} onClick={() => setVip(!isVip)}>{isVip ? '★' : '☆'}</button>
 * }
 */
export function useVip(id: string): VipResult {
  const client = useCardfileClient()
  const snapshot = useDocumentSelector(contactAccess(client.workspace, id), (handle) => {
    if (handle === null) {
      return { isVip: false, enabled: false, canEdit: false, ...loadStateOf(null) }
    }
    const schema = handle.schemaHandle.schema
    const enabled = vipActive(schema.settings())
    const actor = client.actor()
    return {
      // Nobody is VIP while VIP is off; the stored flag shows again once it is back on.
      isVip: enabled && (handle.read().vip?.value ?? false),
      enabled,
      canEdit: enabled && actor !== null && canEdit(actor, { kind: 'vip' }, schema.view()),
      ...loadStateOf(handle),
    }
  })
  const setVip = useCallback(
    (vip: boolean) => withContact(client, id, (h) => h.setVip(vip)),
    [client, id],
  )
  return useMemo(() => {
    const { isVip, ...info } = snapshot
    return [isVip, setVip, info] as const
  }, [snapshot, setVip])
}
