/**
 * Endpoint profiles: what a workflow input names instead of a URL and a secret. They live in the
 * worker's config file and environment only; nothing here is ever passed to a workflow.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { readLocalStack } from './local-stack';
import { formatZodIssues } from '../schema';
import type { SecretRef } from './profile-parts';
import { altaroProfile, type AltaroProfile } from './profiles/altaro';
import { azureProfile, type AzureProfile } from './profiles/azure';
import { manageiqProfile, type ManageiqProfile } from './profiles/manageiq';
import { onappProfile, type OnappProfile } from './profiles/onapp';
import { ovirtProfile, type OvirtProfile } from './profiles/ovirt';

/** One profile shape per vendor, each in its own file under profiles/. */
export const endpointProfile = z.discriminatedUnion('vendor', [ovirtProfile, altaroProfile, azureProfile, onappProfile, manageiqProfile]);
export type EndpointProfile = z.infer<typeof endpointProfile>;
export type { OvirtProfile, AltaroProfile, AzureProfile, OnappProfile, ManageiqProfile };

export const endpointsFile = z.object({ endpoints: z.record(z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i), endpointProfile) });

export class EndpointRegistry {
  constructor(private readonly profiles: Record<string, EndpointProfile>) {}

  static fromObject(raw: unknown, source = 'endpoints config'): EndpointRegistry {
    const parsed = endpointsFile.safeParse(raw);
    if (!parsed.success) throw new Error(`${source} is invalid: ${formatZodIssues(parsed.error)}`);
    return new EndpointRegistry(parsed.data.endpoints);
  }

  /**
   * Reads BACKUP_ENDPOINTS_FILE, else the profiles the running local stack's worker reads (npm
   * start's, so the CLI lists the simulators where they really listen), else config/endpoints.json,
   * else the simulators' demo profiles; `BACKUP_ENDPOINTS_JSON` (a whole file's content) replaces
   * it for containers.
   */
  static load(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): EndpointRegistry {
    if (env.BACKUP_ENDPOINTS_JSON) return EndpointRegistry.fromObject(JSON.parse(env.BACKUP_ENDPOINTS_JSON), 'BACKUP_ENDPOINTS_JSON');
    const candidates = [env.BACKUP_ENDPOINTS_FILE, readLocalStack(env)?.endpointsFile, 'config/endpoints.json', 'config/endpoints.simulators.json'];
    for (const candidate of candidates) {
      if (!candidate) continue;
      const path = resolve(cwd, candidate);
      if (existsSync(path)) return EndpointRegistry.fromObject(JSON.parse(readFileSync(path, 'utf8')), path);
      if (candidate === env.BACKUP_ENDPOINTS_FILE) throw new Error(`BACKUP_ENDPOINTS_FILE ${path} does not exist`);
    }
    throw new Error('no endpoint profiles: create config/endpoints.json or set BACKUP_ENDPOINTS_FILE');
  }

  names(): string[] {
    return Object.keys(this.profiles).sort();
  }

  get(name: string): EndpointProfile | undefined {
    return this.profiles[name];
  }

  /** What may be shown to anyone: no secrets, no secret references. */
  publicList(): Array<{ name: string; vendor: string; url: string; apiVersion?: string; description?: string }> {
    return this.names().map((name) => {
      const p = this.profiles[name]!;
      return { name, vendor: p.vendor, url: p.url, apiVersion: 'apiVersion' in p ? (p.apiVersion as string | undefined) : undefined, description: p.description };
    });
  }
}

export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if (ref.value !== undefined) return ref.value;
  const value = env[ref.env!];
  if (!value) throw new Error(`environment variable ${ref.env} (an endpoint secret) is not set`);
  return value;
}

export function readCaFile(profile: { tls?: { caFile?: string; insecure?: boolean } }): { ca?: string; insecure?: boolean } | undefined {
  if (!profile.tls) return undefined;
  return { ca: profile.tls.caFile ? readFileSync(profile.tls.caFile, 'utf8') : undefined, insecure: profile.tls.insecure };
}
