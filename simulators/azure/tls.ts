/** A self-signed certificate for the HTTPS simulator, made with openssl at start and reused after. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SimTls {
  key: string;
  cert: string;
  /** The PEM file a client's `tls.caFile` points at. */
  certFile: string;
}

export function findOpenssl(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.OPENSSL_PATH, '/usr/bin/openssl', '/usr/local/bin/openssl', '/opt/homebrew/bin/openssl'].filter(Boolean) as string[];
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return execFileSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).trim() || fail();
  } catch {
    return fail();
  }
}

function fail(): never {
  throw new Error('the Azure simulator serves HTTPS and needs openssl to make its self-signed certificate: install openssl or set OPENSSL_PATH');
}

export function ensureSelfSignedCert(dir: string, host = '127.0.0.1'): SimTls {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const san = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? `IP:${host}` : `DNS:${host}`;
    execFileSync(
      findOpenssl(),
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '825', '-subj', `/CN=${host}`, '-addext', `subjectAltName=${san},DNS:localhost,IP:127.0.0.1`],
      { stdio: 'pipe' },
    );
  }
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}
