/** Where CLI commands write: one JSON object on stdout per operator command, errors on stderr. */
export class CliOutput {
  exitCode = 0;

  stdout(text: string): void {
    process.stdout.write(text);
  }

  stderr(text: string): void {
    process.stderr.write(text);
  }

  json(value: object): void {
    this.stdout(`${JSON.stringify(value)}\n`);
  }

  error(value: { code: string; message: string }): void {
    this.stderr(`${JSON.stringify({ error: value })}\n`);
  }
}
