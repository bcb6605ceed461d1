/** Catalogue entries of the officer console pages (issue #8); src/http/operations.ts includes them. */
import type { Operation } from '../../operationParts.ts';

export const CONSOLE_OPERATIONS: readonly Operation[] = [];
