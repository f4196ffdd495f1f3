import { ID_PATTERN, ROLES } from '@cardfile/core'
import type { ConversationStatus, Role } from '@cardfile/core'
import { z } from 'zod'

/**
 * Input schemas of the HTTP API. They check shape and bounds only; meaning (which metadata keys a
 * channel has, whether a value fits its attribute) is checked by the route with core's rules so
 * the error codes match what the websocket path reports.
 */

const roles = ROLES as unknown as readonly [Role, ...Role[]]

const limit = z.coerce.number().int().min(1).max(200).default(50)
const cursor = z.string().min(1).max(512).optional()

/** Query of `GET /api/<workspace>/contacts`. */
export const contactsQuery = z
  .object({
    vip: z.enum(['true', 'false']).optional(),
    limit,
    cursor,
  })
  .strict()

const statuses = ['new', 'pending', 'resolved'] as const satisfies readonly ConversationStatus[]

/** Query of `GET /api/<workspace>/conversations`. */
export const conversationsQuery = z
  .object({
    /** A team's queue; empty means any team. */
    team: z.string().max(64).optional(),
    /** Only conversations of the contacts in this group (`vip`). */
    group: z.enum(['vip']).optional(),
    /** `true`: only conversations routed to no team (cannot be combined with `team`). */
    unassigned: z.enum(['true', 'false']).optional(),
    /** One status or several, comma-separated. */
    status: z
      .string()
      .transform((text) => text.split(',').map((s) => s.trim()))
      .pipe(z.array(z.enum(statuses)).min(1))
      .optional(),
    order: z.enum(['priority', 'newest']).optional(),
    /** One contact id or several (repeated or comma-separated). */
    contactId: z
      .array(z.string())
      .transform((ids) => ids.flatMap((id) => id.split(',')).map((id) => id.trim()))
      .pipe(z.array(z.string().regex(ID_PATTERN)).min(1).max(100))
      .optional(),
    limit,
    cursor,
  })
  .strict()
  .refine((q) => !(q.unassigned === 'true' && q.team !== undefined && q.team !== ''), {
    message: 'use either team or unassigned=true',
  })

/** Body of `POST /api/dev/token`. */
export const devTokenBody = z
  .object({
    workspace: z.string().regex(ID_PATTERN),
    role: z.enum(roles),
    userId: z.string().regex(ID_PATTERN),
    name: z.string().min(1).max(100).optional(),
    expiresIn: z.union([z.string().min(1).max(16), z.number().int().positive()]).optional(),
  })
  .strict()

/**
 * Turns URL search params into a plain object for a schema: a key given once is a string, keys
 * listed in `arrays` are always arrays.
 */
export function searchParamsObject(
  params: URLSearchParams,
  arrays: readonly string[] = [],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key)
    out[key] = arrays.includes(key) ? all : (all[all.length - 1] ?? '')
  }
  return out
}

/** A one-line description of a zod error for the `message` of a 400 answer. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.join('.')
      if (issue.code === 'unrecognized_keys') {
        return `${path === '' ? '' : `${path}: `}unknown key(s) ${issue.keys.join(', ')}`
      }
      return path === '' ? issue.message : `${path}: ${issue.message}`
    })
    .join('; ')
}
