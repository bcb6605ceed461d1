/** Catalogue entries of certified copies, refusals, volumes and the public lookup API (issue #7); src/http/operations.ts includes them. */
import type { Operation } from '../../operationParts.ts';

export const COPY_OPERATIONS: readonly Operation[] = [];
