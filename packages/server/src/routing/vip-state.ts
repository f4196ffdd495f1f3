import { DEFAULT_SETTINGS, PLANS, schemaDocName, vipActive } from '@cardfile/core'
import type { Plan } from '@cardfile/core'
import type * as Y from 'yjs'
import type { DocumentHost } from '../document-host'

/**
 * Whether VIP has effect in a workspace, read straight from its schema document (settings
 * `vipEnabled` and `plan`, defaults filling what is absent), as events are derived from raw
 * committed state.
 *
 * @example
 * vipActiveIn(schemaDoc) // false once an admin switched VIP off or the plan was lowered
 */
export function vipActiveIn(schema: Y.Doc): boolean {
  const settings = schema.getMap('settings')
  const enabled = settings.get('vipEnabled')
  const plan = settings.get('plan')
  return vipActive({
    vipEnabled: typeof enabled === 'boolean' ? enabled : DEFAULT_SETTINGS.vipEnabled,
    plan: (PLANS as readonly unknown[]).includes(plan) ? (plan as Plan) : DEFAULT_SETTINGS.plan,
  })
}

/**
 * Whether VIP has effect in a workspace, read through the document host (its live schema).
 *
 * @example
 * if (!(await readVipActive(host, 'demo'))) sendJson(res, 200, { items: [], next: null, vipEnabled: false })
 */
export function readVipActive(
  host: Pick<DocumentHost, 'read'>,
  workspace: string,
): Promise<boolean> {
  return host.read(schemaDocName(workspace), (doc) => vipActiveIn(doc))
}

/**
 * A contact's index row as lists and exports show it: not VIP while VIP has no effect in its
 * workspace (its stored flag is kept and shows again once VIP is back on).
 *
 * @example
 * page.items.map((row) => asSeenWithVip(row, active))
 */
export function asSeenWithVip<R extends { readonly vip: boolean }>(row: R, active: boolean): R {
  return active || !row.vip ? row : { ...row, vip: false }
}
