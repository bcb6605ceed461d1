/** Catalogue entries of officer sessions, accounts, API keys and audit over HTTP (issue #6); src/http/operations.ts includes them. */
import type { Operation } from '../../operationParts.ts';

export const ACCOUNT_OPERATIONS: readonly Operation[] = [];
