// Entry of the scan reader's child process (scanReader.ts): the TypeScript loader is registered here,
// from where this file is, before the child's module is loaded.
import { register } from 'tsx/esm/api';

register();
await import('./scanChild.ts');
