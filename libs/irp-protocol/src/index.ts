/**
 * @irp/protocol — the pure IRP 1.0 codec: result codes, errors, limits, framing,
 * the safe XML parser, message types and their encoders/decoders. Opens no
 * socket (house rule 1).
 */
export * from './constants.js';
export * from './limits.js';
export * from './result-codes.js';
export * from './time.js';
export { decodeBase64, encodeBase64, pemOrBase64ToDer, splitPem } from './binary.js';

export * from './errors/irp-protocol.error.js';
export * from './errors/framing.error.js';
export * from './errors/xml-encode.error.js';

export * from './frame/frame-decoder.js';
export * from './frame/frame-encoder.js';

export { parseXml, MAX_ATTRIBUTES_PER_ELEMENT } from './xml/safe-xml-parser.js';
export { trimXmlSpace, type XmlElement, type XmlNode } from './xml/xml-element.js';
export { serializeXml } from './xml/xml-writer.js';

export * from './messages/enums.js';
export * from './messages/records.js';
export * from './messages/commands.js';
export * from './messages/greeting.js';
export * from './messages/notify.js';
export * from './messages/result.js';
export * from './messages/responses.js';
export * from './messages/server-message.js';

export {
  COMMAND_ID_PATTERN,
  decodeCommand,
  decodeServerMessage,
  encodeCommand,
  encodeGreeting,
  encodeNotify,
  encodeResponse,
  errorResponse,
  isValidCommandId,
  MAX_ECHOED_NAME_LENGTH,
} from './codec/envelope.js';
