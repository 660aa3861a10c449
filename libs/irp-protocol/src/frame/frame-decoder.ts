import { FRAME_HEADER_BYTES } from '../constants.js';
import { FramingError } from '../errors/framing.error.js';

/**
 * Incremental, bounded decoder of IRP frames (spec §2): a big-endian uint32
 * length followed by that many octets of XML.
 *
 * - A frame split over many chunks and many frames in one chunk both work.
 * - The length is checked on the 4 header octets, before any of the body is
 *   buffered: a length of 0 or above `maxFrameBytes` throws {@link FramingError}
 *   at once, so an oversize frame never costs memory.
 * - After a framing error the stream cannot be resynchronised: every further
 *   `push` throws the same error (spec §2: the server answers 2500 and closes).
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being read, or -1 while reading a header. */
  private bodyLength = -1;
  private failure: FramingError | undefined;

  /** @param maxFrameBytes the largest acceptable body length in octets */
  constructor(readonly maxFrameBytes: number) {
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
      throw new RangeError(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
    }
  }

  /** Octets received but not yet returned as part of a complete frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds received octets; returns the bodies (XML documents) of every frame
   * completed by them, in order. Throws {@link FramingError} on a bad length.
   */
  push(chunk: Uint8Array): Buffer[] {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return [];
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.chunks.push(buf);
    this.buffered += buf.length;

    const frames: Buffer[] = [];
    for (;;) {
      if (this.bodyLength < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        // spec §2: checked on the header alone, before the body is buffered.
        if (length === 0) this.fail('frame length 0');
        if (length > this.maxFrameBytes) {
          this.fail(`frame length ${length} exceeds maxFrameBytes ${this.maxFrameBytes}`);
        }
        this.bodyLength = length;
      }
      if (this.buffered < this.bodyLength) break;
      frames.push(this.take(this.bodyLength));
      this.bodyLength = -1;
    }
    return frames;
  }

  /** Removes and returns the first `n` buffered octets (n ≤ buffered). */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      // Fast path: within one chunk, no copy for the frame body.
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0] as Buffer;
      const want = n - filled;
      if (head.length <= want) {
        head.copy(out, filled);
        filled += head.length;
        this.chunks.shift();
      } else {
        head.copy(out, filled, 0, want);
        filled += want;
        this.chunks[0] = head.subarray(want);
      }
    }
    this.buffered -= n;
    return out;
  }

  private fail(message: string): never {
    this.chunks.length = 0;
    this.buffered = 0;
    this.failure = new FramingError(`Framing error: ${message}`);
    throw this.failure;
  }
}
