/**
 * Catalogue entries of the officer console pages and the public report page (issue #8);
 * src/http/operations.ts includes them. The console pages are `public` in the catalogue: they are
 * data-free shells and their router itself redirects visitors without an officer session to the
 * login page (a 401 problem document would help nobody in a browser); the data comes from the
 * scoped, tenant-scoped JSON APIs.
 */
import { z } from 'zod';
import { html, json, uploadBody, type Operation } from '../../operationParts.ts';
import { validationParamsSchema } from '../validations/schema.ts';

const tag = 'officer console';
const page = (path: string, operationId: string, summary: string): Operation => ({
  method: 'GET', path, operationId, tag, access: 'public', audit: false, summary,
  query: z.object({ lang: z.enum(['vi', 'en']).optional().describe('page language (Vietnamese by default)') }),
  responses: { '200': { description: 'HTML page', content: html }, '303': { description: 'to the login page when no officer is signed in' } },
});

export const CONSOLE_OPERATIONS: readonly Operation[] = [
  page('/console', 'console.home', "the officer console: redirects to the signed-in officer's first section or to the login page"),
  page('/console/login', 'console.login', 'officer login page (posts to POST /api/v1/session)'),
  page('/console/certify', 'console.certify', 'certify a copy: scan upload, preview with the stamp position, metadata, refusal (needs an officer with `certify`)'),
  page('/console/today', 'console.today', "today's certified copies of the officer's tenant"),
  page('/console/search', 'console.search', 'search the register by number, code, dates, case code; supervisors annul from here'),
  page('/console/admin', 'console.admin', 'officer accounts and API keys of the tenant (needs `admin`)'),
  page('/console/account', 'console.account', "the signed-in officer's own account: change the password"),
  {
    method: 'GET', path: '/report', operationId: 'report.form', tag, access: 'public', audit: false,
    summary: 'public page to check the signatures of any PDF',
    responses: { '200': { description: 'HTML page', content: html } },
  },
  {
    method: 'POST', path: '/report', operationId: 'report.create', tag, access: 'public', audit: true,
    summary: 'validate an uploaded PDF for people without an API key (rate-limited per client)',
    description: 'multipart/form-data with part `file`. Answers the report as a page (HTML) or, with Accept: application/json, as the JSON validation report of POST /api/v1/validations. The file is deleted with the response.',
    requestBody: uploadBody(validationParamsSchema, false),
    responses: { '200': { description: 'the validation report', content: { ...html, ...json('ValidationReport') } }, '429': { description: 'rate-limited' } },
  },
];
