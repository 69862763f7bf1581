/** Layer diffs: apply a layer onto a snapshot, and take a snapshot's diff as a layer. */
export { applyLayer, cleanName, LayerPathError, OPAQUE_WHITEOUT, OPAQUE_XATTR, WHITEOUT_PREFIX, type ApplyResult } from './apply.js';
export { diffTar } from './compare.js';
export { decompress, detect, type Compression } from './decompress.js';
export { DiffGrpc, layersOf } from './service.js';
