/** Streaming tar writer: members in, archive bytes out. */
import { END, encodeHeader, padding, type TarHeader } from './header.js';

/** A member to write; `body` is the content of a regular file, exactly `header.size` bytes. */
export interface TarInput {
  header: TarHeader;
  body?: Buffer | AsyncIterable<Buffer>;
}

/** The archive for `entries`, ending with two zero blocks. Throws if a body's length is wrong. */
export async function* writeTar(entries: AsyncIterable<TarInput> | Iterable<TarInput>): AsyncGenerator<Buffer> {
  for await (const { header, body } of entries) {
    yield encodeHeader(header);
    if (header.type !== 'file') continue;
    let n = 0;
    if (body) {
      for await (const chunk of Buffer.isBuffer(body) ? [body] : body) {
        n += chunk.length;
        if (n > header.size) throw new Error(`tar: ${header.name} is longer than its size ${header.size} (changed while being read?)`);
        yield chunk;
      }
    }
    if (n !== header.size) throw new Error(`tar: ${header.name} has ${n} bytes, its header says ${header.size} (changed while being read?)`);
    yield padding(n);
  }
  yield END;
}
