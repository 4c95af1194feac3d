/**
 * Every operation of both dialects, sent parameters no client should send: each answer is a
 * documented client error (or a success), never an internal error. A NUL character (U+0000), which
 * PostgreSQL refuses in text, is refused up front by the name of the parameter that holds it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ACTION_TABLE } from '../../src/http/aliyun-rpc/table.js';
import { signAcs3 } from '../support/acs3.js';
import { send } from '../support/alibaba.js';
import { apigClient, certName, type ApigResponse } from '../support/apig.js';
import { ENGINES } from '../support/databases.js';
import { makeCa, makeLeaf } from '../support/openssl.js';
import { startService, tenant, type TestService } from '../support/service.js';

/** Every parameter name the RPC actions read. */
const PARAMS = [
  'AccessType', 'CasId', 'CertFilter', 'CertId', 'Certificate', 'CompanyName', 'Coverage', 'CSR', 'Csr', 'CurrentPage', 'Detail',
  'Domain', 'Domains', 'Email', 'ExpiryStatus', 'Hostnames', 'Id', 'InstanceId', 'Keyword', 'Name', 'OnlyEnterprise', 'OrderBy',
  'OrderId', 'OrderType', 'PageNumber', 'PageSize', 'Phone', 'PkeyType', 'PlanSubscribeType', 'PrivateKey', 'ProductCode',
  'RecordName', 'Region', 'ResourceGroupId', 'ShowSize', 'SiteId', 'SiteName', 'SiteSearchType', 'Status', 'TagFilter', 'Type',
  'Username', 'ValidateType', 'ValidityDays', 'ValidOnly',
];
const NUL = '\u0000';
/** Values of the wrong type, range or shape; each parameter of each action gets one of them in turn. */
const GARBAGE = [
  ' ', 'abc', '-1', '0', '1.5', '1e3', '99999999999999999999999', 'null', '[]', '{}', '["a"]', '[1,2]', '{"a":1}', '[null]',
  'x'.repeat(5000), '\u{1F600}', '%', 'true', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', '../../etc/passwd',
  '*.', 'a..b', `${'a'.repeat(300)}.com`, '["\\u0000"]', `a${NUL}b`,
];

for (const engine of ENGINES) {
  describe(`malformed parameters on ${engine}`, () => {
    let service: TestService;
    before(async () => {
      service = await startService(engine, { logLevel: 'info' });
    });
    after(() => service?.stop());

    /** Log lines at error level or above: an internal error would show here with its cause. */
    const errorLogs = () => service.logs().filter((line) => (JSON.parse(line) as { level: number }).level >= 50);

    it('RPC: every action answers each parameter of the wrong shape with a client error, a NUL by its name', async () => {
      const host = service.baseUrl.replace('http://', '');
      const account = await service.app.accounts.createAccount('malformed');
      const { key, secret } = await service.app.accounts.createAccessKey(account.id);
      const credentials = { accessKeyId: key.id, accessKeySecret: secret };
      const instanceId = (await service.app.plans.grant(account.id, 'enterprise')).id;
      const call = async (action: { name: string; version: string }, query: Record<string, string>) =>
        send(service.baseUrl, signAcs3({ method: 'POST', host, action: action.name, version: action.version, query }, credentials));
      const site = await call({ name: 'CreateSite', version: '2024-09-10' }, { SiteName: 'malformed-site.com', AccessType: 'CNAME', Coverage: 'global', InstanceId: instanceId });
      const siteId = String(site.json.SiteId);
      assert.match(siteId, /^\d+$/, site.body);

      const failures: string[] = [];
      let nulRefusals = 0;
      // Deletions last, so the site stays for the others.
      const actions = [...ACTION_TABLE.values()].sort((a, b) => Number(a.name.startsWith('Delete')) - Number(b.name.startsWith('Delete')));
      for (const [a, action] of actions.entries()) {
        for (const [p, param] of PARAMS.entries()) {
          for (const value of [`x${NUL}`, GARBAGE[(a + p) % GARBAGE.length]!]) {
            const query = { SiteId: siteId, [param]: value };
            const res = await call(action, query);
            const code = res.json.Code;
            if (res.status >= 500 || (res.status !== 200 && (typeof code !== 'string' || typeof res.json.Message !== 'string'))) {
              failures.push(`${action.name} ${param}=${JSON.stringify(value).slice(0, 40)} → ${res.status} ${res.body.slice(0, 200)}`);
            }
            if (value.includes(NUL) && code === `InvalidParameter.${param}`) {
              assert.match(String(res.json.Message), /must not contain a NUL character/);
              nulRefusals++;
            }
          }
        }
      }
      assert.deepEqual(failures, []);
      assert.deepEqual(errorLogs(), []);
      assert.ok(nulRefusals > 20, `NUL refused by name ${nulRefusals} times`);

      // The reads that reached the database with it before: each names its parameter.
      for (const [name, query] of [
        ['ListSites', { SiteName: `a${NUL}` }],
        ['ListSites', { ResourceGroupId: `rg${NUL}` }],
        ['GetCertificate', { SiteId: siteId, Id: `1${NUL}` }],
        ['ListCertificates', { SiteId: siteId, Keyword: NUL }],
      ] as const) {
        const res = await call({ name, version: '2024-09-10' }, query);
        const param = Object.keys(query).find((k) => (query as Record<string, string>)[k]!.includes(NUL))!;
        assert.equal(res.status, 400, `${name}: ${res.body}`);
        assert.equal(res.json.Code, `InvalidParameter.${param}`, `${name}: ${res.body}`);
      }
      // The legacy v1 signature reads its key id from the query, and looks it up before any check of the signature.
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const v1 = await fetch(
        `${service.baseUrl}/?Action=GetSite&Version=2024-09-10&SiteId=${siteId}&AccessKeyId=%00&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0` +
          `&SignatureNonce=n1&Timestamp=${encodeURIComponent(at)}&Signature=${encodeURIComponent(`${'A'.repeat(27)}=`)}`,
      );
      assert.equal(v1.status, 403, await v1.clone().text());
      assert.equal(((await v1.json()) as { Code: string }).Code, 'Unauthorized.InvalidToken');
      assert.deepEqual(errorLogs(), []);
      // Escaped inside a JSON parameter, too.
      const tags = await call({ name: 'ListSites', version: '2024-09-10' }, { TagFilter: JSON.stringify([{ Key: `k${NUL}`, Value: 'v' }]) });
      assert.equal(tags.json.Code, 'InvalidParameter.TagFilter', tags.body);
    });

    it('APIG: a NUL in the path, the query or the body is refused by its name, APIG.2012', async () => {
      const t = await tenant(service, 'malformed-apig');
      const apig = apigClient(service, t.projectId, t.token);
      const ca = makeCa({ alg: 'p256' });
      const leaf = makeLeaf({ issuer: ca });
      const created = await apig.create({ name: certName('nul'), cert_content: leaf.certPem, private_key: leaf.keyPem });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const id = String(created.body.id);
      const upload = { name: certName('nul'), cert_content: leaf.certPem, private_key: leaf.keyPem };
      const cases: Array<[string, Promise<ApigResponse>, string]> = [
        ...['name', 'common_name', 'signature_algorithm', 'instance_id', 'type', 'algorithm_type', 'expiry_status', 'limit', 'offset'].map(
          (q): [string, Promise<ApigResponse>, string] => [`list ?${q}`, apig.list(`${q}=%00`), q],
        ),
        ['show', apig.show('%00'), 'certificate_id'],
        ['show (id + NUL)', apig.show(`${id}%00`), 'certificate_id'],
        ['attached domains', apig.attached('%00'), 'certificate_id'],
        ['attached ?domain', apig.attached(id, 'domain=a%00'), 'domain'],
        ['delete', apig.remove('%00'), 'certificate_id'],
        ['create name', apig.create({ ...upload, name: `a${NUL}b` }), 'name'],
        ['create instance_id', apig.create({ ...upload, type: 'instance', instance_id: `i${NUL}` }), 'instance_id'],
        ['update instance_id', apig.update(id, { ...upload, instance_id: NUL }), 'instance_id'],
        ['attach domain', apig.attach(id, [{ domain: `a${NUL}.com` }]), 'domains.0.domain'],
        ['attach instance_ids', apig.attach(id, [{ domain: 'a.com', instance_ids: [NUL] }]), 'domains.0.instance_ids.0'],
        ['detach domain', apig.detach(id, [{ domain: `a${NUL}.com` }]), 'domains.0.domain'],
      ];
      for (const [what, answer, parameter] of cases) {
        const res = await answer;
        assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error_code, 'APIG.2012', what);
        assert.match(String(res.body.error_msg), new RegExp(`parameterName:${parameter.replace(/\./g, '\\.')}\\. .*must not contain a NUL character`), what);
      }
      // The PEM fields are the certificate reader's: a NUL inside a PEM block makes it no certificate.
      const broken = (pem: string) => pem.replace('\n', `\n${NUL}`);
      for (const field of ['cert_content', 'private_key', 'trusted_root_ca'] as const) {
        const pem = field === 'cert_content' ? leaf.certPem : field === 'private_key' ? leaf.keyPem : ca.certPem;
        const res = await apig.create({ ...upload, [field]: broken(pem) });
        assert.equal(res.status, 400, `${field}: ${JSON.stringify(res.body)}`);
        assert.match(String(res.body.error_code), /^APIG\.21\d\d$/, `${field}: ${JSON.stringify(res.body)}`);
      }
      assert.equal((await apig.list()).body.total, 1, 'nothing was stored');
      assert.deepEqual(errorLogs(), []);
    });
  });
}
