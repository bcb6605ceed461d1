import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Random-access view of a PDF file. The reader only ever asks for small windows (the tail, xref
 * sections, the objects it needs), so a 200 MB scan is never held in memory.
 */
export interface ByteSource {
  readonly length: number;
  /** Bytes [offset, offset+length) clipped to the end of the source; may be shorter at the end. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export class BufferSource implements ByteSource {
  readonly length: number;
  constructor(private readonly bytes: Uint8Array) {
    this.length = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.length));
    const end = Math.max(start, Math.min(offset + length, this.length));
    return this.bytes.subarray(start, end);
  }
  close(): void {}
}

/**
 * File-backed source with a single read-ahead window: parsing walks forward through nearby bytes,
 * so one cached block absorbs most small reads without a syscall each.
 */
export class FileSource implements ByteSource {
  readonly length: number;
  private fd: number | null;
  private cacheStart = 0;
  private cache: Uint8Array = new Uint8Array(0);

  constructor(path: string, private readonly readAhead = 64 * 1024) {
    this.fd = openSync(path, 'r');
    try {
      this.length = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.length));
    const end = Math.max(start, Math.min(offset + length, this.length));
    if (start >= this.cacheStart && end <= this.cacheStart + this.cache.length) {
      return this.cache.subarray(start - this.cacheStart, end - this.cacheStart);
    }
    if (this.fd === null) throw new Error('FileSource is closed');
    const want = end - start;
    if (want > this.readAhead) return this.readDirect(start, want);
    const blockLen = Math.min(this.readAhead, this.length - start);
    this.cache = this.readDirect(start, blockLen);
    this.cacheStart = start;
    return this.cache.subarray(0, want);
  }

  private readDirect(start: number, len: number): Uint8Array {
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd as number, buf, got, len - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, got);
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
      this.cache = new Uint8Array(0);
    }
  }
}
