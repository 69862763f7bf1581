/**
 * Content.Write from a client's side: one blob streamed in 1 MiB messages with flow control,
 * committed with its expected digest and size (berth-containerd verifies them). A blob already
 * in the store is success. Shared by berth-ctr and berthd.
 */
import * as grpc from '@grpc/grpc-js';
import { type ContentClient, WriteAction, type IWriteContentRequest, type WriteContentResponse } from './gen/berth/content/v1/index.js';
import { fromServiceError } from './errdefs.js';

const CHUNK = 1 << 20;

/**
 * Returns the committed digest. `where` names the server in errors; `waitForReady` waits for a
 * connection (no deadline) instead of failing at once when there is none.
 */
export async function writeContent(
  content: ContentClient, where: string, ref: string,
  source: AsyncIterable<Buffer> | Iterable<Buffer>, expected?: { digest: string; size: number }, waitForReady = false,
): Promise<string> {
  const call = content.write(new grpc.Metadata({ waitForReady }));
  const done = new Promise<string>((resolve, reject) => {
    let digest = '';
    call.on('data', (r: WriteContentResponse) => {
      if (r.action === WriteAction.WRITE_ACTION_COMMIT) digest = r.digest;
    });
    call.on('error', (e: grpc.ServiceError) => reject(fromServiceError(e, `berth-containerd at ${where} (is it running?)`)));
    call.on('end', () => resolve(digest));
  });
  done.catch(() => undefined);
  const send = async (m: IWriteContentRequest): Promise<void> => {
    if (!call.write(m)) await Promise.race([new Promise((r) => call.once('drain', r)), done]);
  };
  const head = { ref, total: expected?.size ?? 0, expected: expected?.digest ?? '' };
  let offset = 0;
  try {
    await send({ ...head, action: WriteAction.WRITE_ACTION_STAT });
    for await (const chunk of source) {
      for (let i = 0; i < chunk.length; i += CHUNK) {
        const data = chunk.subarray(i, i + CHUNK);
        await send({ ...head, action: WriteAction.WRITE_ACTION_WRITE, offset, data });
        offset += data.length;
      }
    }
    await send({ ...head, action: WriteAction.WRITE_ACTION_COMMIT, total: expected?.size ?? offset, offset });
    call.end();
  } catch (e) {
    call.cancel();
    await done.catch(() => undefined);
    throw e;
  }
  try {
    return (await done) || expected?.digest || '';
  } catch (e) {
    if ((e as Error).name === 'AlreadyExistsError' && expected) return expected.digest;
    throw e;
  }
}
