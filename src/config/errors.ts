/** EX_CONFIG from sysexits.h: systemd's unit lists it in RestartPreventExitStatus, so a bad config never restart-loops. */
export const EXIT_CONFIG = 78;

/**
 * A configuration problem a person must fix. Each entry of `problems` is one line that names the
 * field, the bad value and the fix.
 */
export class ConfigError extends Error {
  readonly exitCode = EXIT_CONFIG;
  readonly problems: string[];
  readonly file: string | undefined;

  constructor(file: string | undefined, problems: string[]) {
    // Keys, values and paths come from the file: a key holding an escape sequence must not drive
    // the terminal it is printed on, nor a newline split one problem into two lines.
    const safe = problems.map(escapeControl);
    super(safe.length === 1 ? safe[0] : `${safe.length} problems in the configuration`);
    this.name = 'ConfigError';
    this.file = file === undefined ? undefined : escapeControl(file);
    this.problems = safe;
  }

  /** What the CLI prints on stderr before exiting 78 (lines between problems are ours; none within one). */
  report(): string {
    const where = this.file ? ` in ${this.file}` : '';
    if (this.problems.length === 1) return `config error${where}: ${this.problems[0]}`;
    return [`config error${where}: ${this.problems.length} problems`, ...this.problems.map((p) => `  - ${p}`)].join('\n');
  }
}

/**
 * Text with every control character (C0 including newlines, DEL, C1, and the line and paragraph
 * separators) written as a visible escape (\x1b, \x0a, \u2028): nothing in a message can move
 * the cursor, recolour the terminal or forge a second line.
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
