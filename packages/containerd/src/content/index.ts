/** The content store: blobs by sha256 digest (containerd's core/content shape). */
export type { ContentStore, Info, Status, Writer, WriterOptions } from './content.js';
export { digestOf, isDigest, parseDigest } from './digest.js';
export { LocalContentStore, writeBlob } from './local-store.js';
export { ContentGrpc } from './service.js';
