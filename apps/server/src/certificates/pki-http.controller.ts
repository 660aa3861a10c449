import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Controller, Get, Logger, Post, Req, Res } from '@nestjs/common';
import { ocspErrorResponse } from '@irp/pki';
import { CrlService } from './crl.service.js';
import { DomainCaService, PKI_PATHS } from './domain-ca.service.js';
import { MAX_OCSP_REQUEST_BYTES, OcspService } from './ocsp.service.js';

/** Content types of the PKI endpoints (RFC 5280 §4.2.1.13, RFC 6960 Appendix A, RFC 8555 §9.1). */
const TYPES = {
  chain: 'application/pem-certificate-chain',
  cert: 'application/pkix-cert',
  crl: 'application/pkix-crl',
  ocspResponse: 'application/ocsp-response',
} as const;

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', String(bytes.length));
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(bytes);
}

/** Reads a request body of at most `limit` octets; undefined when it is larger. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Base64 or base64url (RFC 6960 Appendix A.1 GET form), after URL decoding; undefined when it is neither. */
function decodeBase64Path(text: string): Buffer | undefined {
  const s = text.replace(/\s+/g, '');
  if (s.length === 0 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/**
 * The PKI over HTTP (spec §9), at the URLs written into every certificate
 * (`IRP_PUBLIC_HTTP_URL` + path), for standard tools (`openssl ocsp`, `openssl crl`,
 * browsers, mail clients):
 *
 * - `GET /pki/ca.pem` — the CA chain, issuing CA first, root last;
 * - `GET /pki/issuing-ca.crt` — the issuing CA, DER (the AIA caIssuers URL);
 * - `GET /pki/crl` — the current CRL, DER, `application/pkix-crl`;
 * - `POST /pki/ocsp` (raw DER body, `application/ocsp-request`) and
 *   `GET /pki/ocsp/<url-encoded base64 request>` — RFC 6960 OCSP.
 *
 * Revocation data is never cached: each answer reflects the database now.
 */
@Controller()
export class PkiHttpController {
  private readonly log = new Logger('PkiHttp');

  constructor(
    private readonly domainCa: DomainCaService,
    private readonly crl: CrlService,
    private readonly ocsp: OcspService,
  ) {}

  @Get(PKI_PATHS.chainPem)
  async chain(@Res() res: ServerResponse): Promise<void> {
    const ca = await this.domainCa.ready();
    send(res, 200, TYPES.chain, ca.chainPem);
  }

  @Get(PKI_PATHS.issuingCa)
  async issuingCa(@Res() res: ServerResponse): Promise<void> {
    const ca = await this.domainCa.ready();
    const issuing = ca.certificates[0];
    if (!issuing) throw new Error('no issuing CA');
    send(res, 200, TYPES.cert, issuing.der);
  }

  @Get(PKI_PATHS.crl)
  async crlDer(@Res() res: ServerResponse): Promise<void> {
    const crl = await this.crl.current();
    send(res, 200, TYPES.crl, crl.der, {
      'Cache-Control': 'no-cache',
      'Last-Modified': crl.thisUpdate.toUTCString(),
      Expires: crl.nextUpdate.toUTCString(),
    });
  }

  @Post(PKI_PATHS.ocsp)
  async ocspPost(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    // the body is read raw here: Nest's JSON/urlencoded parsers leave other types alone
    const body = await readBody(req, MAX_OCSP_REQUEST_BYTES);
    await this.answer(res, body);
  }

  @Get(`${PKI_PATHS.ocsp}/*request`)
  async ocspGet(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const encoded = path.slice(path.indexOf(`${PKI_PATHS.ocsp}/`) + PKI_PATHS.ocsp.length + 1);
    let text: string;
    try {
      text = decodeURIComponent(encoded);
    } catch {
      text = '';
    }
    await this.answer(res, decodeBase64Path(text));
  }

  private async answer(res: ServerResponse, request: Buffer | undefined): Promise<void> {
    let der: Uint8Array;
    if (!request || request.length === 0) der = ocspErrorResponse('malformedRequest');
    else {
      try {
        der = await this.ocsp.respond(request);
      } catch (error) {
        this.log.error(`OCSP failed: ${error instanceof Error ? error.message : String(error)}`);
        der = ocspErrorResponse('internalError');
      }
    }
    // RFC 6960: errors are OCSP responses too, sent with 200
    send(res, 200, TYPES.ocspResponse, der, { 'Cache-Control': 'no-cache' });
  }
}
