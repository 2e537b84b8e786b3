import { writeFileAtomic } from '../files/atomic-write.js';

/**
 * Writes `value` as JSON to `file` so a reader sees the old file or the new one, never half of
 * one, and a power cut on a Pi mid-write leaves the old file (files/atomic-write.ts). Mode 0600:
 * the content names a person. A missing folder is created as before (0755: other programs may
 * keep files there; the outputs themselves stay private).
 */
export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, dirMode: 0o755 });
}
