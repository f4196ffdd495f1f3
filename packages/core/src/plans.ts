import type { Plan } from './types'

/** What a plan allows. The server enforces it; the hooks expose it so UIs can hide the rest. */
export interface PlanCapabilities {
  /** Agents may enter contact attribute values (admins always may). */
  readonly agentValueEdits: boolean
  /** The VIP attribute, group, routing and priority boost. */
  readonly vip: boolean
  /** A CRM connection: lookups and CRM-managed attributes. */
  readonly crm: boolean
  /** Agents may edit CRM-managed attributes when the workspace setting allows (admins always may). */
  readonly crmAgentEdits: boolean
  /** Exports of contact attribute data. */
  readonly exports: boolean
}

const ALL: PlanCapabilities = Object.freeze({
  agentValueEdits: true,
  vip: true,
  crm: true,
  crmAgentEdits: true,
  exports: true,
})

/** The default capability table, mirroring the reference product (see PRODUCT.md). */
export const PLAN_CAPABILITIES: Readonly<Record<Plan, PlanCapabilities>> = Object.freeze({
  standard: Object.freeze({
    agentValueEdits: false,
    vip: false,
    crm: false,
    crmAgentEdits: false,
    exports: false,
  }),
  advanced: ALL,
  business: Object.freeze({
    agentValueEdits: true,
    vip: false,
    crm: false,
    crmAgentEdits: false,
    exports: false,
  }),
  enterprise: ALL,
})

/**
 * The capabilities of a plan.
 *
 * @example
 * capabilities('business').vip // false
 * capabilities('enterprise').crmAgentEdits // true
 */
export function capabilities(plan: Plan): PlanCapabilities {
  return PLAN_CAPABILITIES[plan]
}
