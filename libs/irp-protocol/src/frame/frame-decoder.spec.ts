import { describe, expect, it } from 'vitest';
import { FramingError } from '../errors/framing.error.js';
import { ResultCode } from '../result-codes.js';
import { frame, header, utf8 } from '../testing/test-buffers.js';
import { FrameDecoder } from './frame-decoder.js';
import { encodeFrame } from './frame-encoder.js';

const DOC_A = '<irp version="1.0"><ping id="a"/></irp>';
const DOC_B = '<irp version="1.0"><hello id="b"/></irp>';
const DOC_C = '<irp version="1.0"><logout id="c"/></irp>';

const asStrings = (frames: Buffer[]): string[] => frames.map((f) => f.toString('utf8'));

describe('FrameDecoder (spec §2)', () => {
  it('returns one frame fed byte by byte, only when its last byte arrives', () => {
    const bytes = frame(DOC_A);
    const decoder = new FrameDecoder(1024);
    for (let i = 0; i < bytes.length - 1; i++) {
      expect(decoder.push(bytes.subarray(i, i + 1))).toEqual([]);
      expect(decoder.bufferedBytes).toBe(i + 1 - (i >= 3 ? 4 : 0));
    }
    expect(asStrings(decoder.push(bytes.subarray(bytes.length - 1)))).toEqual([DOC_A]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('returns every frame of one chunk in order', () => {
    const decoder = new FrameDecoder(1024);
    const chunk = Buffer.concat([frame(DOC_A), frame(DOC_B), frame(DOC_C)]);
    expect(asStrings(decoder.push(chunk))).toEqual([DOC_A, DOC_B, DOC_C]);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('handles frames spanning chunk boundaries at every split point', () => {
    const stream = Buffer.concat([frame(DOC_A), frame(DOC_B)]);
    for (let split = 1; split < stream.length; split++) {
      const decoder = new FrameDecoder(1024);
      const out = [
        ...decoder.push(stream.subarray(0, split)),
        ...decoder.push(stream.subarray(split)),
      ];
      expect(asStrings(out)).toEqual([DOC_A, DOC_B]);
    }
  });

  it('keeps a partial trailing frame buffered', () => {
    const decoder = new FrameDecoder(1024);
    const second = frame(DOC_B);
    const out = decoder.push(Buffer.concat([frame(DOC_A), second.subarray(0, 10)]));
    expect(asStrings(out)).toEqual([DOC_A]);
    expect(decoder.bufferedBytes).toBe(6); // 10 pushed minus the 4-octet header
    expect(asStrings(decoder.push(second.subarray(10)))).toEqual([DOC_B]);
  });

  it('accepts a frame of exactly maxFrameBytes', () => {
    const body = 'x'.repeat(100);
    const decoder = new FrameDecoder(100);
    expect(asStrings(decoder.push(frame(body)))).toEqual([body]);
  });

  it('refuses length 0 with a FramingError (2500)', () => {
    const decoder = new FrameDecoder(1024);
    let caught: unknown;
    try {
      decoder.push(header(0));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FramingError);
    expect((caught as FramingError).code).toBe(ResultCode.CommandFailedClosing);
    expect((caught as FramingError).id).toBe('');
    expect((caught as FramingError).cmd).toBe('');
  });

  it('refuses an oversize length on the 4 header octets alone, before any body', () => {
    const decoder = new FrameDecoder(1024);
    // Only the header is pushed: the error cannot depend on a buffered body.
    expect(() => decoder.push(header(1025))).toThrow(FramingError);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('refuses the largest possible length (4 GiB − 1) without allocating', () => {
    const decoder = new FrameDecoder(1_048_576);
    expect(() => decoder.push(header(0xffff_ffff))).toThrow(FramingError);
  });

  it('refuses an oversize length whose header arrives split', () => {
    const decoder = new FrameDecoder(1024);
    const h = header(2048);
    expect(decoder.push(h.subarray(0, 2))).toEqual([]);
    expect(() => decoder.push(h.subarray(2))).toThrow(FramingError);
  });

  it('refuses a bad frame that follows good ones in the same chunk', () => {
    const decoder = new FrameDecoder(1024);
    expect(() => decoder.push(Buffer.concat([frame(DOC_A), header(0)]))).toThrow(FramingError);
  });

  it('stays failed after a framing error (the stream cannot resynchronise)', () => {
    const decoder = new FrameDecoder(1024);
    expect(() => decoder.push(header(0))).toThrow(FramingError);
    expect(() => decoder.push(frame(DOC_A))).toThrow(FramingError);
  });

  it('accepts Uint8Array chunks that are not Buffers', () => {
    const decoder = new FrameDecoder(1024);
    const bytes = new Uint8Array(frame(DOC_A));
    expect(asStrings(decoder.push(bytes))).toEqual([DOC_A]);
  });

  it('rejects a non-positive maxFrameBytes at construction', () => {
    expect(() => new FrameDecoder(0)).toThrow(RangeError);
  });
});

describe('encodeFrame (spec §2)', () => {
  it('writes a big-endian length of the UTF-8 octets, then the octets', () => {
    const doc = '<irp version="1.0"><ping id="ü"/></irp>'; // ü is 2 octets
    expect(encodeFrame(doc)).toEqual(frame(doc));
    expect(encodeFrame(doc).readUInt32BE(0)).toBe(utf8(doc).length);
  });

  it('frames octets as given', () => {
    expect(encodeFrame(utf8(DOC_B))).toEqual(frame(DOC_B));
  });

  it('refuses an empty document and one above the given limit', () => {
    expect(() => encodeFrame('')).toThrow(FramingError);
    expect(() => encodeFrame('x'.repeat(11), 10)).toThrow(FramingError);
  });
});
