/**
 * RFC 3161 time-stamping: the HTTP client (requestTimestamp / TsaClient) used for PAdES B-T and
 * document timestamps, and the built-in TSA (TimeStampAuthority) served by POST /tsa through
 * handleTimestampQuery. The ASN.1 lives in src/cms/tsp.ts.
 */
export { TsaError, type TsaErrorCode } from './TsaError.ts';
export {
  TsaClient,
  requestTimestamp,
  type TimestampRequest,
  type TimestampResult,
  type TsaAuth,
  type TsaClientOptions,
} from './TsaClient.ts';
export {
  DEV_TSA_POLICY_OID,
  TimeStampAuthority,
  type TimeStampAuthorityOptions,
  type TimeStampOutcome,
} from './TimeStampAuthority.ts';
export { SqliteSerialSource, type SerialSource } from './SerialSource.ts';
export { TSA_SERIAL_SCHEMA_SQL } from './serialSchema.ts';
export { defaultScheme, signTimeStampToken, type SignTimeStampTokenOptions } from './signTimeStampToken.ts';
export {
  MAX_TIMESTAMP_QUERY_BYTES,
  TIMESTAMP_QUERY,
  TIMESTAMP_REPLY,
  handleTimestampQuery,
  type TimestampHttpResult,
} from './handleTimestampQuery.ts';
export { httpTimestampSource, localTimestampSource, type IssuedToken, type TokenSource } from './timestampSources.ts';
