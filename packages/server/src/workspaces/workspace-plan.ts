import { CardfileError, ErrorCodes, PLANS, SchemaDoc, schemaDocName } from '@cardfile/core'
import type { Actor, Plan } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import { within } from '../http/within'

/** The operator's actor for plan changes (a server transaction, never a client's). */
const OPERATOR: Actor = { userId: 'cardfile-operator', role: 'system', name: 'Operator' }

/** A workspace as the operator sees it. */
export interface WorkspaceInfo {
  readonly workspace: string
  readonly plan: Plan
}

/** True for one of the plan names ({@link PLANS}). */
export const isPlan = (value: unknown): value is Plan =>
  (PLANS as readonly unknown[]).includes(value)

/**
 * Reads a workspace's plan; rejects `unknown-workspace` for one never created.
 *
 * @example
 * const { plan } = await readWorkspace(server.host, 'acme')
 */
export async function readWorkspace(host: DocumentHost, workspace: string): Promise<WorkspaceInfo> {
  const plan = await host.read(schemaDocName(workspace), (doc) =>
    within(new SchemaDoc(doc), (schema) => schema.settings().plan),
  )
  return { workspace, plan }
}

/**
 * Changes a workspace's plan as one server transaction: connected clients see the new plan at
 * once (their hooks switch features off or on), and it is committed before this resolves.
 * Lowering a plan keeps every value, VIP flag and CRM mark: the features only stop working
 * until the plan is raised again. Resolves the plan before the change.
 *
 * @throws CardfileError `unknown-workspace` for a workspace never created, `invalid-value` for
 *   a name that is not a plan.
 * @example
 * const { previous } = await setWorkspacePlan(server.host, 'acme', 'business')
 */
export async function setWorkspacePlan(
  host: DocumentHost,
  workspace: string,
  plan: Plan,
): Promise<WorkspaceInfo & { readonly previous: Plan }> {
  if (!isPlan(plan)) {
    throw new CardfileError(ErrorCodes.InvalidValue, `The plan must be one of ${PLANS.join(', ')}`)
  }
  const previous = await host.transact(schemaDocName(workspace), OPERATOR, (doc) => {
    const before = within(new SchemaDoc(doc), (schema) => schema.settings().plan)
    // An unchanged plan writes nothing (no update for clients to apply).
    if (before !== plan) doc.getMap('settings').set('plan', plan)
    return before
  })
  return { workspace, plan, previous }
}
