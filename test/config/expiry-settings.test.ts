import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';

describe('expiry and webhook settings', () => {
  it('default to a 30-day window, an hourly scan, 10 s and 12 attempts per delivery', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(
      [config.expiringDays, config.expiryScanMinutes, config.webhookTimeoutSeconds, config.webhookMaxAttempts],
      [30, 60, 10, 12],
    );
  });

  it('are read from CERTPLANE_EXPIRING_DAYS, _EXPIRY_SCAN_MINUTES, _WEBHOOK_TIMEOUT_SECONDS and _WEBHOOK_MAX_ATTEMPTS', () => {
    const config = loadConfig({
      env: {
        CERTPLANE_EXPIRING_DAYS: '14',
        CERTPLANE_EXPIRY_SCAN_MINUTES: '5',
        CERTPLANE_WEBHOOK_TIMEOUT_SECONDS: '3',
        CERTPLANE_WEBHOOK_MAX_ATTEMPTS: '4',
      },
    });
    assert.deepEqual([config.expiringDays, config.expiryScanMinutes, config.webhookTimeoutSeconds, config.webhookMaxAttempts], [14, 5, 3, 4]);
  });

  it('refuse values out of range, naming the variable', () => {
    for (const [name, value] of [
      ['CERTPLANE_EXPIRING_DAYS', '0'],
      ['CERTPLANE_EXPIRY_SCAN_MINUTES', '1441'],
      ['CERTPLANE_WEBHOOK_TIMEOUT_SECONDS', 'ten'],
      ['CERTPLANE_WEBHOOK_MAX_ATTEMPTS', '101'],
    ] as const) {
      assert.throws(() => loadConfig({ env: { [name]: value } }), new RegExp(name));
    }
  });
});
