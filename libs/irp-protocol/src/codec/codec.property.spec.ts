/**
 * Property tests: encode∘decode is the identity for every message type, and no
 * input makes decodeCommand throw anything but IrpProtocolError (or hang).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IrpProtocolError } from '../errors/irp-protocol.error.js';
import { DEFAULT_CLIENT_XML_LIMITS, DEFAULT_XML_LIMITS } from '../limits.js';
import { COMMAND_NAMES } from '../messages/commands.js';
import * as arb from '../testing/arbitraries.js';
import {
  decodeCommand,
  decodeServerMessage,
  encodeCommand,
  encodeGreeting,
  encodeNotify,
  encodeResponse,
} from './envelope.js';

const RUNS = { numRuns: 300 };

describe('round trips', () => {
  it.each(COMMAND_NAMES)('decodeCommand(encodeCommand(c)) = c for %s', (name) => {
    fc.assert(
      fc.property(arb.commandOf(name), (c) => {
        expect(decodeCommand(encodeCommand(c), DEFAULT_XML_LIMITS)).toEqual(c);
      }),
      { numRuns: 100 },
    );
  });

  it('decodeServerMessage(encodeResponse(r)) = r for every command’s response', () => {
    fc.assert(
      fc.property(arb.response, (r) => {
        expect(decodeServerMessage(encodeResponse(r), DEFAULT_CLIENT_XML_LIMITS)).toEqual({
          kind: 'response',
          response: r,
        });
      }),
      { numRuns: 1500 },
    );
  });

  it('decodeServerMessage(encodeNotify(n)) = n', () => {
    fc.assert(
      fc.property(arb.notify, (n) => {
        expect(decodeServerMessage(encodeNotify(n))).toEqual({ kind: 'notify', notify: n });
      }),
      RUNS,
    );
  });

  it('decodeServerMessage(encodeGreeting(g)) = g', () => {
    fc.assert(
      fc.property(arb.greeting, (g) => {
        expect(decodeServerMessage(encodeGreeting(g))).toEqual({ kind: 'greeting', greeting: g });
      }),
      RUNS,
    );
  });

  it('keeps raw text exactly, whatever characters it holds (spec §3)', () => {
    fc.assert(
      fc.property(arb.commandId, arb.rawText(1), arb.rawText(1), (id, user, password) => {
        const u = user.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '') || 'u';
        const c = { cmd: 'login' as const, id, method: 'upa' as const, user: u, password };
        expect(decodeCommand(encodeCommand(c), DEFAULT_XML_LIMITS)).toEqual(c);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Calls decodeCommand and fails on anything but success or an IrpProtocolError. */
function onlyProtocolErrors(xml: Uint8Array): void {
  try {
    decodeCommand(xml, DEFAULT_XML_LIMITS);
  } catch (e) {
    if (!(e instanceof IrpProtocolError)) throw e;
    expect(e.code).toBeGreaterThanOrEqual(2000);
  }
}

const XMLISH_TOKENS = [
  '<irp version="1.0">',
  '<irp version="2.0">',
  '<irp>',
  '</irp>',
  '<ping id="1"/>',
  '<login id="1" method="upa">',
  '</login>',
  '<user>',
  '</user>',
  '<password>',
  '</password>',
  '<registerAddress id="r">',
  '<address family="ipv6" port="x">',
  '</address>',
  '<presence status="away">',
  '<attestation cert="c" alg="ed25519" text="AA==">',
  '<requestCertificate id="q" profile="user">',
  '<keygen algorithm="P-256" passphrase="p"/>',
  '<getCertificate id="g">',
  '<serial>',
  '</serial>',
  '<uploadPkcs12 id="u"><name>n</name><data>',
  '</data></uploadPkcs12>',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<!DOCTYPE irp [<!ENTITY a "b">]>',
  '<?xml version="1.0"?>',
  '<?pi?>',
  '&amp;',
  '&lol;',
  '&#0;',
  '&#x41;',
  '&',
  '<',
  '>',
  '"',
  "'",
  '=',
  ' ',
  '\n',
  'id',
  'a',
  '\u0000',
  '\uFFFE',
  '\uD800',
  'é',
  '😀',
];

describe('decodeCommand never throws anything but IrpProtocolError', () => {
  it('on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => onlyProtocolErrors(b)),
      { numRuns: 3000 },
    );
  });

  it('on random XML-ish token soup', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...XMLISH_TOKENS), { maxLength: 60 }), (tokens) =>
        onlyProtocolErrors(Buffer.from(tokens.join(''), 'utf8')),
      ),
      { numRuns: 3000 },
    );
  });

  it('on valid commands with random byte mutations', () => {
    const mutation = fc.tuple(
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom('set', 'insert', 'delete'),
    );
    fc.assert(
      fc.property(
        arb.command,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (c, mutations) => {
          const bytes = [...encodeCommand(c)];
          for (const [pos, value, op] of mutations) {
            const at = pos % (bytes.length + 1);
            if (op === 'set' && at < bytes.length) bytes[at] = value;
            else if (op === 'insert') bytes.splice(at, 0, value);
            else if (op === 'delete') bytes.splice(at, 1);
          }
          onlyProtocolErrors(Uint8Array.from(bytes));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('decodes every valid command it is given (no false refusals)', () => {
    fc.assert(
      fc.property(arb.command, (c) => {
        expect(() => decodeCommand(encodeCommand(c), DEFAULT_XML_LIMITS)).not.toThrow();
      }),
      RUNS,
    );
  });
});
