import { PLANS } from '@cardfile/core'
import type { Plan } from '@cardfile/core'
import { z } from 'zod'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { sendJson } from '../http/http-error'
import { readJsonBody } from '../http/read-body'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { readWorkspace, setWorkspacePlan } from './workspace-plan'

const planBody = z.object({ plan: z.enum(PLANS as readonly Plan[] as [Plan, ...Plan[]]) }).strict()

const MAX_BODY = 1024

/**
 * The operator's workspace routes, for system tokens only (an admin never sets the plan):
 * `POST /api/<ws>/workspace {plan}` creates the workspace (201; 409 `workspace-exists`),
 * `GET /api/<ws>/workspace` answers `{workspace, plan}` (404 `unknown-workspace`),
 * `PUT /api/<ws>/plan {plan}` changes its plan (`{workspace, plan, previous}`).
 *
 * @example
 * await createCardfileServer({ backend, auth, httpHandler: httpApi(), extensions: [workspacesExtension()] })
 */
export function workspaceRoutes(): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (rest.length !== 0 || (resource !== 'workspace' && resource !== 'plan')) return false
    allowMethods(method, resource === 'plan' ? ['PUT'] : ['GET', 'POST'], url.pathname)
    const principal = await ctx.principal(req, workspace, { mayBeUnknown: true })
    requireRole(principal, ['system'], 'create workspaces or change plans')
    if (method === 'GET') {
      sendJson(res, 200, await readWorkspace(ctx.host, workspace))
      return true
    }
    const { plan } = parseInput(planBody, await readJsonBody(req, MAX_BODY), 'body')
    if (resource === 'workspace') {
      await ctx.host.createWorkspace(workspace, plan)
      ctx.logger?.info('workspace created', { workspace, plan })
      sendJson(res, 201, { workspace, plan })
      return true
    }
    const changed = await setWorkspacePlan(ctx.host, workspace, plan)
    ctx.logger?.info('workspace plan changed', { workspace, plan, previous: changed.previous })
    sendJson(res, 200, changed)
    return true
  })
}
