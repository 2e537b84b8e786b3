export { EncryptedFileCache, KEEP_UNREADABLE, type CacheStatus, type EncryptedFileCacheOptions } from './encrypted-file-cache.js';
export { CacheNotOursError, CacheUnreadableError, KeyFileError, NOT_OURS_FIX, type CacheUnreadableReason, type KeyFileProblem } from './errors.js';
export { decodeCache, encodeCache } from './format.js';
export { generateKey, keygenCommand, loadKeyFile, parseKey, writeKeyFile, type WriteKeyFileOptions } from './key.js';
