import { describe, expect, it } from 'vitest';
import { RESULT_CODES } from '@irp/protocol';
import { ExitCode, exitCodeForResult } from './exit-codes.js';

describe('exit codes by class of IRP result (spec §5)', () => {
  it.each(RESULT_CODES.map((code) => [code]))('%i', (code) => {
    const expected = code < 2000 ? 0 : Math.floor(code / 100);
    expect(exitCodeForResult(code)).toBe(expected);
  });

  it('never collides with the local exit codes', () => {
    const irp = new Set(RESULT_CODES.filter((c) => c >= 2000).map(exitCodeForResult));
    for (const local of Object.values(ExitCode)) expect(irp.has(local)).toBe(false);
  });
});
