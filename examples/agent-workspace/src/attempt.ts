import { CardfileError } from '@cardfile/core'
import { adminMessage } from './admin-messages'

/**
 * Runs an admin change of the schema; a refusal becomes a sentence for the admin instead of an
 * exception (null when it went through).
 *
 * @example
 * const problem = attempt(() => admin.updateAttribute('plan', { alias: 'tier' }))
 */
export function attempt(fn: () => void): string | null {
  try {
    fn()
    return null
  } catch (error) {
    if (error instanceof CardfileError) return adminMessage(error)
    throw error
  }
}
