export { openDatabase, type OpenedDatabase, type Sqlite } from './Database.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export { RegistryError } from './errors.ts';
