import { capabilities } from './plans'
import type { WorkspaceSettings } from './types'

/**
 * Whether VIP has any effect in a workspace: switched on by its admins and part of its plan.
 * While it is not, no contact counts as VIP anywhere (routing, priority, the VIP group, contact
 * lists, exports, the bot hand-off and the hooks), though each contact's stored flag is kept so
 * switching VIP back on restores it.
 *
 * @example
 * vipActive(schema.settings()) // false after an admin switched VIP off
 */
export function vipActive(settings: Pick<WorkspaceSettings, 'vipEnabled' | 'plan'>): boolean {
  return settings.vipEnabled && capabilities(settings.plan).vip
}
