import type { AttributeDefinition } from '@cardfile/core'
import type { AttributeAdmin } from '@cardfile/react'

/**
 * What each settings editor of one attribute is given: the admin actions, the attribute as it
 * is now, and where to report a refused change (null clears the report), so the settings page
 * shows one problem at a time whichever editor it came from.
 */
export interface AttributeEditorProps {
  admin: AttributeAdmin
  def: AttributeDefinition
  onProblem: (message: string | null) => void
}
