/**
 * Messages between the service and its scan reader process (scanReader.ts, scanChild.ts), over plain
 * pipes. A frame is a JSON header and the byte parts it announces: the header's length (u32, big
 * endian), the header (UTF-8 JSON; its `parts` gives each part's length), then the parts as they are.
 * A scan (up to 100 MB) and the pages coming back are neither serialised nor copied in one piece: a
 * part is received a pipe chunk at a time into one buffer of its announced size, so no single step
 * holds up the event loop the way one large copy or deserialisation would.
 */
import type { Writable } from 'node:stream';

export interface Frame {
  header: Record<string, unknown>;
  parts: Buffer[];
}

const MAX_HEADER_BYTES = 1024 * 1024;
const MAX_PART_BYTES = 2 ** 32 - 1;

export function writeFrame(out: Writable, header: Record<string, unknown>, parts: readonly Uint8Array[] = []): void {
  for (const p of parts) if (p.length > MAX_PART_BYTES) throw new RangeError(`a frame part of ${p.length} bytes is too large`);
  const json = Buffer.from(JSON.stringify({ ...header, parts: parts.map((p) => p.length) }), 'utf8');
  const size = Buffer.alloc(4);
  size.writeUInt32BE(json.length);
  out.write(Buffer.concat([size, json]));
  for (const p of parts) if (p.length > 0) out.write(p);
}

/** Reassembles frames from a stream's chunks; `push` throws on a malformed frame. */
export class FrameReader {
  /** What is being filled: the header's length, the header, or part `parts.length`. */
  private stage: 'size' | 'header' | 'part' = 'size';
  private target: Buffer = Buffer.alloc(4);
  private filled = 0;
  private header: Record<string, unknown> = {};
  private lengths: number[] = [];
  private parts: Buffer[] = [];

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  push(chunk: Uint8Array): void {
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(this.target.length - this.filled, chunk.length - at);
      this.target.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.target.length) this.advance();
    }
  }

  private advance(): void {
    if (this.stage === 'size') {
      const size = this.target.readUInt32BE(0);
      if (size > MAX_HEADER_BYTES) throw new RangeError(`a frame header of ${size} bytes`);
      this.expect('header', size);
      if (size > 0) return;
    }
    if (this.stage === 'header') {
      const header: unknown = JSON.parse(this.target.toString('utf8'));
      const lengths = (header as { parts?: unknown } | null)?.parts;
      if (typeof header !== 'object' || header === null || !Array.isArray(lengths) || !lengths.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_PART_BYTES)) {
        throw new TypeError('a frame header without valid part lengths');
      }
      this.header = header as Record<string, unknown>;
      this.lengths = lengths as number[];
      this.parts = [];
    } else {
      this.parts.push(this.target);
    }
    let next = this.lengths[this.parts.length];
    for (; next === 0; next = this.lengths[this.parts.length]) this.parts.push(Buffer.alloc(0));
    if (next !== undefined) {
      // Never from Node's shared pool: a part must be its own ArrayBuffer (pdf-lib reads some through
      // views of the whole buffer).
      this.expect('part', next);
      return;
    }
    const frame = { header: this.header, parts: this.parts };
    this.expect('size', 4);
    this.onFrame(frame);
  }

  private expect(stage: FrameReader['stage'], bytes: number): void {
    this.stage = stage;
    this.target = stage === 'part' ? Buffer.allocUnsafeSlow(bytes) : Buffer.alloc(bytes);
    this.filled = 0;
  }
}
