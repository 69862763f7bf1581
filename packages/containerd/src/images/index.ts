/** Images: records, media types, platforms, resolution, unpacking, import, and the storage root. */
export { type Image, ImageStore } from './image-store.js';
export { importOciLayout, type ImportOptions } from './import.js';
export { type Descriptor, isConfig, isIndex, isLayer, isManifest, MediaType, type Platform } from './media-types.js';
export { chooseManifest, hostPlatform, matches } from './platform.js';
export { chainIds, children, type ImageConfig, type Manifest, readConfig, resolveManifest } from './resolve.js';
export { ImageStorage, UNCOMPRESSED_LABEL } from './storage.js';
export { unpack, type UnpackResult } from './unpack.js';
export { ImagesGrpc } from './service.js';
