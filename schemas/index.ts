export * from './api.js';
export * from './codeTable.js';
export * from './item.js';
export * from './manifest.js';
export * from './modelCard.js';
export * from './storage.js';
