import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { errors } from '../../../errors/errors.js';
import { globToRegExp } from '../../storage/glob.js';
import type { Action } from '../context.js';

const ACTIONS: readonly Action[] = ['pull', 'push', 'delete'];

interface Rule {
  subjects: string[];
  repositories: RegExp[];
  actions: Set<Action>;
}

/**
 * Who may do what, from a YAML (or JSON) file:
 *
 *   groups:
 *     developers: [alice, bob]
 *   access:
 *     - subjects: [group:developers, user:carol]   # also: authenticated, anonymous
 *       repositories: ["team/**"]                  # `*` one component, `**` any
 *       actions: [pull, push, delete]
 *     - subjects: [anonymous]
 *       repositories: ["public/*"]
 *       actions: [pull]
 *
 * `anonymous` matches every caller, signed in or not; `authenticated` any
 * signed-in user. A caller gets the union of the actions of every matching rule.
 */
export class Acl {
  readonly #rules: Rule[];
  readonly #groups: Map<string, Set<string>>;

  private constructor(rules: Rule[], groups: Map<string, Set<string>>) {
    this.#rules = rules;
    this.#groups = groups;
  }

  static parse(text: string, where = 'acl'): Acl {
    const bad = (why: string) => errors.invalidArgument(`${where}: ${why}`);
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (e) {
      throw bad(`not valid YAML: ${(e as Error).message}`);
    }
    const d = (doc ?? {}) as { groups?: Record<string, unknown>; access?: unknown };
    const groups = new Map<string, Set<string>>();
    for (const [g, members] of Object.entries(d.groups ?? {})) {
      if (!Array.isArray(members) || members.some((m) => typeof m !== 'string')) throw bad(`group ${g} must list user names`);
      groups.set(g, new Set(members as string[]));
    }
    if (!Array.isArray(d.access)) throw bad('needs an "access" list of {subjects, repositories, actions}');
    const rules = d.access.map((r: unknown, i: number): Rule => {
      const rule = r as { subjects?: unknown; repositories?: unknown; actions?: unknown };
      const strings = (v: unknown, field: string): string[] => {
        if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) throw bad(`access[${i}].${field} must be a non-empty list of strings`);
        return v as string[];
      };
      const subjects = strings(rule.subjects, 'subjects');
      for (const s of subjects) {
        if (!(s === 'anonymous' || s === 'authenticated' || /^(user|group):.+$/.test(s))) throw bad(`access[${i}]: subject "${s}" must be user:NAME, group:NAME, authenticated or anonymous`);
        if (s.startsWith('group:') && !groups.has(s.slice(6))) throw bad(`access[${i}]: group ${s.slice(6)} is not defined under "groups"`);
      }
      const actions = strings(rule.actions, 'actions');
      for (const a of actions) if (!ACTIONS.includes(a as Action)) throw bad(`access[${i}]: action "${a}" must be pull, push or delete`);
      return { subjects, repositories: strings(rule.repositories, 'repositories').map(globToRegExp), actions: new Set(actions as Action[]) };
    });
    return new Acl(rules, groups);
  }

  static async load(path: string): Promise<Acl> {
    return Acl.parse(await readFile(path, 'utf8'), path);
  }

  #matches(subject: string, user: string | undefined): boolean {
    if (subject === 'anonymous') return true;
    if (user === undefined) return false;
    if (subject === 'authenticated') return true;
    if (subject.startsWith('user:')) return subject.slice(5) === user;
    return this.#groups.get(subject.slice(6))?.has(user) ?? false;
  }

  /** The actions `user` (undefined: anonymous) may take on repository `name`. */
  actions(user: string | undefined, name: string): Set<Action> {
    const out = new Set<Action>();
    for (const r of this.#rules) {
      if (r.subjects.some((s) => this.#matches(s, user)) && r.repositories.some((re) => re.test(name))) {
        for (const a of r.actions) out.add(a);
      }
    }
    return out;
  }
}
