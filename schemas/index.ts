export * from './codeTable.js';
export * from './manifest.js';
