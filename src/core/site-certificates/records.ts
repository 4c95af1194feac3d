import { errors } from '../../kernel/errors.js';
import { coversDomain } from '../certificates/domains.js';
import { parseCertificateName } from './domains.js';
import { isValid, namesOf, statusOf, type SiteCertificate, type SiteCertificateStatus } from './model.js';

/**
 * How a record stands: `configured` when a usable certificate answers for it, else `applying` when
 * one is being applied for, else `failed` when an application failed, else `none`.
 */
export type RecordStatus = 'none' | 'configured' | 'applying' | 'failed';

export interface RecordMatch {
  recordName: string;
  status: RecordStatus;
  /** Matching certificates that are applying (whether or not `validOnly` shows them). */
  applying: number;
  certificates: Array<{ certificate: SiteCertificate; status: SiteCertificateStatus }>;
}

/** `RecordName`: comma-separated host names (a wildcard record such as `*.example.com` included). */
export function parseRecordNames(text: string, max: number): string[] {
  const entries = text.split(',');
  if (entries.length > max) throw errors.invalidParameter('recordName', `${entries.length} record names given, more than the ${max} accepted (limits.domains)`);
  return entries.map((entry) => {
    const name = parseCertificateName(entry);
    if (name === undefined) throw errors.invalidParameter('recordName', `${JSON.stringify(entry.trim())} is not a valid record name`);
    return name;
  });
}

/** Each record's certificates: those whose names cover it (the same name, or a wildcard one label up). */
// The expiring window does not matter here: `ok` and `expiring` are both valid.
export function matchRecords(records: string[], certificates: SiteCertificate[], now: Date, validOnly: boolean): RecordMatch[] {
  const judged = certificates.map((certificate) => ({ certificate, status: statusOf(certificate, now, 0) }));
  return records.map((recordName) => {
    const all = judged.filter(({ certificate }) => coversDomain(namesOf(certificate), recordName));
    const shown = validOnly ? all.filter(({ status }) => isValid(status)) : all;
    const applying = all.filter(({ status }) => status === 'applying').length;
    let status: RecordStatus = 'none';
    if (all.some(({ status: s }) => isValid(s))) status = 'configured';
    else if (applying > 0) status = 'applying';
    else if (all.some(({ status: s }) => s === 'apply_failed')) status = 'failed';
    return { recordName, status, applying, certificates: shown };
  });
}
