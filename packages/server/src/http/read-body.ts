import type { IncomingMessage } from 'node:http'
import { ErrorCodes } from '@cardfile/core'
import { HttpError } from './http-error'

// After a refused body the rest of it is not read: close the connection instead of letting
// Node drain a body already answered as too large.
const CLOSE = { connection: 'close' }

/** The largest request body the HTTP API accepts (1 MB). */
export const MAX_BODY_BYTES = 1024 * 1024

/**
 * Reads a JSON request body. The size is counted while the body streams in, so a client that
 * lies in (or omits) `content-length` still cannot make the server buffer more than the limit.
 *
 * @throws HttpError 415 for a non-JSON content type, 413 over the limit, 400 for malformed JSON.
 */
export async function readJsonBody(
  req: IncomingMessage,
  limit: number = MAX_BODY_BYTES,
): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type !== 'application/json') {
    throw new HttpError(415, ErrorCodes.BadRequest, 'Send the body as application/json')
  }
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    throw new HttpError(413, ErrorCodes.PayloadTooLarge, `The body is over ${limit} bytes`, CLOSE)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > limit) {
      throw new HttpError(413, ErrorCodes.PayloadTooLarge, `The body is over ${limit} bytes`, CLOSE)
    }
    chunks.push(buffer)
  }
  const text = Buffer.concat(chunks, size).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new HttpError(400, ErrorCodes.BadRequest, 'The body is not valid JSON')
  }
}
