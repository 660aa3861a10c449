import { text } from 'node:stream/consumers';
import { CliError } from '../cli/cli.error.js';
import { type CommandSpec } from '../cli/context.js';
import { exitCodeForResult } from '../cli/exit-codes.js';
import { flag } from '../cli/options.js';
import { withSession } from '../net/session.js';

/** The result code of a raw response document, if it has one. */
export function rawResultCode(xml: string): number | undefined {
  const m = /<result\b[^>]*\bcode\s*=\s*["'](\d{4})["']/.exec(xml);
  return m ? Number(m[1]) : undefined;
}

/** `irp raw`: one XML document from stdin as one frame; the response printed as received. */
export const rawCommand: CommandSpec = {
  path: ['raw'],
  usage: '[--login] < request.xml',
  summary:
    'send the XML document on stdin as one frame and print the raw response (debugging, learning)',
  options: ['login'],
  args: [0, 0],
  run: async (ctx) => {
    if (process.stdin.isTTY) ctx.out.note('type or paste one XML document, then Ctrl-D');
    const xml = await text(process.stdin);
    if (xml.trim() === '') throw CliError.usage('no XML on stdin');
    return withSession(ctx, { login: flag(ctx.values, 'login') }, async (s) => {
      const response = await s.client.rawRequest(xml);
      const code = rawResultCode(response);
      ctx.out.result({ request: xml, response, code }, () => response);
      return code === undefined ? 0 : exitCodeForResult(code);
    });
  },
};
