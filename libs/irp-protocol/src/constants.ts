/** The only protocol version this library speaks (spec §4: `<irp version="1.0">`). */
export const PROTOCOL_VERSION = '1.0';

/** The TLS ALPN protocol id of IRP (spec §1). */
export const ALPN_PROTOCOL = 'irp/1';

/** The IANA TCP port of IRP (spec §1). */
export const IRP_PORT = 4604;

/** The DNS SRV service label used to find the DIR of a domain: `_irp._tcp.<domain>` (spec §1). */
export const SRV_SERVICE = '_irp._tcp';

/** Default maximum length of one frame's XML document in octets, 1 MiB (spec §2). */
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576;

/** Size of the frame header: a big-endian uint32 length (spec §2). */
export const FRAME_HEADER_BYTES = 4;

/** Largest length a 4-octet frame header can express. */
export const MAX_FRAME_LENGTH_FIELD = 0xffff_ffff;

/** Minimum TLS version (spec §1). */
export const IRP_TLS_MIN_VERSION = 'TLSv1.2';

/**
 * The cipher suites spec §1 allows, in OpenSSL names, as one `ciphers` string:
 * TLS 1.3 `TLS_AES_256_GCM_SHA384`, `TLS_CHACHA20_POLY1305_SHA256`; TLS 1.2 only
 * ephemeral key exchange with AEAD. (Node takes TLS 1.3 suite names in `ciphers` too.)
 */
export const IRP_TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
