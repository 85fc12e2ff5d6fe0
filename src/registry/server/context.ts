import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from '../storage/registry.js';

export type Action = 'pull' | 'push' | 'delete';

/** What a handler gets for one request. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  reg: Registry;
  /** Whether the caller may also do `action` on another repository (mount sources, catalog entries). */
  can(name: string, action: Action): boolean;
  deleteEnabled: boolean;
}
