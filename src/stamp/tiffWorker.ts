/**
 * A TIFF decoding worker thread (see tiffDecoder.ts): reads a file's page directories, or decodes one
 * page and Flate-compresses its samples, one job at a time. Refusals go back as the StampError's
 * fields, anything else as a message.
 */
import { parentPort } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import { jobErrorFields } from './jobErrors.ts';
import type { TiffJob, TiffReply } from './tiffDecoder.ts';
import { decodeTiffPage, readTiffPages } from './tiff.ts';

// utif2 prints a debugging line for every tiled page; the worker's console is the service's stdout,
// where the log's JSON lines go.
console.log = () => {};

parentPort!.on('message', (job: TiffJob) => {
  try {
    if (job.kind === 'read') {
      reply({ id: job.id, read: readTiffPages(job.buffer, job.label) });
    } else {
      const { samples, ...page } = decodeTiffPage(job.buffer, job.ifd, job.header, job.label);
      // The samples are compressed here, where blocking harms no one, and only the stream crosses
      // back (moved, not copied).
      const out = deflateSync(samples);
      // A small output may sit in Node's shared Buffer pool, which cannot be moved: that one is copied.
      const flate = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
      reply({ id: job.id, page: { ...page, flate } }, [flate.buffer as ArrayBuffer]);
    }
  } catch (err) {
    reply({ id: job.id, error: jobErrorFields(err) });
  }
});

function reply(message: TiffReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}
