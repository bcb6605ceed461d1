export { CertificatePool, isSelfIssued } from './CertificatePool.ts';
export { loadCertificates, parseCertificates } from './certificates.ts';
export { PkiError } from './errors.ts';
export * from './revocation/index.ts';
export { nameAttributes, nameValueKey, pathProblems } from './pathValidation.ts';
