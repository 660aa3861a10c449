import { describe, expect, it } from 'vitest';
import {
  closesConnection,
  isResultCode,
  isSuccessCode,
  RESULT_CODES,
  RESULT_MESSAGES,
  ResultCode,
} from './result-codes.js';

// spec §5, copied by hand: the table must not drift from it.
const SPEC_CODES = [
  1000, 1001, 1500, 2000, 2001, 2002, 2003, 2004, 2005, 2100, 2101, 2200, 2201, 2202, 2204, 2302,
  2303, 2304, 2306, 2400, 2401, 2500, 2501, 2502, 2503,
];

describe('result codes (spec §5)', () => {
  it('lists exactly the codes of the spec', () => {
    expect([...RESULT_CODES]).toEqual(SPEC_CODES);
    expect(Object.keys(RESULT_MESSAGES).map(Number).sort()).toEqual(SPEC_CODES);
  });

  it('has the spec meaning texts', () => {
    expect(RESULT_MESSAGES[ResultCode.Success]).toBe('Command completed successfully');
    expect(RESULT_MESSAGES[ResultCode.SyntaxError]).toBe('Command syntax error');
    expect(RESULT_MESSAGES[ResultCode.CommandFailedClosing]).toBe(
      'Command failed; server closing connection',
    );
  });

  it('classifies 1xxx as success', () => {
    expect(SPEC_CODES.filter((c) => isResultCode(c) && isSuccessCode(c))).toEqual([
      1000, 1001, 1500,
    ]);
  });

  it('marks exactly 1500, 2500, 2501, 2502 as closing the connection', () => {
    expect(SPEC_CODES.filter((c) => isResultCode(c) && closesConnection(c))).toEqual([
      1500, 2500, 2501, 2502,
    ]);
  });

  it('recognises only known codes', () => {
    expect(isResultCode(2305)).toBe(false);
    expect(isResultCode(2306)).toBe(true);
  });
});
