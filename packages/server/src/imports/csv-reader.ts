import { CardfileError, ErrorCodes } from '@cardfile/core'

/** A CSV file that cannot be read as CSV (an unterminated quote, a row over the limit). */
export class CsvError extends CardfileError {
  constructor(
    readonly row: number,
    message: string,
  ) {
    super(ErrorCodes.BadRequest, `row ${row}: ${message}`)
  }
}

/** One record of a CSV file and its row number (the header is row 1). */
export interface CsvRow {
  readonly row: number
  readonly fields: readonly string[]
}

/** Limits of {@link readCsvRows}. */
export interface CsvLimits {
  /** Characters of one record, quotes and separators included. */
  readonly maxRowChars: number
  /** Fields of one record. */
  readonly maxFields: number
}

/**
 * Reads RFC 4180 CSV from a stream of chunks as it arrives, one record at a time, never holding
 * more than one record: fields separated by commas, records by CRLF or LF, fields in double
 * quotes may hold commas, line breaks and doubled quotes. A UTF-8 byte order mark is skipped,
 * blank lines are left out. Throws {@link CsvError} for a quote in the middle of an unquoted
 * field, text after a closing quote, a quote left open at the end, or a record over the limits.
 *
 * @example
 * for await (const { row, fields } of readCsvRows(req, { maxRowChars: 65536, maxFields: 200 })) use(fields)
 */
export async function* readCsvRows(
  source: AsyncIterable<Uint8Array | string>,
  limits: CsvLimits,
): AsyncGenerator<CsvRow> {
  const decoder = new TextDecoder('utf-8')
  let fields: string[] = []
  let field = ''
  /** The field began with a quote. */
  let quoted = false
  /** Inside the quotes of a quoted field. */
  let inQuotes = false
  /** A quote was read inside quotes: closing, unless the next character is another quote. */
  let afterQuote = false
  /** The field's closing quote was read: only a separator may follow. */
  let closed = false
  let rowChars = 0
  let row = 1
  let first = true
  let lastWasCr = false

  const endField = (): void => {
    if (fields.length >= limits.maxFields) {
      throw new CsvError(row, `more than ${limits.maxFields} fields`)
    }
    fields.push(field)
    field = ''
    quoted = false
    closed = false
  }
  const endRow = (): CsvRow | null => {
    const blank = fields.length === 0 && field === '' && !quoted
    endField()
    const done = fields
    fields = []
    rowChars = 0
    const at = row
    row += 1
    return blank ? null : { row: at, fields: done }
  }

  // Character by character, with all state outside: a chunk may end anywhere (even between
  // the two quotes of an escaped one).
  function* consume(text: string): Generator<CsvRow> {
    for (let i = 0; i < text.length; i += 1) {
      const ch = text[i]!
      if (first) {
        first = false
        if (ch === '\uFEFF') continue
      }
      rowChars += 1
      if (rowChars > limits.maxRowChars) {
        throw new CsvError(row, `longer than ${limits.maxRowChars} characters`)
      }
      if (inQuotes) {
        if (ch === '"') {
          inQuotes = false
          afterQuote = true
        } else field += ch
        continue
      }
      if (afterQuote) {
        afterQuote = false
        if (ch === '"') {
          field += '"'
          inQuotes = true
          continue
        }
        closed = true
      }
      if (lastWasCr) {
        lastWasCr = false
        if (ch === '\n') continue
      }
      if (ch === ',') endField()
      else if (ch === '\r' || ch === '\n') {
        lastWasCr = ch === '\r'
        const done = endRow()
        if (done !== null) yield done
      } else if (ch === '"') {
        if (closed) throw new CsvError(row, 'text after a closing quote')
        if (field !== '') throw new CsvError(row, 'a quote inside an unquoted field')
        quoted = true
        inQuotes = true
      } else {
        if (closed) throw new CsvError(row, 'text after a closing quote')
        field += ch
      }
    }
  }

  for await (const chunk of source) {
    yield* consume(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))
  }
  yield* consume(decoder.decode())
  if (inQuotes) throw new CsvError(row, 'a quoted field is not closed')
  if (afterQuote) closed = true
  if (field !== '' || fields.length > 0 || quoted) {
    const done = endRow()
    if (done !== null) yield done
  }
}
