/**
 * Limits enforced while parsing an untrusted XML document (spec §3). The server
 * announces its values in the greeting as `maxDepth`, `maxElements` and
 * `maxTextBytes`.
 */
export interface XmlLimits {
  /** Maximum element nesting depth; the root `<irp>` is depth 1. */
  maxDepth: number;
  /** Maximum number of elements in one document; the root counts. */
  maxElements: number;
  /**
   * Maximum size in UTF-8 octets of one attribute value or of the character data
   * of one element (all its text and CDATA pieces together).
   */
  maxTextBytes: number;
}

/** The server defaults of spec §3: depth 16, 10 000 elements, 256 KiB of text. */
export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  maxDepth: 16,
  maxElements: 10_000,
  maxTextBytes: 262_144,
});

/**
 * Defaults a client uses for documents from a server: the server is trusted more
 * than an anonymous client, and some responses (a `listUsers` page, a CA chain)
 * are larger than any command, so the element and text limits are wider. Still
 * bounded, so a hostile or broken server cannot exhaust the client.
 */
export const DEFAULT_CLIENT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  maxDepth: 16,
  maxElements: 200_000,
  maxTextBytes: 4_194_304,
});
