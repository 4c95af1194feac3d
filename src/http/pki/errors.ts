/** The body of a refusal on a /pki route: plain JSON, as these clients speak no cloud dialect. */
export function pkiError(code: string, message: string) {
  return { error: { code, message } };
}
