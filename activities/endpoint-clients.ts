/**
 * Hands activities a vendor client for a named endpoint profile, one cached client per profile so
 * tokens and connections are reused. An unknown profile or a vendor mismatch is the caller's
 * mistake: non-retryable, and no vendor call is made.
 */
import { ErrorTypes, nonRetryable } from '../lib/errors';
import { withArticle } from '../lib/text/article';
import type { EndpointProfile, EndpointRegistry } from '../lib/config/endpoints';

export class EndpointClients {
  private readonly cache = new Map<string, unknown>();

  constructor(
    readonly registry: EndpointRegistry,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  profile<V extends EndpointProfile['vendor']>(name: string, vendor: V): Extract<EndpointProfile, { vendor: V }> {
    const profile = this.registry.get(name);
    if (!profile) {
      throw nonRetryable(`unknown endpoint profile "${name}"; configured profiles: ${this.registry.names().join(', ') || '(none)'}`, ErrorTypes.unknownEndpoint);
    }
    if (profile.vendor !== vendor) {
      throw nonRetryable(`endpoint profile "${name}" is ${withArticle(profile.vendor)} endpoint, not ${withArticle(vendor)} one`, ErrorTypes.unknownEndpoint);
    }
    return profile as Extract<EndpointProfile, { vendor: V }>;
  }

  /** One client per profile name, built on first use. */
  client<V extends EndpointProfile['vendor'], C>(name: string, vendor: V, build: (profile: Extract<EndpointProfile, { vendor: V }>, env: NodeJS.ProcessEnv) => C): C {
    const key = `${vendor}:${name}`;
    let client = this.cache.get(key) as C | undefined;
    if (!client) {
      client = build(this.profile(name, vendor), this.env);
      this.cache.set(key, client);
    }
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.cache.values()) {
      const closable = client as { close?: () => Promise<void> };
      await closable.close?.();
    }
    this.cache.clear();
  }
}
