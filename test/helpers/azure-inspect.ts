/**
 * Looks at the Azure simulator through its ARM API, as an admin with a token would: protected
 * items, jobs, recovery points (and their ILR sessions), restored VMs and disks.
 */
import { Agent, request } from 'undici';
import { readFileSync } from 'node:fs';
import { AZURE_DEMO } from '../../simulators/azure';
import type { Simulator } from '../../simulators/framework/simulator';
import type { AzureState } from '../../simulators/azure';
import { AZURE_TEST_SECRET } from './azure-harness';

export class ArmInspector {
  private token?: string;
  private readonly agent: Agent;
  constructor(
    private readonly sim: { simulator: Simulator; state: AzureState; certFile?: string },
    private readonly secret = AZURE_TEST_SECRET,
  ) {
    this.agent = new Agent({ connect: sim.certFile ? { ca: readFileSync(sim.certFile, 'utf8') } : undefined });
  }

  get vault(): string {
    return `/subscriptions/${AZURE_DEMO.subscriptionId}/resourceGroups/${AZURE_DEMO.resourceGroup}/providers/Microsoft.RecoveryServices/vaults/${AZURE_DEMO.vaultName}`;
  }

  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: any }> {
    if (!this.token) {
      const res = await request(`${this.sim.simulator.url}/${AZURE_DEMO.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: AZURE_DEMO.clientId, client_secret: this.secret, scope: `${this.sim.simulator.url}/.default` }).toString(),
      });
      this.token = ((await res.body.json()) as { access_token: string }).access_token;
    }
    const url = /^https?:/.test(path) ? path : `${this.sim.simulator.url}${path}${path.includes('?') ? '&' : '?'}api-version=2023-06-01`;
    const res = await request(url, {
      method: method as 'GET',
      dispatcher: this.agent,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  }

  async get(path: string): Promise<any> {
    const r = await this.raw('GET', path);
    if (r.status !== 200) throw new Error(`GET ${path} → ${r.status}: ${JSON.stringify(r.json)}`);
    return r.json;
  }

  async protectedItems(): Promise<Array<{ name: string; properties: { friendlyName: string; protectionState: string } }>> {
    return (await this.get(`${this.vault}/backupProtectedItems?$filter=${encodeURIComponent("backupManagementType eq 'AzureIaasVM'")}`)).value;
  }

  async jobs(): Promise<Array<{ name: string; properties: { operation: string; status: string; entityFriendlyName: string } }>> {
    return (await this.get(`${this.vault}/backupJobs`)).value;
  }

  itemPath(vm: string, rg: string = AZURE_DEMO.vmResourceGroup): string {
    return `${this.vault}/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;${rg};${vm}/protectedItems/VM;iaasvmcontainerv2;${rg};${vm}`;
  }

  async recoveryPoints(vm: string): Promise<Array<{ name: string; properties: { recoveryPointTime: string; isInstantIlrSessionActive: boolean } }>> {
    return (await this.get(`${this.itemPath(vm)}/recoveryPoints`)).value;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
