import { CHANNEL_IDS, ID_PATTERN } from '@cardfile/core'
import type { ChannelId } from '@cardfile/core'
import { z } from 'zod'

/**
 * The shape and bounds of an inbound channel message. Meaning (which metadata keys a channel
 * has, whether a value fits its attribute) is checked by the ingestion with core's rules, so
 * the error codes match what the websocket path reports.
 */

const channelIds = CHANNEL_IDS as unknown as readonly [ChannelId, ...ChannelId[]]

/** A channel's own identifier for a person (X user id, phone number, email address ...). */
const platformUserId = z.string().trim().min(1).max(256)

const attachment = z
  .object({
    id: z.string().regex(ID_PATTERN, 'an id of letters, digits, _ and -'),
    name: z.string().min(1).max(256),
    contentType: z.string().min(1).max(128),
    size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  })
  .strict()

/** The latest time a JavaScript Date can hold (ms): a later one has no date to show. */
const LATEST_TIME = 8.64e15

/** A time: ms since the epoch or an ISO 8601 string; parsed to ms. */
const timestamp = z.union([
  z.number().int().positive().max(LATEST_TIME),
  z
    .string()
    .datetime({ offset: true })
    .transform((iso) => Date.parse(iso)),
])

/** Body of `POST /api/<workspace>/inbound`. */
export const inboundBody = z
  .object({
    channel: z.enum(channelIds, {
      errorMap: () => ({ message: `channel must be one of ${CHANNEL_IDS.join(', ')}` }),
    }),
    platformUserId,
    metadata: z.record(z.string(), z.string().max(10_000)).default({}),
    message: z
      .object({
        /** The channel's message id; the same id twice is one message (retries are safe). */
        id: z.string().min(1).max(256).optional(),
        text: z.string().max(100_000),
        at: timestamp.optional(),
        attachments: z.array(attachment).max(50).default([]),
      })
      .strict(),
  })
  .strict()

export type InboundBody = z.output<typeof inboundBody>
