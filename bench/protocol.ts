/** What bench/run.ts sends to a bench/worker.ts child and what the child answers. */

export type EngineId =
  /** read + SHA-256 + write back, then one HSM signature: a signer that did nothing else. */
  | 'floor'
  /** The floor with an fsync of the output, as our engine does before renaming (diagnostic). */
  | 'floor-fsync'
  /** Our engine: signPdf from src/pades, key officer1 in the HSM. */
  | 'chungthuc'
  /** @signpdf/signpdf + placeholder-plain + signer-p12, software RSA-2048 key. */
  | 'signpdf'
  /** @libpdf/core PDF.sign with its P12Signer, same software key. */
  | 'libpdf'
  /** Bare C_Sign loop on a SHA-256 digest through Pkcs11Signer.sign. */
  | 'csign';

export interface JobSpec {
  engine: EngineId;
  /** Input PDF (not used by csign). */
  input?: string;
  /** Where each iteration writes its signed file (overwritten each time). */
  output?: string;
  /** One unmeasured iteration first (JIT, caches, lazy module loading). */
  warmup: boolean;
  minIterations: number;
  maxIterations: number;
  /** Keep iterating until this much time has been measured (after minIterations). */
  budgetMs: number;
  p12Path?: string;
  passphrase?: string;
}

export interface JobSuccess {
  ok: true;
  engine: EngineId;
  iterations: number;
  latenciesMs: number[];
  medianMs: number;
  /** iterations / measured wall time (iterations run one after another). */
  perSecond: number;
  /** Peak resident set of the child over its whole life (setup included), MiB. */
  peakRssMb: number;
  /** Resident set after setup, before the first iteration, MiB. */
  setupRssMb: number;
  outputBytes?: number;
}

export interface JobFailure {
  ok: false;
  engine: EngineId;
  error: string;
  peakRssMb?: number;
}

export type JobResult = JobSuccess | JobFailure;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
