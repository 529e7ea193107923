export type { CodeTableErrorCode, ItemIds } from './codeTable.js';
export { CodeTable, CodeTableError, ResultMerger, sha256, toHex } from './codeTable.js';
export type { SearchOptions, SearchResult } from './searchResult.js';
