import * as asn1js from 'asn1js';
import { createHash } from 'node:crypto';
import * as pkijs from 'pkijs';
import type { CaSigner } from '../ca/ca-signer.js';
import { formatSerialHex } from '../encoding/hex.js';
import { OID } from '../encoding/oids.js';
import { PkiError } from '../pki.error.js';
import { REVOCATION_REASON_CODES, type RevocationReason } from './revocation-reason.js';

/** The status the server reports for one serial (spec §9: read from the registry, never cached). */
export interface OcspCertStatus {
  readonly status: 'good' | 'revoked' | 'unknown';
  /** Required when `revoked`. */
  readonly revokedAt?: Date;
  /** Optional when `revoked` (superseded certificates are reported revoked with reason superseded, spec §9). */
  readonly reason?: RevocationReason;
}

/**
 * Looks up a serial of the issuing CA. `serialHex` is the lower-case hex of the
 * CertID serial (32 digits for serials this CA issued). Errors thrown here
 * propagate out of {@link OcspResponder.respond}; the server answers them with
 * {@link ocspErrorResponse}(`internalError` or `tryLater`).
 */
export type OcspStatusLookup = (serialHex: string) => OcspCertStatus | Promise<OcspCertStatus>;

/** OCSPResponseStatus values (RFC 6960 §4.2.1) other than `successful`. */
export type OcspErrorStatus =
  'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

/** Outcome of {@link OcspResponder.respond}. */
export interface OcspResult {
  /** The OCSPResponse DER (`application/ocsp-response`). */
  readonly der: Uint8Array;
  /** `successful` or the error status that was sent. */
  readonly status: 'successful' | OcspErrorStatus;
  /** The serials answered (in request order), for the audit log. */
  readonly serials: readonly string[];
}

/** Options of {@link OcspResponder}. */
export interface OcspResponderOptions {
  /**
   * When set, each SingleResponse carries nextUpdate = thisUpdate + this many
   * seconds, allowing caches. Default: no nextUpdate (RFC 6960 §4.2.2.1:
   * "newer revocation information is available all the time"), matching the
   * registry's live status.
   */
  readonly nextUpdateSeconds?: number;
  /** Include the signing CA certificate in `certs` (default true) for clients that want it. */
  readonly includeCertificate?: boolean;
  /** Most CertIDs accepted in one request (default 16); more is `malformedRequest`. */
  readonly maxRequests?: number;
}

const STATUS_CODE: Record<'successful' | OcspErrorStatus, number> = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
};

const HASHES: Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** Largest accepted nonce extnValue: an OCTET STRING of 32 octets (RFC 8954 §2.1) plus its 2-octet header. */
const MAX_NONCE_VALUE = 34;
/** Largest accepted OCSPRequest (bounded work per HTTP request). */
const MAX_REQUEST_BYTES = 16 * 1024;

function toBuffer(ab: ArrayBuffer | Uint8Array): Buffer {
  return ab instanceof Uint8Array
    ? Buffer.from(ab.buffer, ab.byteOffset, ab.byteLength)
    : Buffer.from(ab);
}

/** An OCSPResponse carrying only an error status (no signature, RFC 6960 §4.2.1). */
export function ocspErrorResponse(status: OcspErrorStatus): Uint8Array {
  const resp = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: STATUS_CODE[status] }),
  });
  return toBuffer(resp.toSchema().toBER(false));
}

function seconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/**
 * RFC 6960 OCSP responder core for the issuing CA. Responses are signed by the
 * issuing CA itself (RFC 6960 §4.2.2.2 case 1), not by a delegated responder:
 * the CA key is online for issuance anyway, clients need no extra certificate
 * with id-pkix-ocsp-nocheck, and there is nothing more to rotate. ResponderID is
 * byKey (SHA-1 of the CA key).
 *
 * CertIDs are matched against the CA with SHA-1, SHA-256, SHA-384 and SHA-512
 * (issuerNameHash over the CA subject DER, issuerKeyHash over its key bits). A
 * request none of whose CertIDs names this CA is answered `unauthorized`;
 * within a request that names it, foreign CertIDs get status `unknown`. A nonce
 * (id-pkix-ocsp-nonce) is echoed in responseExtensions. Unparseable requests,
 * requests with no or too many CertIDs, and over-long nonces get `malformedRequest`.
 * Request signatures are ignored (none are required).
 */
export class OcspResponder {
  private readonly signer: CaSigner;
  private readonly options: Required<Omit<OcspResponderOptions, 'nextUpdateSeconds'>> & {
    nextUpdateSeconds?: number;
  };
  private readonly issuerHashes = new Map<string, { name: Buffer; key: Buffer }>();
  private readonly responderKeyHash: Buffer;
  private readonly signatureAlgorithm: pkijs.AlgorithmIdentifier;
  private readonly caCertificate: pkijs.Certificate;

  constructor(signer: CaSigner, options: OcspResponderOptions = {}) {
    this.signer = signer;
    this.options = {
      includeCertificate: options.includeCertificate ?? true,
      maxRequests: options.maxRequests ?? 16,
      ...(options.nextUpdateSeconds === undefined
        ? {}
        : { nextUpdateSeconds: options.nextUpdateSeconds }),
    };
    const cert = signer.certificate;
    for (const [oid, hash] of Object.entries(HASHES)) {
      this.issuerHashes.set(oid, {
        name: createHash(hash).update(cert.subjectDer).digest(),
        key: createHash(hash).update(cert.publicKeyBits).digest(),
      });
    }
    this.responderKeyHash = createHash('sha1').update(cert.publicKeyBits).digest();
    this.signatureAlgorithm = pkijs.AlgorithmIdentifier.fromBER(
      signer.algorithm.algorithmIdentifierDer,
    );
    this.caCertificate = pkijs.Certificate.fromBER(cert.der);
  }

  /**
   * Answers one DER OCSPRequest (from HTTP POST, or base64-decoded from GET).
   * Never throws for bad input (that is a `malformedRequest` response); only
   * errors of `lookup` propagate.
   */
  async respond(
    requestDer: Uint8Array,
    lookup: OcspStatusLookup,
    now: Date = new Date(),
  ): Promise<OcspResult> {
    const fail = (status: OcspErrorStatus): OcspResult => ({
      der: ocspErrorResponse(status),
      status,
      serials: [],
    });
    if (requestDer.length === 0 || requestDer.length > MAX_REQUEST_BYTES)
      return fail('malformedRequest');
    let request: pkijs.OCSPRequest;
    try {
      const raw = toBuffer(requestDer);
      const asn1 = asn1js.fromBER(raw);
      if (asn1.offset !== raw.length) return fail('malformedRequest');
      request = new pkijs.OCSPRequest({ schema: asn1.result });
    } catch {
      return fail('malformedRequest');
    }
    const list = request.tbsRequest.requestList;
    if (list.length === 0 || list.length > this.options.maxRequests)
      return fail('malformedRequest');

    let nonce: pkijs.Extension | undefined;
    for (const ext of request.tbsRequest.requestExtensions ?? []) {
      if (ext.extnID === OID.ocspNonce) {
        if (ext.extnValue.valueBlock.valueHexView.length > MAX_NONCE_VALUE)
          return fail('malformedRequest');
        nonce = new pkijs.Extension({
          extnID: OID.ocspNonce,
          critical: false,
          extnValue: new Uint8Array(ext.extnValue.valueBlock.valueHexView).buffer,
        });
      }
    }

    const matched = list.map((r) => this.matchesIssuer(r.reqCert));
    if (!matched.some(Boolean)) return fail('unauthorized');

    const produced = seconds(now);
    const serials: string[] = [];
    const responses: pkijs.SingleResponse[] = [];
    for (const [i, r] of list.entries()) {
      const serialHex = formatSerialHex(r.reqCert.serialNumber.valueBlock.valueHexView);
      serials.push(serialHex);
      const status: OcspCertStatus = matched[i] ? await lookup(serialHex) : { status: 'unknown' };
      responses.push(
        new pkijs.SingleResponse({
          certID: r.reqCert,
          certStatus: this.certStatus(status),
          thisUpdate: produced,
          ...(this.options.nextUpdateSeconds === undefined
            ? {}
            : { nextUpdate: new Date(produced.getTime() + this.options.nextUpdateSeconds * 1000) }),
        }),
      );
    }

    const basic = new pkijs.BasicOCSPResponse({
      tbsResponseData: new pkijs.ResponseData({
        responderID: new asn1js.OctetString({ valueHex: this.responderKeyHash }),
        producedAt: produced,
        responses,
        ...(nonce ? { responseExtensions: [nonce] } : {}),
      }),
      signatureAlgorithm: this.signatureAlgorithm,
      ...(this.options.includeCertificate ? { certs: [this.caCertificate] } : {}),
    });
    const tbsSchema = basic.tbsResponseData.toSchema(true) as asn1js.Sequence;
    const tbs = new Uint8Array(tbsSchema.toBER(false));
    basic.tbsResponseData.tbsView = tbs;
    basic.signature = new asn1js.BitString({ valueHex: this.signer.sign(tbs) });
    const response = new pkijs.OCSPResponse({
      responseStatus: new asn1js.Enumerated({ value: STATUS_CODE.successful }),
      responseBytes: new pkijs.ResponseBytes({
        responseType: OID.ocspBasic,
        response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
      }),
    });
    return { der: toBuffer(response.toSchema().toBER(false)), status: 'successful', serials };
  }

  private matchesIssuer(certId: pkijs.CertID): boolean {
    const expected = this.issuerHashes.get(certId.hashAlgorithm.algorithmId);
    if (!expected) return false;
    return (
      expected.name.equals(certId.issuerNameHash.valueBlock.valueHexView) &&
      expected.key.equals(certId.issuerKeyHash.valueBlock.valueHexView)
    );
  }

  private certStatus(status: OcspCertStatus): asn1js.BaseBlock {
    switch (status.status) {
      case 'good':
        return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
      case 'unknown':
        return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
      case 'revoked': {
        if (!status.revokedAt) throw new PkiError('argument', 'a revoked status needs revokedAt');
        const value: asn1js.BaseBlock[] = [
          new asn1js.GeneralizedTime({ valueDate: seconds(status.revokedAt) }),
        ];
        if (status.reason !== undefined) {
          value.push(
            new asn1js.Constructed({
              idBlock: { tagClass: 3, tagNumber: 0 },
              value: [new asn1js.Enumerated({ value: REVOCATION_REASON_CODES[status.reason] })],
            }),
          );
        }
        return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value });
      }
    }
  }
}
