import { capabilities } from '@cardfile/core'
import type { PlanCapabilities } from '@cardfile/core'
import { schemaAccess } from './access'
import { useCardfileClient } from './context'
import { useDocumentSelector } from './use-document-selector'

/**
 * Whether the signed-in user is an admin of a workspace whose plan has `feature`, following
 * the role and the schema's plan as they change. False until the schema has loaded; the server
 * enforces both as well, so UIs use this only to hide what would be refused.
 */
export function useAdminWithFeature(feature: keyof PlanCapabilities): boolean {
  const client = useCardfileClient()
  return useDocumentSelector(
    schemaAccess(client.workspace),
    (schema, c) =>
      c.actor()?.role === 'admin' &&
      schema !== null &&
      capabilities(schema.schema.settings().plan)[feature],
  )
}
