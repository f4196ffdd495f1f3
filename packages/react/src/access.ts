import type { ContactHandle, SchemaHandle } from '@cardfile/core'
import type { DocumentAccess } from './use-document-selector'

/** Access to the workspace schema. */
export const schemaAccess = (workspace: string): DocumentAccess<SchemaHandle> => ({
  key: `${workspace}/schema`,
  acquire: (client) => client.schema(),
  peek: (client) => client.peekSchema(),
  version: (handle) => String(handle.version()),
})

/** Access to a contact and the schema it is read against. */
export const contactAccess = (workspace: string, id: string): DocumentAccess<ContactHandle> => ({
  key: `${workspace}/contact/${id}`,
  acquire: (client) => client.contact(id),
  peek: (client) => client.peekContact(id),
  version: (handle) => `${handle.version()}/${handle.schemaHandle.version()}`,
})
