/** EX_CONFIG from sysexits.h: systemd's unit lists it in RestartPreventExitStatus, so a bad config never restart-loops. */
export const EXIT_CONFIG = 78;

/**
 * A configuration problem a person must fix. Each entry of `problems` is one line that names the
 * field, the bad value and the fix.
 */
export class ConfigError extends Error {
  readonly exitCode = EXIT_CONFIG;
  constructor(
    readonly file: string | undefined,
    readonly problems: string[],
  ) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems in the configuration`);
    this.name = 'ConfigError';
  }

  /** What the CLI prints on stderr before exiting 78. */
  report(): string {
    const where = this.file ? ` in ${this.file}` : '';
    if (this.problems.length === 1) return `config error${where}: ${this.problems[0]}`;
    return [`config error${where}: ${this.problems.length} problems`, ...this.problems.map((p) => `  - ${p}`)].join('\n');
  }
}
