import { describe, expect, it } from 'vitest';
import { parseCommandLine, scanPositionals, list, str, flag } from '../cli/options.js';
import { certificateQuery } from './cert.commands.js';
import { findCommand, COMMANDS } from './index.js';
import { rawResultCode } from './raw.command.js';

describe('command line', () => {
  it('finds the longest command and keeps options anywhere', () => {
    const argv = [
      '--server',
      'dir.example.com',
      'addr',
      '--json',
      'register',
      '--address',
      '192.0.2.1',
      '--address',
      '[2001:db8::1]:9',
      '--sign',
    ];
    const positionals = scanPositionals(argv);
    const found = findCommand(positionals);
    expect(found?.command.path).toEqual(['addr', 'register']);
    const { values, positionals: all } = parseCommandLine(argv, found?.command.options ?? []);
    expect(all).toEqual(['addr', 'register']);
    expect(str(values, 'server')).toBe('dir.example.com');
    expect(list(values, 'address')).toEqual(['192.0.2.1', '[2001:db8::1]:9']);
    expect(flag(values, 'sign')).toBe(true);
    expect(flag(values, 'json')).toBe(true);
  });

  it('refuses an option the command does not take (usage, exit 2)', () => {
    expect(() => parseCommandLine(['whoami', '--sign'], [])).toThrow(
      expect.objectContaining({ exitCode: 2 }),
    );
  });

  it('has no secret-bearing option: passwords and passphrases come from files, env or a prompt', () => {
    for (const c of COMMANDS) {
      for (const o of c.options ?? [])
        expect(o).not.toMatch(/^(password|passphrase|new-password)$/);
    }
  });

  it('has unique command paths', () => {
    const paths = COMMANDS.map((c) => c.path.join(' '));
    expect(new Set(paths).size).toBe(paths.length);
  });
});

describe('cert show selector', () => {
  it.each([
    ['a'.repeat(64), { by: 'sha256', sha256: 'a'.repeat(64) }],
    ['7A'.repeat(16), { by: 'serial', serial: '7a'.repeat(16) }],
    ['serial:01ab', { by: 'serial', serial: '01ab' }],
    ['sha256:AB:CD', { by: 'sha256', sha256: 'abcd' }],
    ['bob', { by: 'user', user: 'bob' }],
    ['bob@example.com', { by: 'user', user: 'bob@example.com' }],
  ])('%s', (text, query) => {
    expect(certificateQuery(text)).toEqual(query);
  });
});

describe('raw result code', () => {
  it('reads the code of a response document', () => {
    expect(
      rawResultCode(
        '<irp version="1.0"><response id="" cmd="" txn="t"><result code="2001">x</result></response></irp>',
      ),
    ).toBe(2001);
    expect(rawResultCode('<irp version="1.0"><greeting/></irp>')).toBeUndefined();
  });
});
