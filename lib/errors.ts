/** A problem with one field of a request, as the API's 400 answers list them (`path` dotted, as zod's). */
export interface FieldIssue {
  path: string;
  message: string;
}

/** An error with a stable code that callers and the API error handler can switch on. */
export class CodedError extends Error {
  readonly code: string;
  /**
   * The fields at fault, when the input is wrong for a reason a schema cannot see (it
   * depends on stored state): the API answers them like a schema's own issues.
   */
  readonly issues: readonly FieldIssue[] | undefined;
  constructor(code: string, message: string, options?: { cause?: unknown; issues?: readonly FieldIssue[] }) {
    super(message, options);
    this.name = 'CodedError';
    this.code = code;
    this.issues = options?.issues;
  }
}
