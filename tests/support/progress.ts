/** Progress lines for long steps, so a CI log shows where the time goes. */
export function progress(message: string): void {
  process.stderr.write(`    [${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
