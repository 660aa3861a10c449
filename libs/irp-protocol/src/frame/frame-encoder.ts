import { FRAME_HEADER_BYTES, MAX_FRAME_LENGTH_FIELD } from '../constants.js';
import { FramingError } from '../errors/framing.error.js';

/**
 * Wraps one XML document in an IRP frame (spec §2): a big-endian uint32 length
 * of the UTF-8 octets, then the octets.
 *
 * @param xml the document, as UTF-8 octets or as a string (encoded as UTF-8)
 * @param maxFrameBytes optional limit of the receiver; a longer document throws
 * @throws FramingError for an empty document or one longer than the limit
 */
export function encodeFrame(xml: Uint8Array | string, maxFrameBytes?: number): Buffer {
  const body = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  const limit = Math.min(maxFrameBytes ?? MAX_FRAME_LENGTH_FIELD, MAX_FRAME_LENGTH_FIELD);
  if (body.length === 0) throw new FramingError('Framing error: empty document');
  if (body.length > limit) {
    throw new FramingError(`Framing error: document of ${body.length} octets exceeds ${limit}`);
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}
