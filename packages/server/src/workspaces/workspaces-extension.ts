import type { Extension } from '../extensions/extension'
import { workspaceRoutes } from './workspace-routes'

/**
 * Workspaces and plans as an extension: the operator's routes that create a workspace on a plan
 * and change its plan (system tokens only). The CLI's `cardfile workspace create|set-plan` do
 * the same against the storage directly.
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [workspacesExtension(), ...others] })
 */
export function workspacesExtension(): Extension {
  return { name: 'workspaces', start: () => ({ routes: workspaceRoutes() }) }
}
