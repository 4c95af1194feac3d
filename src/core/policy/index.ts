export {
  InvalidPolicyError,
  MAX_POLICY_LENGTH,
  parsePolicyDocument,
  policyDocumentSchema,
  type Effect,
  type PolicyDocument,
  type PolicyIssue,
  type PolicyStatement,
} from './policy.js';
export { evaluate, type Decision, type Evaluation, type MatchedStatement } from './evaluate.js';
export { acsResource, apigCertificateResource, casResource, siteResource, CAS_SERVICE, ESA_SERVICE, type CasResourceKind } from './resource.js';
