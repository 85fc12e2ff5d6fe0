import { registryConformance } from './conformance/suite.js';
import { distributionUnavailable, startDistribution } from './helpers/distribution.js';

/**
 * The same spec tests against Debian's docker-registry (distribution 2.8), the
 * peer Strata is measured against. Where 2.8 differs from the spec text it is
 * listed here, and those tests run as todo.
 */
const DIFFERENCES: Record<string, string> = {
  'blob Range requests answer 206 with Content-Range; unsatisfiable ranges 416': '2.8 closes the connection on an unsatisfiable range instead of answering 416',
  'a single POST with ?digest= stores the blob: 201 and a Location': '2.8 ignores the body of a single POST and answers 202 (allowed: registries MAY support it)',
  'a chunk out of order answers 416': '2.8 ignores Content-Range on PATCH and appends out-of-order chunks (202)',
  'pushing by digest with ?tag= creates the tags and lists them in OCI-Tag': '2.8 predates ?tag= on manifest PUT (spec 1.1)',
  'a manifest whose subject does not exist is accepted, with OCI-Subject': '2.8 predates the subject field: no OCI-Subject header',
  'a manifest over 4 MiB answers 413': '2.8 answers 400 MANIFEST_INVALID ("request body too large")',
  'tags/list: all tags in lexical order with the repository name': '2.8 lists tags in storage order, not sorted',
  'tags/list?n= returns n tags with a Link rel="next"; last= continues after that tag': '2.8 ignores n and last on tags/list',
  'tags/list?n=0 returns an empty list and no Link': '2.8 ignores n=0 and returns every tag',
  'DELETE of a tag answers 202, then the tag is gone and the manifest stays': '2.8 deletes by digest only: a tag gives 400 DIGEST_INVALID (allowed: tag deletion MAY be disabled, but then 400/405)',
  'lists manifests whose subject is the digest, with artifactType and annotations, as an OCI index': '2.8 has no referrers API (404)',
  'without an artifactType the config media type stands in': '2.8 has no referrers API (404)',
  'the artifactType filter applies and says so in OCI-Filters-Applied': '2.8 has no referrers API (404)',
  'no referrers is an empty index, not 404; a malformed digest is 400': '2.8 has no referrers API (404)',
  'deleting a referrer removes it from the list': '2.8 has no referrers API (404)',
};

if (distributionUnavailable()) {
  console.log(`# skipping distribution conformance: ${distributionUnavailable()}`);
} else {
  registryConformance('docker-registry 2.8', () => startDistribution(), DIFFERENCES);
}
