/**
 * Encryption at rest for secrets (private keys, access-key secrets). `context` is bound into the
 * ciphertext as associated data, so a sealed value copied onto another record does not open.
 */
export interface Sealer {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
  /** Id of the master key that seals new records. */
  readonly currentKeyId: string;
}
