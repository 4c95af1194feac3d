/**
 * Every refusal of the CAS order operations, each from its real condition, through the official
 * CAS SDK on SQLite and PostgreSQL: hostile CSRs and fields (a clear 400 naming the parameter) in
 * each of the three submission actions, NotFoundPackage, NotRemainCount,
 * CreateCertificateRequestFailed, and the 500 `Error` of a broken database. After each refusal no row was written and no package unit was used.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sdkError } from '../support/alibaba.js';
import { Cas, casRows, casTenant, csrFor, domain, rawCall, type CasTenant } from '../support/cas.js';
import { ENGINES } from '../support/databases.js';
import { makeCsr, pemToDer, testKey } from '../support/pki.js';
import { startService, type TestService } from '../support/service.js';

/** A CSR whose signature no longer matches its content: the last byte of the signature flipped. */
function brokenSignatureCsr(cn: string): string {
  const der = pemToDer(csrFor(cn), 'req');
  der[der.length - 1] = der[der.length - 1]! ^ 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

const CONTACT = { username: 'Tom', phone: '13900001234', email: 'tom@example.com', validateType: 'DNS' };

for (const engine of ENGINES) {
  describe(`CAS refusals on ${engine}`, () => {
    let service: TestService;
    let tenant: CasTenant;

    before(async () => {
      service = await startService(engine, {
        config: {
          products: {
            'digicert-free-1-free': { issuer: 'lets_encrypt', wildcard: false },
            'geotrust-dv-w-starter': { issuer: 'lets_encrypt', wildcard: true },
            // An issuer profile the operator has not configured (no ACME directory).
            'globalsign-dv-w-advanced': { issuer: 'digicert_wildcard', wildcard: true },
          },
        },
      });
      tenant = await casTenant(service);
      await tenant.grant(100);
      await tenant.grant(100, 'geotrust-dv-w-starter');
    });
    after(() => service.stop());

    const submit = (cas: CasTenant['cas'], request: Record<string, unknown>) =>
      cas.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest(request));
    const used = async (cas: CasTenant['cas'], productCode?: string) => (await cas.describePackageState(new Cas.DescribePackageStateRequest({ productCode }))).body!.usedCount;

    /** Each call must fail with (code, 400-class status, message), and leave rows and units as they were. */
    async function expectRefusals(cases: Array<[label: string, call: () => Promise<unknown>, code: string, status: number, message: RegExp]>) {
      const rows = await casRows(service);
      const units = [await used(tenant.cas), await used(tenant.cas, 'geotrust-dv-w-starter')];
      for (const [label, call, code, status, message] of cases) {
        const err = await sdkError(call()).catch((e: Error) => assert.fail(`${label}: ${e.message}`));
        assert.deepEqual([err.code, err.statusCode], [code, status], `${label}: ${err.message}`);
        assert.match(String(err.data?.Message), message, label);
      }
      assert.deepEqual(await casRows(service), rows, 'nothing stored');
      assert.deepEqual([await used(tenant.cas), await used(tenant.cas, 'geotrust-dv-w-starter')], units, 'no unit consumed');
    }

    it('refuses hostile CSRs with a clear 400', async () => {
      const ok = domain();
      const withCsr = (csr: string) => () => submit(tenant.cas, { ...CONTACT, csr });
      await expectRefusals([
        ['a name with ..', withCsr(csrFor('www..example.com')), 'InvalidParameter.Csr', 400, /^csr: the CSR's CN "www\.\.example\.com" has an empty label/],
        ['an upper-case name', withCsr(csrFor('WWW.Example.com')), 'InvalidParameter.Csr', 400, /"WWW\.Example\.com" must be lower-case/],
        ['a trailing dot', withCsr(csrFor('www.example.com.')), 'InvalidParameter.Csr', 400, /"www\.example\.com\." must not end with a dot/],
        ['an upper-case SAN', withCsr(csrFor(ok, { sans: ['API.example.com'] })), 'InvalidParameter.Csr', 400, /subjectAltName "API\.example\.com" must be lower-case/],
        ['a SAN with ..', withCsr(csrFor(ok, { sans: ['a..example.com'] })), 'InvalidParameter.Csr', 400, /subjectAltName "a\.\.example\.com" has an empty label/],
        ['RSA 1024', withCsr(csrFor(ok, { key: testKey('rsa1024') })), 'InvalidParameter.Csr', 400, /^csr: unsupported key: RSA 1024 bits: at least 2048/],
        ['a P-521 key', withCsr(csrFor(ok, { key: testKey('p521') })), 'InvalidParameter.Csr', 400, /^csr: unsupported curve: .*accepted: P-256, P-384/],
        ['a broken signature', withCsr(brokenSignatureCsr(ok)), 'InvalidParameter.Csr', 400, /^csr: bad signature/],
        ['60 KB', withCsr(csrFor(ok) + 'A'.repeat(60 * 1024)), 'InvalidParameter.Csr', 400, /^csr: oversized input: \d+ bytes; a CSR may be at most 16384/],
        ['a path', withCsr('../../../etc/passwd'), 'InvalidParameter.Csr', 400, /^csr: not a CSR/],
        ['no CN', withCsr(makeCsr(testKey('p256'), { subject: '/O=Example' })), 'InvalidParameter.Csr', 400, /the CSR has no CN/],
        ['an IP SAN', withCsr(makeCsr(testKey('p256'), { subject: `/CN=${ok}`, addext: ['subjectAltName=IP:192.0.2.1'] })), 'InvalidParameter.Csr', 400, /names other than DNS names \(192\.0\.2\.1\)/],
        ['a CA request', withCsr(makeCsr(testKey('p256'), { subject: `/CN=${ok}`, addext: ['basicConstraints=critical,CA:TRUE'] })), 'InvalidParameter.Csr', 400, /asks for a CA certificate/],
        ['a public suffix', withCsr(csrFor('co.uk')), 'InvalidParameter.Csr', 400, /is a public suffix/],
        ['an IP address as CN', withCsr(csrFor('192.0.2.1')), 'InvalidParameter.Csr', 400, /only domain names are certified/],
        ['a wildcard the product does not allow', withCsr(csrFor(`*.${ok}`)), 'InvalidParameter.Csr', 400, /is a wildcard name; product digicert-free-1-free certifies no wildcard/],
        ['a wildcard with FILE', () => submit(tenant.cas, { ...CONTACT, validateType: 'FILE', productCode: 'geotrust-dv-w-starter', csr: csrFor(`*.${ok}`) }), 'InvalidParameter.ValidateType', 400, /only DNS validation can prove/],
      ]);
    });

    it('refuses missing, malformed and path-carrying fields with a clear 400', async () => {
      const csr = csrFor(domain());
      const call = (request: Record<string, unknown>) => () => submit(tenant.cas, request);
      const traversal = '../../../etc/passwd';
      await expectRefusals([
        ['no Csr', call({ ...CONTACT }), 'MissingCsr', 400, /Csr/],
        ['no Username', call({ ...CONTACT, csr, username: undefined }), 'MissingUsername', 400, /Username/],
        ['no Phone', call({ ...CONTACT, csr, phone: undefined }), 'MissingPhone', 400, /Phone/],
        ['no Email', call({ ...CONTACT, csr, email: undefined }), 'MissingEmail', 400, /Email/],
        ['no ValidateType', call({ ...CONTACT, csr, validateType: undefined }), 'MissingValidateType', 400, /ValidateType/],
        ['ValidateType HTTP', call({ ...CONTACT, csr, validateType: 'HTTP' }), 'InvalidParameter.ValidateType', 400, /must be one of DNS, FILE/],
        ['Username a path', call({ ...CONTACT, csr, username: traversal }), 'InvalidParameter.Username', 400, /must not contain a backslash or "\.\."/],
        ['Username with a line break', call({ ...CONTACT, csr, username: 'Tom\nINFO forged' }), 'InvalidParameter.Username', 400, /control characters/],
        ['Phone a path', call({ ...CONTACT, csr, phone: traversal }), 'InvalidParameter.Phone', 400, /must be a telephone number/],
        ['Phone letters', call({ ...CONTACT, csr, phone: 'call me' }), 'InvalidParameter.Phone', 400, /must be a telephone number/],
        ['Email a path', call({ ...CONTACT, csr, email: `${traversal}@example.com` }), 'InvalidParameter.Email', 400, /must be an email address/],
        ['Email without a domain', call({ ...CONTACT, csr, email: 'tom' }), 'InvalidParameter.Email', 400, /must be an email address/],
        ['Email with a bad domain', call({ ...CONTACT, csr, email: 'tom@exa..mple.com' }), 'InvalidParameter.Email', 400, /has an empty label/],
        ['ProductCode a path', call({ ...CONTACT, csr, productCode: traversal }), 'InvalidParameter.ProductCode', 400, /no certificate product "\.\.\/\.\.\/\.\.\/etc\/passwd" is offered/],
        ['ProductCode not offered', call({ ...CONTACT, csr, productCode: 'cfca-ev-w-advanced' }), 'InvalidParameter.ProductCode', 400, /products: digicert-free-1-free, geotrust-dv-w-starter, globalsign-dv-w-advanced/],
        ['a tag a path', call({ ...CONTACT, csr, tags: [{ key: traversal, value: 'x' }] }), 'InvalidParameter.Tags', 400, /must not contain a backslash or "\.\."/],
        ['a tag value a path', call({ ...CONTACT, csr, tags: [{ key: 'env', value: '..\\..\\boot.ini' }] }), 'InvalidParameter.Tags', 400, /must not contain/],
        ['CreateCertificateRequest: Domain a path', () => tenant.cas.createCertificateRequest(new Cas.CreateCertificateRequestRequest({ ...CONTACT, domain: traversal })), 'InvalidParameter.Domain', 400, /is not a valid domain name|empty label/],
        ['CreateCertificateRequest: two domains', () => tenant.cas.createCertificateRequest(new Cas.CreateCertificateRequestRequest({ ...CONTACT, domain: 'a.example.com,b.example.com' })), 'InvalidParameter.Domain', 400, /at most 1 are accepted/],
        ['CreateCertificateRequest: no Domain', () => tenant.cas.createCertificateRequest(new Cas.CreateCertificateRequestRequest({ ...CONTACT })), 'MissingDomain', 400, /Domain/],
        ['ForPackage: six domains', () => tenant.cas.createCertificateForPackageRequest(new Cas.CreateCertificateForPackageRequestRequest({ domain: 'a.example.com,b.example.com,c.example.com,d.example.com,e.example.com,f.example.com' })), 'InvalidParameter.Domain', 400, /at most 5/],
        ['ForPackage: mixed wildcard', () => tenant.cas.createCertificateForPackageRequest(new Cas.CreateCertificateForPackageRequestRequest({ productCode: 'geotrust-dv-w-starter', domain: '*.example.com,a.example.com' })), 'InvalidParameter.Domain', 400, /mixes wildcard and plain names/],
        ['ForPackage: neither Csr nor Domain', () => tenant.cas.createCertificateForPackageRequest(new Cas.CreateCertificateForPackageRequestRequest({})), 'InvalidParameter.Domain', 400, /give Domain, or Csr/],
        ['OrderId a path', () => tenant.cas.describeCertificateState(new Cas.DescribeCertificateStateRequest({ orderId: traversal as unknown as number })), 'InvalidParameter.OrderId', 400, /positive integer of at most 15 digits/],
        ['OrderId of 16 digits', () => tenant.cas.cancelOrderRequest(new Cas.CancelOrderRequestRequest({ orderId: '1234567890123456' as unknown as number })), 'InvalidParameter.OrderId', 400, /at most 15 digits/],
        ['Keyword a path', () => tenant.cas.listUserCertificateOrder(new Cas.ListUserCertificateOrderRequest({ keyword: traversal })), 'InvalidParameter.Keyword', 400, /must not contain/],
      ]);
    });

    it('refuses #13\'s hostile input through every submission action, each field a path included', async () => {
      const ok = domain();
      const traversal = '../../../etc/passwd';
      const forPackage = (request: Record<string, unknown>) => () =>
        tenant.cas.createCertificateForPackageRequest(new Cas.CreateCertificateForPackageRequestRequest(request));
      const single = (request: Record<string, unknown>) => () =>
        tenant.cas.createCertificateRequest(new Cas.CreateCertificateRequestRequest({ ...CONTACT, ...request }));
      const hostileCsrs: Array<[string, string, RegExp]> = [
        ['a name with ..', csrFor('www..example.com'), /has an empty label/],
        ['an upper-case name', csrFor('WWW.Example.com'), /must be lower-case/],
        ['a trailing dot', csrFor('www.example.com.'), /must not end with a dot/],
        ['RSA 1024', csrFor(ok, { key: testKey('rsa1024') }), /RSA 1024 bits: at least 2048/],
        ['a broken signature', brokenSignatureCsr(ok), /^csr: bad signature/],
        ['60 KB', csrFor(ok) + 'A'.repeat(60 * 1024), /^csr: oversized input/],
        ['a path', traversal, /^csr: not a CSR/],
      ];
      await expectRefusals([
        ...hostileCsrs.map(([label, csr, message]): [string, () => Promise<unknown>, string, number, RegExp] => [`ForPackage Csr: ${label}`, forPackage({ csr }), 'InvalidParameter.Csr', 400, message]),
        ['ForPackage Domain with ..', forPackage({ domain: 'www..example.com' }), 'InvalidParameter.Domain', 400, /has an empty label/],
        ['ForPackage Domain upper-case', forPackage({ domain: `${ok},WWW.${ok}` }), 'InvalidParameter.Domain', 400, /must be lower-case/],
        ['ForPackage Domain with a trailing dot', forPackage({ domain: `${ok}.` }), 'InvalidParameter.Domain', 400, /must not end with a dot/],
        ['ForPackage Domain a path', forPackage({ domain: traversal }), 'InvalidParameter.Domain', 400, /empty label|not a valid domain name/],
        ['ForPackage Username a path', forPackage({ domain: ok, username: traversal }), 'InvalidParameter.Username', 400, /must not contain/],
        ['ForPackage CompanyName a path', forPackage({ domain: ok, companyName: traversal }), 'InvalidParameter.CompanyName', 400, /must not contain/],
        ['ForPackage ProductCode a path', forPackage({ domain: ok, productCode: traversal }), 'InvalidParameter.ProductCode', 400, /is offered/],
        ['ForPackage ValidateType a path', forPackage({ domain: ok, validateType: traversal }), 'InvalidParameter.ValidateType', 400, /must be one of DNS, FILE/],
        // Not in this action's SDK model: sent as a raw parameter, as another client could.
        ['WithCsr CompanyName a path', () => rawCall(tenant.cas, 'CreateCertificateWithCsrRequest', { Csr: csrFor(ok), Username: 'Tom', Phone: '13900001234', Email: 'tom@example.com', ValidateType: 'DNS', CompanyName: traversal }), 'InvalidParameter.CompanyName', 400, /must not contain/],
        ['WithCsr ValidateType a path', () => submit(tenant.cas, { ...CONTACT, csr: csrFor(ok), validateType: traversal }), 'InvalidParameter.ValidateType', 400, /must be one of DNS, FILE/],
        ['CreateCertificateRequest Domain upper-case', single({ domain: `WWW.${ok}` }), 'InvalidParameter.Domain', 400, /must be lower-case/],
        ['CreateCertificateRequest Domain with a trailing dot', single({ domain: `${ok}.` }), 'InvalidParameter.Domain', 400, /must not end with a dot/],
        ['CreateCertificateRequest Username a path', single({ domain: ok, username: traversal }), 'InvalidParameter.Username', 400, /must not contain/],
        ['CreateCertificateRequest Email a path', single({ domain: ok, email: `${traversal}@example.com` }), 'InvalidParameter.Email', 400, /must be an email address/],
        ['CreateCertificateRequest Phone a path', single({ domain: ok, phone: traversal }), 'InvalidParameter.Phone', 400, /must be a telephone number/],
        ['CreateCertificateRequest ValidateType a path', single({ domain: ok, validateType: traversal }), 'InvalidParameter.ValidateType', 400, /must be one of DNS, FILE/],
      ]);
    });

    it('answers NotFoundPackage, NotRemainCount and CreateCertificateRequestFailed from their conditions', async () => {
      const poor = await casTenant(service, 'poor');
      const csr = () => csrFor(domain());
      await expectRefusals([
        ['no package at all', () => submit(poor.cas, { ...CONTACT, csr: csr() }), 'NotFoundPackage', 404, /holds no certificate resource package of product digicert-free-1-free/],
        ['no package: DescribePackageState', () => poor.cas.describePackageState(new Cas.DescribePackageStateRequest({})), 'NotFoundPackage', 404, /digicert-free-1-free/],
        ['no package of that product', () => submit(poor.cas, { ...CONTACT, csr: csr(), productCode: 'geotrust-dv-w-starter' }), 'NotFoundPackage', 404, /geotrust-dv-w-starter/],
        ['an issuer profile not configured', () => submit(tenant.cas, { ...CONTACT, csr: csr(), productCode: 'globalsign-dv-w-advanced' }), 'CreateCertificateRequestFailed', 403, /issuer profile digicert_wildcard, which has no ACME directory configured/],
        ['unknown order', () => tenant.cas.describeCertificateState(new Cas.DescribeCertificateStateRequest({ orderId: 123456789012345 })), 'NotFoundOrder', 404, /certificate order 123456789012345 does not exist/],
      ]);
      await poor.grant(1);
      await submit(poor.cas, { ...CONTACT, csr: csr() });
      const rows = await casRows(service);
      const err = await sdkError(submit(poor.cas, { ...CONTACT, csr: csr() }));
      assert.deepEqual([err.code, err.statusCode], ['NotRemainCount', 404]);
      assert.match(String(err.data?.Message), /all 1 certificates of the digicert-free-1-free resource packages are in use/);
      assert.deepEqual(await casRows(service), rows);
      const state = (await poor.cas.describePackageState(new Cas.DescribePackageStateRequest({}))).body!;
      assert.deepEqual([state.totalCount, state.usedCount, state.issuedCount], [1, 1, 0]);
      const audit = await service.app.audit.list(poor.accountId, 10);
      assert.ok(audit.some((e) => e.action === 'yundun-cert:CreateCertificateWithCsrRequest' && e.outcome === 'package.exhausted'), 'the refusal is on record');
    });

    it('answers a failing database with 500 Error, the request id and no detail', async () => {
      await service.app.database.db.schema.dropTable('cas_packages').execute();
      const err = await sdkError(tenant.cas.describePackageState(new Cas.DescribePackageStateRequest({})));
      assert.deepEqual([err.code, err.statusCode], ['Error', 500]);
      assert.match(String(err.data?.Message), /unknown error\. Quote the RequestId/);
      assert.ok(!String(err.data?.Message).includes('cas_packages'), 'the cause stays in the log');
    });
  });
}
