/**
 * Stable error codes. They cross the wire (refusal notices, HTTP error bodies) and are part of
 * the public API: never rename one, only add.
 */
export const ErrorCodes = {
  // validation of values against definitions
  UnknownAttribute: 'unknown-attribute',
  WrongKind: 'wrong-kind',
  NotAnOption: 'not-an-option',
  RetiredOption: 'retired-option',
  RetiredAttribute: 'retired-attribute',
  TooLong: 'too-long',
  TypeMismatch: 'type-mismatch',
  /** A number or date outside the attribute's min/max, or with more decimals than allowed. */
  OutOfRange: 'out-of-range',
  /** A text value that does not match the attribute's pattern. */
  PatternMismatch: 'pattern-mismatch',
  /** A conversation resolved while its contact lacks values of required attributes. */
  RequiredMissing: 'required-missing',
  /** An attribute's type change that some stored values cannot follow (nothing was changed). */
  NotConvertible: 'not-convertible',
  // validation of definitions
  TooFewOptions: 'too-few-options',
  DuplicateLabel: 'duplicate-label',
  DuplicateOptionLabel: 'duplicate-option-label',
  DuplicateAlias: 'duplicate-alias',
  InvalidLabel: 'invalid-label',
  InvalidDefinition: 'invalid-definition',
  PlatformNotCrmManaged: 'platform-not-crm-managed',
  ImmutableField: 'immutable-field',
  UnknownField: 'unknown-field',
  InvalidValue: 'invalid-value',
  // permissions
  Forbidden: 'forbidden',
  PlanLacksFeature: 'plan-lacks-feature',
  VipDisabled: 'vip-disabled',
  CrmManagedLocked: 'crm-managed-locked',
  ProvenanceMismatch: 'provenance-mismatch',
  // transport and lifecycle
  Unauthorized: 'unauthorized',
  TokenExpired: 'token-expired',
  WrongWorkspace: 'wrong-workspace',
  NotFound: 'not-found',
  Deleted: 'deleted',
  Timeout: 'timeout',
  BadRequest: 'bad-request',
  PayloadTooLarge: 'payload-too-large',
  RateLimited: 'rate-limited',
  /** An update that builds on changes the server does not have (it was dropped). */
  MissingDependency: 'missing-dependency',
  /** A database file another server process is already using. */
  DatabaseInUse: 'database-in-use',
  /**
   * The local copy of a document came from another store than the server's (its database was
   * recreated, or the client now talks to another server): it was dropped unsent, unsaved
   * local edits included, and the document was loaded afresh from the server.
   */
  CacheDiscarded: 'cache-discarded',
  /**
   * A write made under a document ownership that is no longer current (another server instance
   * took the document over): nothing of it was stored.
   */
  Fenced: 'fenced',
  /** A service the server depends on (its database, its message bus) did not answer: retry. */
  Unavailable: 'unavailable',
  /**
   * The workspace was never created (`cardfile workspace create`, `POST /api/<ws>/workspace`):
   * nothing of it is served and nothing is written.
   */
  UnknownWorkspace: 'unknown-workspace',
  /** Creating a workspace that already exists (its plan is changed with set-plan instead). */
  WorkspaceExists: 'workspace-exists',
  /** A conditional write (HTTP `If-Match`) named a version the document has moved past. */
  PreconditionFailed: 'precondition-failed',
  /**
   * An outbound URL (a webhook) that points at this server's own network: loopback, private,
   * link-local (cloud metadata), unique-local or unspecified addresses, or one with credentials.
   */
  ForbiddenTarget: 'forbidden-target',
  Internal: 'internal',
} as const

/** One of the stable error codes in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

const ALL_CODES = new Set<string>(Object.values(ErrorCodes))

/** Returns true when `code` is a known Cardfile error code (useful when decoding wire data). */
export const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && ALL_CODES.has(code)

/**
 * The one error class Cardfile throws. Check `instanceof CardfileError` and switch on `code`.
 *
 * @example
 * try { contact.setValue('plan', 'gold') } catch (e) {
 *   if (e instanceof CardfileError && e.code === 'not-an-option') showHint(e.message)
 * }
 */
export class CardfileError extends Error {
  override readonly name = 'CardfileError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The field the error is about, when there is one (for example `custom:plan`). */
    readonly field?: string,
  ) {
    super(message)
  }
}

/** Result of a pure check: ok, or a stable code with a human-readable reason. */
export type CheckResult =
  { readonly ok: true } | { readonly ok: false; readonly code: ErrorCode; readonly message: string }

/** The ok result, shared. */
export const OK: CheckResult = Object.freeze({ ok: true as const })

/** Builds a refusal result. */
export const refuse = (code: ErrorCode, message: string): CheckResult => ({
  ok: false,
  code,
  message,
})
