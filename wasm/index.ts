export type { CodeTableErrorCode, ItemIds } from './codeTable.js';
export { CodeTable, CodeTableError, ResultMerger, sha256 } from './codeTable.js';
export type { SearchOptions, SearchResult } from './searchResult.js';
