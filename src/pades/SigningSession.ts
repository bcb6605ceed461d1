/**
 * Signing as explicit stages (pyHanko's PdfSigner / EU DSS getDataToSign → signDigest → sign):
 *   prepare  — place the signature dictionary with its placeholders in a new incremental update;
 *   digest   — hash the byte ranges while the output is written (one pass over the original);
 *   sign     — done by the caller, anywhere (HSM, remote signer);
 *   embed    — write the CMS into the /Contents hole in place.
 * The original bytes are streamed, never loaded whole: a 200 MB scan costs one read, one write
 * and one hash, plus a few KB for the update.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile as readFileAsync, rename, rm, stat as statAsync, type FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IncrementalUpdate, contentsHexFor, extendInPlace, type PdfDocument, type SignaturePlaceholder } from '../pdf/index.ts';
import type { DigestAlgorithm } from '../signers/Signer.ts';
import { PadesError } from './errors.ts';
import { placeSignature, type SignatureDictionaryOptions, type SignatureFieldOptions } from './signatureField.ts';

/**
 * A digest state over all of a document's bytes. A stage kept in memory hands it to the next one,
 * which then hashes only what it appends (a signature's ByteRange and the stored file's SHA-256 both
 * start with the whole previous revision): a 6 MB scan is hashed once, not once per stage.
 * Whoever continues it works on a copy.
 */
export interface RunningDigest {
  readonly algorithm: DigestAlgorithm;
  readonly hash: Hash;
}

export type DocumentInput = { path: string } | { bytes: Uint8Array; digest?: RunningDigest };
export type DocumentOutput = { path: string } | { memory: true };

const NODE_HASH: Record<DigestAlgorithm, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export interface PrepareOptions {
  signature: SignatureDictionaryOptions;
  field?: SignatureFieldOptions;
  digestAlgorithm: DigestAlgorithm;
}

export interface PreparedSignature {
  readonly placeholder: SignaturePlaceholder;
  readonly byteRange: readonly [number, number, number, number];
  readonly fieldName: string;
  readonly pageIndex: number;
  readonly digestAlgorithm: DigestAlgorithm;
  /** Hash of the two signed ranges (ISO 32000-1 §12.8.1), what message-digest must equal. */
  readonly digest: Uint8Array;
  /** Writes the DER CMS (or timestamp token) into the hole and completes the output. */
  embed(der: Uint8Array): Promise<SignedOutput>;
  /** Gives up: removes a partially written output file. */
  abort(): Promise<void>;
}

export interface SignedOutput {
  /** The whole signed document when the output is in memory. */
  bytes?: Uint8Array;
  /** Over all of `bytes`, when the output is in memory and its digest was computed anyway. */
  digest?: RunningDigest;
  path?: string;
  length: number;
}

/** A copy of the input's digest state when it is in `algorithm` (to continue it), else undefined. */
function continuedDigest(input: DocumentInput, algorithm: DigestAlgorithm): Hash | undefined {
  return 'bytes' in input && input.digest?.algorithm === algorithm ? input.digest.hash.copy() : undefined;
}

export async function prepareSignature(
  doc: PdfDocument,
  input: DocumentInput,
  output: DocumentOutput,
  opts: PrepareOptions,
): Promise<PreparedSignature> {
  const up = new IncrementalUpdate(doc);
  const placed = await placeSignature(up, doc, opts.signature, opts.field, opts.digestAlgorithm);
  const built = up.build();
  const ph = built.placeholders.find((p) => p.objectNumber === placed.signatureObject);
  if (!ph) throw new PadesError('internal-placeholder-missing', 'the writer did not record the signature placeholder', { status: 500 });
  // build() already wrote the final /ByteRange: it knows the total length.
  const originalLength = doc.source.length;
  if ('bytes' in input && input.bytes.length !== originalLength) {
    throw new PadesError('internal-input-mismatch', 'the document and the input bytes differ in length', { status: 500 });
  }

  // Only an output in memory continues the input's digest (a file output hashes while it copies).
  const continued = 'memory' in output ? continuedDigest(input, opts.digestAlgorithm) : undefined;
  const hash = continued ?? createHash(NODE_HASH[opts.digestAlgorithm]);
  // Offsets of the hole inside the appended bytes.
  const holeStart = ph.contentsStart - originalLength;
  const holeEnd = ph.contentsEnd - originalLength;
  const head = built.bytes.subarray(0, holeStart);
  const tail = built.bytes.subarray(holeEnd);

  let memory: Uint8Array | undefined;
  let atHole: Hash | undefined;
  let out: FileHandle | undefined;
  let partialPath: string | undefined;
  if ('memory' in output) {
    if ('bytes' in input) memory = extendInPlace(input.bytes, built.bytes.length);
    else {
      memory = extendInPlace(new Uint8Array(0), built.totalLength);
      await readInto(input.path, memory.subarray(0, originalLength));
    }
    memory.set(built.bytes, originalLength);
    hash.update(continued ? head : memory.subarray(0, ph.contentsStart));
    // Kept to continue over the hole once it is filled: the output's own digest (RunningDigest).
    atHole = hash.copy();
    hash.update(tail);
  } else {
    partialPath = `${output.path}.partial`;
    out = await open(partialPath, 'w');
    try {
      await copyHashed(input, originalLength, out, hash);
      // The update: hashed except the hole, written in one call at its offset.
      hash.update(head);
      hash.update(tail);
      await out.write(built.bytes, 0, built.bytes.length, originalLength);
    } catch (err) {
      await out.close();
      await rm(partialPath, { force: true });
      throw err;
    }
  }
  const digest = new Uint8Array(hash.digest());

  return {
    placeholder: ph,
    byteRange: ph.byteRange,
    fieldName: placed.fieldName,
    pageIndex: placed.pageIndex,
    digestAlgorithm: opts.digestAlgorithm,
    digest,
    async embed(der) {
      const hex = Buffer.from(contentsHexFor(der, ph.reservedBytes), 'latin1');
      if (memory) {
        memory.set(hex, ph.contentsStart + 1);
        atHole!.update(memory.subarray(ph.contentsStart));
        return { bytes: memory, digest: { algorithm: opts.digestAlgorithm, hash: atHole! }, length: memory.length };
      }
      // The file stayed open since prepare: write the hole in place, make it durable, publish it.
      try {
        await out!.write(hex, 0, hex.length, ph.contentsStart + 1);
        await out!.sync();
      } finally {
        await out!.close();
      }
      const finalPath = (output as { path: string }).path;
      await rename(partialPath!, finalPath);
      return { path: finalPath, length: built.totalLength };
    },
    async abort() {
      if (out) {
        await out.close().catch(() => undefined);
        await rm(partialPath!, { force: true });
      }
    },
  };
}

const CHUNK = 1 << 20;

/**
 * Copies the original into `out` while hashing it: one read and one write per chunk, the next read
 * overlapping the current write (double buffering) — the cost of a plain copy plus SHA-2.
 */
async function copyHashed(input: DocumentInput, length: number, out: FileHandle, hash: Hash): Promise<void> {
  if ('bytes' in input) {
    hash.update(input.bytes);
    await out.write(input.bytes, 0, input.bytes.length, 0);
    return;
  }
  const src = await open(input.path, 'r');
  try {
    const size = Math.max(1, Math.min(CHUNK, length));
    let bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
    let pos = 0;
    let pending = length > 0 ? src.read(bufs[0], 0, Math.min(size, length), 0) : undefined;
    while (pending) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) throw new PadesError('input-changed', 'the input file shrank while it was being signed', { status: 409 });
      const chunk = bufs[0].subarray(0, bytesRead);
      const next = pos + bytesRead;
      pending = next < length ? src.read(bufs[1], 0, Math.min(size, length - next), next) : undefined;
      hash.update(chunk);
      await out.write(chunk, 0, bytesRead, pos);
      pos = next;
      bufs = [bufs[1], bufs[0]];
    }
  } finally {
    await src.close();
  }
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Buffer> {
  yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function readInto(path: string, target: Uint8Array): Promise<void> {
  const fh = await open(path, 'r');
  try {
    let off = 0;
    for (;;) {
      const { bytesRead } = await fh.read(target, off, Math.min(1 << 20, target.length - off), off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Writes `input` followed by an update that holds no signature (DSS, metadata): streamed, atomic
 * (a `.partial` file renamed at the end) for files.
 */
export async function appendUpdate(input: DocumentInput, output: DocumentOutput, update: Uint8Array): Promise<SignedOutput> {
  if ('memory' in output) {
    const src = 'bytes' in input ? input.bytes : new Uint8Array(await readFileAsync(input.path));
    const out = extendInPlace(src, update.length);
    out.set(update, src.length);
    const digest = 'bytes' in input && input.digest ? { algorithm: input.digest.algorithm, hash: input.digest.hash.copy().update(update) } : undefined;
    return { bytes: out, digest, length: out.length };
  }
  const partial = `${output.path}.partial`;
  const source = 'path' in input ? createReadStream(input.path, { highWaterMark: 1 << 20 }) : oneChunk(input.bytes);
  const tail = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, chunk);
    },
    flush(cb) {
      this.push(update);
      cb();
    },
  });
  try {
    await pipeline(source, tail, createWriteStream(partial, { highWaterMark: 1 << 20 }));
    await rename(partial, output.path);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  const { size } = await statAsync(output.path);
  return { path: output.path, length: size };
}
