export { durably, openDatabase, openSnapshot, snapshotDatabase, type OpenedDatabase, type Sqlite } from './Database.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export { RegistryError } from './errors.ts';
export { TenantRepository, DEFAULT_REGISTER_SUFFIX } from './TenantRepository.ts';
export { VolumeRepository, volumeLabel } from './VolumeRepository.ts';
export { CopyRepository } from './CopyRepository.ts';
export { verifyChain, chainHead, canonicalJson, type EventType } from './eventChain.ts';
export {
  newPublicCode,
  normalizePublicCode,
  prepareAccessCode,
  nextAccessCode,
  AccessCodePool,
  prepareAccessCodeSync,
  PUBLIC_CODE_LENGTH,
  type PreparedAccessCode,
} from './codes.ts';
export { registerYear } from './validateEntry.ts';
export type * from './types.ts';
export { ApiKeyRepository, parseCidr, parseScopes, type ApiKeyCheck } from './ApiKeyRepository.ts';
export { AuditLog } from './AuditLog.ts';
export { IdempotencyRepository, type IdempotencyReservation } from './IdempotencyRepository.ts';
export { registrySize, type RegistrySize } from './stats.ts';
export { API_SCOPES, OFFICER_ROLES, ROLE_SCOPES } from './accessTypes.ts';
export type * from './accessTypes.ts';
export { OfficerRepository, normalizeUsername, type LockoutPolicy } from './OfficerRepository.ts';
export { SessionRepository, sessionIdOf } from './SessionRepository.ts';
export { hashPassword, verifyPassword, generatePassword, checkPasswordPolicy, DUMMY_PASSWORD_HASH, PASSWORD_MIN_LENGTH } from './passwords.ts';
export type * from './officerTypes.ts';
export {
  TenantSettingsRepository,
  DEFAULT_SEAL_KEY_LABEL,
  MAX_SEAL_IMAGE_BYTES,
  sealImageKind,
  type CopyLevel,
  type SealImage,
  type TenantSettings,
  type TenantSettingsChanges,
} from './TenantSettingsRepository.ts';
export { RefusalRepository, REFUSAL_GROUNDS, type NewRefusal, type Refusal, type RefusalGround, type RefusalQuery } from './RefusalRepository.ts';
