import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { unixAddress } from '@berth/api';
import { SpareService, TaskService as TaskServiceDefinition, type SpareServer, type TaskServer } from '@berth/api/berth/shim/v1';

/** Whether something answers on a unix socket (a live shim must never be displaced). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Serves the Task API on `socket` (see bind). */
export function serve(impl: TaskServer, socket: string): Promise<grpc.Server> {
  return bind(socket, (s) => s.addService(TaskServiceDefinition, impl));
}

/** Serves a spare's Spare API on its spare socket (see bind). */
export function serveSpare(impl: SpareServer, socket: string): Promise<grpc.Server> {
  return bind(socket, (s) => s.addService(SpareService, impl));
}

/**
 * Serves on `socket`, mode 0660. The socket is bound inside a fresh 0700 directory, chmodded
 * there and then renamed into place, so it is never reachable with looser permissions.
 */
async function bind(socket: string, add: (server: grpc.Server) => void): Promise<grpc.Server> {
  unixAddress(socket); // checks the length
  mkdirSync(dirname(socket), { recursive: true, mode: 0o711 });
  if (existsSync(socket)) {
    if (await answers(socket)) throw new Error(`${socket} is in use by a live process`);
    rmSync(socket, { force: true });
  }
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  add(server);
  const tmpDir = mkdtempSync(join(dirname(socket), '.b-'));
  const tmpSock = join(tmpDir, 's');
  try {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${tmpSock}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    chmodSync(tmpSock, 0o660);
    renameSync(tmpSock, socket);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  return server;
}
