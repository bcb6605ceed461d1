// Entry of a TIFF decoding worker thread: worker threads do not take `--import tsx` from execArgv on
// Node 20, so the TypeScript loader is registered here before the worker's module is loaded.
import { register } from 'tsx/esm/api';

register();
await import('./tiffWorker.ts');
