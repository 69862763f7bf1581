/** Berth's tar codec (ustar + PAX incl. binary xattrs + GNU long names). */
export { BLOCK, END, type EntryType, TarFormatError, type TarHeader, encodeHeader, header } from './header.js';
export { readTar, type TarEntry } from './reader.js';
export { writeTar, type TarInput } from './writer.js';
