/**
 * In-memory stages append to one buffer: every revision is the previous one plus an incremental
 * update (ISO 32000-1 §7.5.6), so instead of a new 6 MB array and a copy per stage (and the garbage
 * collections the discarded ones cause), a document's buffer gets room to grow and each stage writes
 * after the last. `committed` records how far a buffer's bytes belong to documents already handed
 * out; a stage extends in place only when its input ends exactly there (it is the newest revision),
 * so two stages started from the same input never write over each other: the second one copies.
 * Views keep their own length, so nobody sees the bytes past their end.
 */
const committed = new WeakMap<ArrayBufferLike, number>();

/** Room kept for later stages' updates (signatures, DSS, document timestamp: tens of KB each). */
export function growthRoom(length: number): number {
  return Math.max(256 * 1024, length >> 4);
}

/**
 * Declares the room after `bytes` in its buffer free (the caller allocated it with spare room and
 * nothing else refers to that part); `extendInPlace` then grows into it.
 */
export function allowGrowth(bytes: Uint8Array): Uint8Array {
  committed.set(bytes.buffer, bytes.byteOffset + bytes.length);
  return bytes;
}

/** `bytes` followed by `extra` bytes to fill (their content is unspecified), in place when possible. */
export function extendInPlace(bytes: Uint8Array, extra: number): Uint8Array {
  const end = bytes.byteOffset + bytes.length;
  if (committed.get(bytes.buffer) === end && end + extra <= bytes.buffer.byteLength) {
    committed.set(bytes.buffer, end + extra);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length + extra);
  }
  const length = bytes.length + extra;
  const out = new Uint8Array(new ArrayBuffer(length + growthRoom(length)), 0, length);
  out.set(bytes, 0);
  committed.set(out.buffer, length);
  return out;
}
