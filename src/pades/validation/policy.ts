/**
 * Validation policy as data, in the spirit of the EU DSS constraint files: which checks make a
 * signature fail and which only warn, the accepted algorithms and key sizes, and revocation needs.
 * The default is strict. `parsePolicy` reads the JSON form (unknown keys refused).
 */
import { z } from 'zod';

/** What a failed check does: `fail` gives its ETSI indication, `warn` only reports it. */
export type Level = 'fail' | 'warn';

export interface ValidationPolicy {
  name: string;
  /** Digests accepted for the message digest and the signature (others: CRYPTO_CONSTRAINTS_FAILURE). */
  acceptedDigests: string[];
  /** Minimum key sizes (ETSI TS 119 312 / SOG-IS: RSA >= 2048, EC >= 256 bits). */
  minRsaBits: number;
  minEcBits: number;
  /** Constraint levels per check. */
  levels: {
    /** Algorithms and key sizes (EN 319 102-1 §5.2.8). */
    cryptoConstraints: Level;
    /** Signer key usage digitalSignature or nonRepudiation (EN 319 102-1 §5.2.6; RFC 5280 §4.2.1.3). */
    keyUsage: Level;
    /** Changes after signing that are not permitted (ISO 32000-1 §12.8.2.2, §12.8.4). */
    modifications: Level;
    /** A chain to a trust anchor (EN 319 102-1 §5.2.6). */
    trust: Level;
  };
  revocation: {
    /**
     * When true, a signer whose status cannot be established (no RevocationSource, `unknown`,
     * `unavailable`) ends INDETERMINATE / TRY_LATER (EN 319 102-1 §5.2.6.4). When false, that check
     * is a warning only. A `revoked` answer always counts.
     */
    required: boolean;
    /** Whether the RevocationSource may go online (passed on, for the composition root to honour). */
    fetchOnline: boolean;
  };
  /** Without a TimestampVerifier, signature timestamps are "not checked"; `fail` makes that indeterminate. */
  timestampsRequired: boolean;
  /**
   * Certificate policies (RFC 5280 §4.2.1.4 OIDs) one of which a signer's certificate must assert,
   * e.g. a national qualified-signature policy; empty: any (EN 319 102-1 §5.2.6 acceptable policy set).
   * Not met: INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE. Document time-stamps are not concerned.
   */
  acceptedCertificatePolicies: string[];
}

export const STRICT_POLICY: ValidationPolicy = Object.freeze({
  name: 'strict',
  acceptedDigests: ['SHA-256', 'SHA-384', 'SHA-512', 'SHA3-256', 'SHA3-384', 'SHA3-512', 'SHAKE256'],
  minRsaBits: 2048,
  minEcBits: 256,
  levels: { cryptoConstraints: 'fail', keyUsage: 'fail', modifications: 'fail', trust: 'fail' },
  revocation: { required: true, fetchOnline: false },
  timestampsRequired: false,
  acceptedCertificatePolicies: [],
}) as ValidationPolicy;

const level = z.enum(['fail', 'warn']);
const policySchema = z
  .object({
    name: z.string().min(1),
    acceptedDigests: z.array(z.string()).min(1),
    minRsaBits: z.number().int().min(0),
    minEcBits: z.number().int().min(0),
    levels: z
      .object({ cryptoConstraints: level, keyUsage: level, modifications: level, trust: level })
      .strict()
      .partial(),
    revocation: z.object({ required: z.boolean(), fetchOnline: z.boolean() }).strict().partial(),
    timestampsRequired: z.boolean(),
    acceptedCertificatePolicies: z.array(z.string().regex(/^[0-2](\.\d+)+$/, 'a dotted object identifier')),
  })
  .strict()
  .partial();

/** Builds a policy from JSON text or a parsed object; missing members take the strict default. */
export function parsePolicy(input: string | unknown): ValidationPolicy {
  const data: unknown = typeof input === 'string' ? JSON.parse(input) : input;
  const p = policySchema.parse(data);
  return {
    name: p.name ?? 'custom',
    acceptedDigests: p.acceptedDigests ?? [...STRICT_POLICY.acceptedDigests],
    minRsaBits: p.minRsaBits ?? STRICT_POLICY.minRsaBits,
    minEcBits: p.minEcBits ?? STRICT_POLICY.minEcBits,
    levels: { ...STRICT_POLICY.levels, ...p.levels },
    revocation: { ...STRICT_POLICY.revocation, ...p.revocation },
    timestampsRequired: p.timestampsRequired ?? STRICT_POLICY.timestampsRequired,
    acceptedCertificatePolicies: p.acceptedCertificatePolicies ?? [],
  };
}

/** The JSON form of a policy (what `parsePolicy` reads back). */
export function policyToJson(policy: ValidationPolicy): string {
  return JSON.stringify(policy, null, 2);
}
