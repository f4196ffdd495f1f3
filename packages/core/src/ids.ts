/*
 * Ids for new attributes, options and messages. They must be unique across replicas that
 * create entries offline at the same time, so they carry random bits; a readable prefix taken
 * from the label helps when reading raw documents and logs.
 */

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz'

/** `n` random lower-case letters and digits from the platform's crypto source. */
export function randomSuffix(n = 8): string {
  const bytes = new Uint8Array(n)
  globalThis.crypto.getRandomValues(bytes)
  let out = ''
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length]
  return out
}

/**
 * A readable slug of a label: lower case, runs of other characters as one underscore, at most
 * 40 characters; empty when the label has no letters or digits.
 *
 * @example
 * slugify('Customer tier!') // 'customer_tier'
 */
export function slugify(label: string): string {
  return label
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40)
    .replace(/_+$/, '')
}

/**
 * A new id for an entry labelled `label`, such as `customer_tier_k3x9q2`.
 *
 * @example
 * newId('Plan') // 'plan_0f3kz9'
 */
export function newId(label: string, fallback = 'id'): string {
  return `${slugify(label) || fallback}_${randomSuffix(6)}`
}
